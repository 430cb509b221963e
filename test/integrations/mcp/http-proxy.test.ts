import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CLI } from "../../support/processes.ts";
import { FIXTURE, rpcError, workdir } from "./support.ts";

/** Starts a process and resolves with the first match of `pattern` in its output (stdout or stderr). */
function startUntil(args: string[], env: NodeJS.ProcessEnv, pattern: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray; output: () => string }> {
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in: ${out}`)), 30_000);
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = pattern.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, match: m, output: () => out });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

const sha256 = (t: string) => createHash("sha256").update(t).digest("hex");

describe("agent-auth mcp-proxy over Streamable HTTP", function () {
  this.timeout(120_000);
  const work = workdir();
  let upstream: ChildProcess;
  let proxy: ChildProcess;
  let url: string;

  before(async () => {
    const fixture = await startUntil([FIXTURE, "--http", "0"], { ...process.env, FIXTURE_LOG: work.log }, /listening (\d+)/);
    upstream = fixture.child;
    const clients = join(work.dir, "clients.yaml");
    writeFileSync(
      clients,
      `clients:\n  claude-alice: {tokens_sha256: ["${sha256("alice-token")}"], agent: claude, user: alice}\n  intruder: {tokens_sha256: ["${sha256("other-token")}"], agent: stranger, user: mallory}\n`,
    );
    const started = await startUntil(
      [CLI, "-c", work.policy, "mcp-proxy", "--name", "files", "--listen", "127.0.0.1:0", "--upstream", `http://127.0.0.1:${fixture.match[1]}/mcp`, "--clients", clients],
      process.env,
      /serving (http:\/\/\S+)/,
    );
    proxy = started.child;
    url = started.match[1]!;
  });
  after(async () => {
    for (const c of [proxy, upstream]) {
      c.kill("SIGTERM");
      if (c.exitCode === null) await new Promise((r) => c.once("exit", r));
    }
  });

  async function connect(token: string): Promise<Client> {
    const client = new Client({ name: "http-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    return client;
  }

  it("decides as the agent and user the client's token names: lists, allows, denies, asks for approval", async () => {
    const client = await connect("alice-token");
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).to.include("transfer").and.not.include("delete_file");
      const r = await client.callTool({ name: "echo", arguments: { text: "over http" } });
      expect((r.content as { text: string }[])[0]!.text).to.equal('{"text":"over http"}');
      const denied = await rpcError(client.callTool({ name: "delete_file", arguments: { path: "x" } }));
      expect([denied.code, denied.data!["reason"]]).to.deep.equal([-32001, "Action 'files:delete_file' denied by profile 'claude'"]);
      const approval = await rpcError(client.callTool({ name: "transfer", arguments: { to: "x", amount: 99999 } }));
      expect([approval.code, approval.data!["requires_approval"], (approval.data!["approval"] as { status: string }).status]).to.deep.equal([-32001, true, "pending"]);
      const reached = work.calls().filter((c) => c["tool"] !== undefined).map((c) => c["tool"]);
      expect(reached).to.deep.equal(["echo"]);
    } finally {
      await client.close();
    }
  });

  it("a token that names another agent gets that agent's decisions", async () => {
    const client = await connect("other-token");
    try {
      expect((await client.listTools()).tools).to.deep.equal([]);
      const e = await rpcError(client.callTool({ name: "echo", arguments: {} }));
      expect(e.data!["reason"]).to.equal("Action 'files:echo' not authorized for agent 'stranger'");
    } finally {
      await client.close();
    }
  });

  it("refuses a request without a known token (401), and a session used with another client's token (403)", async () => {
    const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    const none = await fetch(url, { method: "POST", headers, body: JSON.stringify(init) });
    expect([none.status, none.headers.get("www-authenticate")]).to.deep.equal([401, 'Bearer realm="agent-auth mcp-proxy"']);
    const wrong = await fetch(url, { method: "POST", headers: { ...headers, authorization: "Bearer nope" }, body: JSON.stringify(init) });
    expect(wrong.status).to.equal(401);
    const opened = await fetch(url, { method: "POST", headers: { ...headers, authorization: "Bearer alice-token" }, body: JSON.stringify(init) });
    expect(opened.status).to.equal(200);
    const session = opened.headers.get("mcp-session-id")!;
    await opened.body?.cancel();
    const stolen = await fetch(url, { method: "POST", headers: { ...headers, authorization: "Bearer other-token", "mcp-session-id": session }, body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" }) });
    expect(stolen.status).to.equal(403);
    const malformed = await fetch(url, { method: "POST", headers: { ...headers, authorization: "Bearer alice-token", "mcp-session-id": session }, body: "{not json" });
    expect([malformed.status, ((await malformed.json()) as { error: { code: number } }).error.code]).to.deep.equal([400, -32700]);
  });
});
