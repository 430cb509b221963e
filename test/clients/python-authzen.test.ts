import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { expect } from "chai";
import type { AgentAuthServer } from "../../src/server/app/start-server.ts";
import { startTestServer } from "../support/server.ts";

const PYTHON = "/usr/bin/python3";
const CLIENT = "examples/clients/python/authzen_client.py";

/** Runs the standard-library client without blocking this process (the server runs in it). */
function runClient(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // -I: isolated from the environment and user site-packages: the standard library alone.
    execFile(PYTHON, ["-I", CLIENT, ...args], { timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ status: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }),
    );
  });
}

describe("Python standard-library client of the AuthZEN API (examples/clients/python/authzen_client.py)", function () {
  this.timeout(60_000);
  let server: AgentAuthServer;

  before(async function () {
    if (!existsSync(PYTHON)) {
      if (process.env["CI"] === "true") throw new Error(`${PYTHON} is required in CI`);
      process.stdout.write(`  Python AuthZEN client suite skipped: ${PYTHON} not found.\n`);
      this.skip();
    }
    const started = await startTestServer({
      http: { port: 0 },
      callers: [{ name: "py-gateway", tokenHashes: [createHash("sha256").update("py-token").digest("hex")], certificates: [], groups: new Set(["authorize", "approvals"] as const) }],
    });
    server = started.server;
    started.client.close();
  });
  after(async () => server?.close(1000));

  it("discovers the endpoints, evaluates one request and a batch, with the bearer token and request id", async () => {
    const r = await runClient([server.http!.url, "assistant", "alice", "read", "/docs/1", "py-token"]);
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal({
      status: 200,
      request_id: "py-1",
      decision: true,
      reason: "Allowed by profile 'assistant'",
      error: null,
      batch: [true, false],
      batch_reasons: ["Allowed by profile 'assistant'", "Action 'delete' denied by profile 'assistant'"],
      access_request: null,
    });
    const recorded = (await server.hub.query({ limit: 1000 })).entries.map((e) => e.event.origin);
    expect(recorded).to.deep.include({ transport: "http", requestId: "py-1", caller: "py-gateway" });
  });

  it("submits the access request a requestable deny offers, and reads the pending task", async () => {
    const r = await runClient([server.http!.url, "deployer", "alice", "deploy", "/staging/app", "py-token"]);
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout);
    expect(out).to.deep.include({ status: 200, decision: false, access_request: { status: 201, problem: null, task_status: "pending" } });
    const pending = await server.engine.listApprovals({ status: "pending", agent: "deployer", user: "alice" }, { limit: 10 });
    expect(pending.tasks.map((t) => [t.justification, t.requestedBy])).to.deep.include(["asked by the Python example", "py-gateway"]);
  });

  it("sees a 401 without the token, as the standard says", async () => {
    const r = await runClient([server.http!.url, "assistant", "alice", "read", "/docs/1"]);
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.include({ status: 401, decision: null, error: "caller not authenticated: no bearer token and no client certificate" });
  });
});
