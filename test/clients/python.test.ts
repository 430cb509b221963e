import { expect } from "chai";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentAuthServer } from "../../src/server/app/start-server.ts";
import { startTestServer } from "../support/server.ts";

const PYTHON = "/usr/bin/python3";
const NEEDED = ["/usr/bin/protoc", "/usr/bin/grpc_python_plugin", PYTHON];

function pythonGrpcAvailable(): boolean {
  if (!NEEDED.every((f) => existsSync(f))) return false;
  return spawnSync(PYTHON, ["-c", "import grpc, google.protobuf"], { stdio: "ignore" }).status === 0;
}

/** Runs the example client without blocking this process (the server runs in it). */
function runClient(address: string, stubs: string, action: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(PYTHON, ["examples/clients/python/client.py", address, "assistant", "alice", action], { env: { ...process.env, PYTHONPATH: stubs }, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ status: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }),
    );
  });
}

describe("Python client (examples/clients/python)", function () {
  this.timeout(120_000);
  let stubs: string;
  let server: AgentAuthServer;
  let address: string;

  before(async function () {
    if (!pythonGrpcAvailable()) {
      if (process.env["CI"] === "true") throw new Error(`Python gRPC tooling is required in CI: ${NEEDED.join(", ")} and python3-grpcio`);
      process.stdout.write("  Python client suite skipped: install protobuf-compiler protobuf-compiler-grpc python3-grpcio (.ci/run does).\n");
      this.skip();
    }
    stubs = mkdtempSync(join(tmpdir(), "agent-auth-pystubs-"));
    execFileSync("examples/clients/python/generate.sh", [stubs], { stdio: "pipe" });
    const started = await startTestServer();
    server = started.server;
    started.client.close();
    address = `127.0.0.1:${server.port}`;
  });
  after(async () => {
    if (stubs !== undefined) rmSync(stubs, { recursive: true, force: true });
    await server?.close(1000);
  });

  it("creates a session, authorizes inside it, and reads the decision from Subscribe", async () => {
    const r = await runClient(address, stubs, "read");
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as Record<string, string | null>;
    expect(out).to.deep.include({ session_status: "SESSION_STATUS_ACTIVE", effect: "EFFECT_ALLOW", tier: "TIER_AUTONOMOUS", reason: "Allowed by profile 'assistant'" });
    expect(out["streamed_decision_id"]).to.equal(out["decision_id"]);
    expect(out["streamed_session_id"]).to.equal(out["session_id"]);
    expect(out["streamed_cursor"]).to.match(/^\d+-\d+@[0-9a-z]+$/);
  });

  it("sees denials and reasons exactly as the Node client does", async () => {
    const r = await runClient(address, stubs, "delete");
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.include({ effect: "EFFECT_DENY", tier: "TIER_AUTONOMOUS", reason: "Action 'delete' denied by profile 'assistant'" });
  });
});
