import { expect } from "chai";
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { startTestServer } from "../support/server.ts";
import { readFileSync } from "node:fs";

const run = promisify(execFile);

/** The examples run as the README says, against this checkout's build (the package refers to itself by name). */
describe("examples/node and examples/mcp, run as the README says", function () {
  this.timeout(120_000);

  it("node examples/node/agent-loop.mjs: guarded tools run, need approval or are denied", async () => {
    const { stdout } = await run(process.execPath, ["examples/node/agent-loop.mjs"]);
    const lines = stdout.trim().split("\n");
    expect(lines.map((l) => l.split(/\s+/, 2).join(" "))).to.deep.equal(["ran lookup_order", "ran refund", "approval refund:", "approval send_email:", "denied delete_customer:", "approved refund:", "ran refund"]);
    expect(lines[2]).to.match(/needs strong approval \(large-refund\), task [0-9a-f-]{36} pending$/);
    expect(lines[4]).to.match(/denied by profile 'support-bot' \(decision [0-9a-f-]{36}\)$/);
    expect(lines[5]).to.equal(`approved refund: task ${/task ([0-9a-f-]{36})/.exec(lines[2]!)![1]} by sec-lead`);
    expect(lines[6]).to.contain('"amount":900').and.contain('{"refunded":900}');
  });

  it("the agent loop asks a server instead with AGENT_AUTH_SERVER", async () => {
    const { server, client } = await startTestServer({}, readFileSync("examples/node/policy.yaml", "utf8").replace("audit:\n  enabled: false", "audit: {enabled: false}"));
    try {
      const { stdout } = await run(process.execPath, ["examples/node/agent-loop.mjs"], { env: { ...process.env, AGENT_AUTH_SERVER: `127.0.0.1:${server.port}` } });
      expect(stdout).to.contain("ran      refund").and.contain("denied   delete_customer").and.contain("approved refund: task");
      expect(stdout.trim().split("\n").at(-1)).to.contain('{"refunded":900}');
      const page = await client.audit.query({ filter: { agents: ["support-bot"] } });
      const redeemed = page.events.filter((e) => e.decision?.approvedBy === "sec-lead");
      expect(redeemed.map((e) => [e.action, e.decision?.requiresApproval])).to.deep.equal([["refund", false]]);
    } finally {
      client.close();
      await server.close();
    }
  });

  it("node examples/node/express-api.mjs: the orders API answers 200, 403 denied and 403 approval", async () => {
    const child = spawn(process.execPath, ["examples/node/express-api.mjs"], { env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "inherit"] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (c: Buffer) => {
          out += c.toString();
          const m = /listening on (http:\S+)/.exec(out);
          if (m !== null) resolve(m[1]!);
        });
        child.once("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const agent = { "X-Agent-Name": "support-bot", "X-User-Name": "carol" };
      const get = await fetch(`${url}/orders/A-1001`, { headers: agent });
      expect([get.status, ((await get.json()) as { status: string }).status]).to.deep.equal([200, "shipped"]);
      const del = await fetch(`${url}/orders/A-1001`, { method: "DELETE", headers: agent });
      expect([del.status, ((await del.json()) as { error: string }).error]).to.deep.equal([403, "Authorization denied"]);
      const big = await fetch(`${url}/orders/A-1001/refund?amount=500`, { method: "POST", headers: agent });
      expect([big.status, ((await big.json()) as { error: string; tier: string }).tier]).to.deep.equal([403, "strong"]);
      const small = await fetch(`${url}/orders/A-1001/refund?amount=20`, { method: "POST", headers: agent });
      expect(small.status).to.equal(200);
      const anonymous = await fetch(`${url}/orders/A-1001`);
      expect(anonymous.status).to.equal(400);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });

  it("node examples/mcp/demo-client.mjs: the configured proxy lists, allows, asks for approval and denies", async () => {
    const { stdout } = await run(process.execPath, ["examples/mcp/demo-client.mjs"]);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).to.equal("tools listed: list_files, read_file, write_file");
    expect(lines[1]).to.equal("read_file: # Welcome");
    expect(lines[2]).to.match(/^write_file: needs soft approval \(writes\) \[JSON-RPC -32001, decision [0-9a-f-]{36}\]$/);
    expect(lines[3]).to.match(/^delete_file: refused: Action 'notes:delete_file' denied by profile 'claude-desktop' \[JSON-RPC -32001/);
  });
});
