import { expect } from "chai";
import { spawn } from "node:child_process";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { startTestServer } from "../../support/server.ts";
import { createAgentAuthClient } from "../../../src/client/index.ts";
import { connectStdio, MCP_POLICY, proxyArgs, rpcError, workdir } from "./support.ts";
import { CLI } from "../../support/processes.ts";

const toolCalls = (calls: Record<string, unknown>[], tool?: string) => calls.filter((c) => c["tool"] !== undefined && (tool === undefined || c["tool"] === tool));

describe("agent-auth mcp-proxy over stdio, deciding in process (-c)", function () {
  this.timeout(120_000);
  const work = workdir();
  let client: Client;
  let stderr: () => string;
  before(async () => {
    ({ client, stderr } = await connectStdio(proxyArgs(["-c", work.policy]), work.log));
  });
  after(() => client.close());

  it("lists only the tools the agent may call; those needing approval stay", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).to.deep.equal(["bad_answer", "crash", "echo", "garbage", "transfer"]);
  });

  it("forwards an allowed call: it reaches the server and its answer comes back", async () => {
    const before = toolCalls(work.calls(), "echo").length;
    const r = await client.callTool({ name: "echo", arguments: { text: "hi" } });
    expect((r.content as { text: string }[])[0]!.text).to.equal('{"text":"hi"}');
    expect(toolCalls(work.calls(), "echo").length).to.equal(before + 1);
  });

  it("answers a denied call with -32001, the reason and the decision id; the server never sees it", async () => {
    const e = await rpcError(client.callTool({ name: "delete_file", arguments: { path: "/etc/passwd" } }));
    expect(e.code).to.equal(-32001);
    expect(e.message).to.contain("agent-auth denied tools/call 'delete_file': Action 'files:delete_file' denied by profile 'claude'");
    expect(e.data!["reason"]).to.equal("Action 'files:delete_file' denied by profile 'claude'");
    expect(e.data!["decision_id"]).to.match(/^[0-9a-f-]{36}$/);
    expect(e.data!["requires_approval"]).to.equal(false);
    expect(toolCalls(work.calls(), "delete_file")).to.deep.equal([]);
  });

  it("decides with the arguments as metadata: a big transfer needs approval (-32001, requires_approval) and is not forwarded", async () => {
    const e = await rpcError(client.callTool({ name: "transfer", arguments: { to: "mallory", amount: 5000 } }));
    expect(e.code).to.equal(-32001);
    expect([e.data!["requires_approval"], e.data!["tier"], e.data!["approval_policy"]]).to.deep.equal([true, "strong", "big-transfer"]);
    expect(e.data!["decision_id"]).to.match(/^[0-9a-f-]{36}$/);
    // Deciding in process, the proxy still requests the task, and says that only --server lets an approver reach it.
    const approval = e.data!["approval"] as { id: string; status: string; console_url?: string };
    expect([approval.status, approval.console_url]).to.deep.equal(["pending", undefined]);
    expect(e.message).to.contain(`approval ${approval.id} is pending`);
    expect(e.data!["note"]).to.contain("run it with --server H:P where approvals must be granted");
    const again = await rpcError(client.callTool({ name: "transfer", arguments: { to: "mallory", amount: 5000 } }));
    expect((again.data!["approval"] as { id: string }).id).to.equal(approval.id);
    const small = await client.callTool({ name: "transfer", arguments: { to: "bob", amount: 10 } });
    expect((small.content as { text: string }[])[0]!.text).to.equal("sent 10 to bob");
    expect(toolCalls(work.calls(), "transfer").map((c) => c["args"])).to.deep.equal([{ to: "bob", amount: 10 }]);
  });

  it("decides resources/read and prompts/get; passes everything else", async () => {
    const r = await client.readResource({ uri: "notes://todo" });
    expect((r.contents[0] as { text: string }).text).to.equal("the note at notes://todo");
    const p = await client.getPrompt({ name: "summarize", arguments: { topic: "MCP" } });
    expect(p.messages.length).to.equal(1);
    await client.ping();
  });

  it("refuses arguments over agent-auth's metadata limits with -32602 naming the limit; never forwarded", async () => {
    const before = toolCalls(work.calls(), "echo").length;
    const long = await rpcError(client.callTool({ name: "echo", arguments: { text: "x".repeat(5000) } }));
    expect(long.code).to.equal(-32602);
    expect(long.message).to.contain("metadata.text: is 5000 characters long; the limit is 4096 (limits.max_string_length)");
    const blob = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i]));
    const many = await rpcError(client.callTool({ name: "echo", arguments: { blob } }));
    expect([many.code, many.data!["problem"]]).to.deep.equal([-32602, "metadata has more than 256 entries (limits.max_metadata_entries)"]);
    const deep = await rpcError(client.callTool({ name: "echo", arguments: { blob: [[[[[[[[["deep"]]]]]]]]] } }));
    expect(deep.message).to.contain("(limits.max_metadata_depth)");
    const within = await client.callTool({ name: "echo", arguments: { text: "y".repeat(4096) } });
    expect(within.isError).to.not.equal(true);
    expect(toolCalls(work.calls(), "echo").length).to.equal(before + 1);
  });

  it("drops a malformed line from the server, and answers a request the server answered invalidly", async () => {
    const ok = await client.callTool({ name: "garbage", arguments: {} });
    expect((ok.content as { text: string }[])[0]!.text).to.equal("answered after garbage");
    const bad = await rpcError(client.callTool({ name: "bad_answer", arguments: {} }));
    expect(bad.code).to.equal(-32603);
    expect(bad.message).to.contain("the MCP server 'files' sent an invalid answer");
    expect(stderr()).to.contain("MCP server 'files' sent not JSON");
  });

  it("restarts a server that crashed: the call in flight fails with -32603, the next one works in the same session", async () => {
    const crashed = await rpcError(client.callTool({ name: "crash", arguments: {} }));
    expect(crashed.code).to.equal(-32603);
    expect(crashed.message).to.contain("the MCP server 'files' exited with code 3 before answering");
    const r = await client.callTool({ name: "echo", arguments: { text: "after" } });
    expect((r.content as { text: string }[])[0]!.text).to.equal('{"text":"after"}');
    const starts = work.calls().filter((c) => c["event"] === "start");
    expect(starts.length).to.equal(2);
    expect(starts[0]!["pid"]).to.not.equal(starts[1]!["pid"]);
    expect(stderr()).to.contain("MCP server 'files' exited with code 3; restarting it");
  });
});

/** Raw JSON-RPC lines to the proxy and back, for what the SDK client would never send. */
function rawProxy(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, args, { env, stdio: ["pipe", "pipe", "pipe"] });
  const lines: Record<string, unknown>[] = [];
  const waiters: { test: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
  let buffer = "";
  child.stdout.on("data", (c: Buffer) => {
    buffer += c.toString();
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const m = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
      buffer = buffer.slice(nl + 1);
      lines.push(m);
      for (const w of [...waiters]) if (w.test(m)) waiters.splice(waiters.indexOf(w), 1), w.resolve(m);
    }
  });
  return {
    child,
    send: (text: string) => child.stdin.write(text + "\n"),
    next: (test: (m: Record<string, unknown>) => boolean) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const seen = lines.find(test);
        if (seen !== undefined) return resolve(seen);
        waiters.push({ test, resolve });
      }),
  };
}

describe("agent-auth mcp-proxy: malformed JSON-RPC from the client", function () {
  this.timeout(120_000);

  it("answers a line that is not JSON with -32700 (id null) and an invalid message with -32600 and its id; keeps serving", async () => {
    const work = workdir();
    const p = rawProxy(proxyArgs(["-c", work.policy]), { ...process.env, FIXTURE_LOG: work.log });
    try {
      p.send("this is not json");
      const parse = await p.next((m) => (m["error"] as { code?: number } | undefined)?.code === -32700);
      expect(parse["id"]).to.equal(null);
      p.send('{"jsonrpc":"2.0","id":7,"method":5}');
      const invalid = await p.next((m) => m["id"] === 7);
      expect((invalid["error"] as { code: number }).code).to.equal(-32600);
      p.send('{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo","arguments":[1,2]}}');
      const notObject = await p.next((m) => m["id"] === 8);
      expect(notObject["error"]).to.deep.include({ code: -32602, message: "tools/call 'echo': params.arguments must be an object" });
      p.send('{"jsonrpc":"2.0","id":9,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}');
      const init = await p.next((m) => m["id"] === 9);
      expect((init["result"] as { serverInfo: { name: string } }).serverInfo.name).to.equal("counting-server");
    } finally {
      p.child.stdin.end();
      await new Promise((r) => p.child.once("exit", r));
    }
  });

  it("exits 0 and stops the server when the client closes its side", async () => {
    const work = workdir();
    const p = rawProxy(proxyArgs(["-c", work.policy]), { ...process.env, FIXTURE_LOG: work.log });
    p.send('{"jsonrpc":"2.0","id":1,"method":"ping"}');
    await p.next((m) => m["id"] === 1);
    p.child.stdin.end();
    const code = await new Promise((r) => p.child.once("exit", r));
    expect(code).to.equal(0);
    const pid = work.calls().find((c) => c["event"] === "start")!["pid"] as number;
    expect(() => process.kill(pid, 0)).to.throw();
  });

  it("gives up and exits 1 when the server cannot be started", async () => {
    const work = workdir();
    const child = spawn(process.execPath, [CLI, "-c", work.policy, "mcp-proxy", "--name", "files", "--agent", "claude", "--user", "alice", "--max-restarts", "1", "--", "/nonexistent/mcp-server"], { stdio: ["pipe", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const code = await new Promise((r) => child.once("exit", r));
    expect(code).to.equal(1);
    expect(err).to.contain("could not be started (spawn /nonexistent/mcp-server ENOENT)");
    expect(err).to.contain("giving up after 1 restarts in a row");
  });
});

describe("agent-auth mcp-proxy against a server (--server)", function () {
  this.timeout(120_000);

  it("decides remotely; every decision is audited with the MCP server and tool", async () => {
    const { server, client: typed } = await startTestServer({}, MCP_POLICY);
    typed.close();
    const work = workdir();
    const { client } = await connectStdio(proxyArgs(["--server", `127.0.0.1:${server.port}`]), work.log);
    const audit = createAgentAuthClient(`127.0.0.1:${server.port}`);
    try {
      await client.callTool({ name: "echo", arguments: { text: "remote" } });
      const denied = await rpcError(client.callTool({ name: "delete_file", arguments: { path: "x" } }));
      expect(denied.code).to.equal(-32001);
      const page = await audit.queryAudit({ filter: { agents: ["claude"] } });
      const byAction = (a: string) => page.records.find((r) => r.action === a);
      expect([byAction("files:echo")?.resource, byAction("files:echo")?.decision.allowed, byAction("files:echo")?.user]).to.deep.equal(["mcp://files/tools/echo", true, "alice"]);
      expect(byAction("files:delete_file")?.decisionId).to.equal(denied.data!["decision_id"]);
      expect(toolCalls(work.calls()).map((c) => c["tool"])).to.deep.equal(["echo"]);
    } finally {
      audit.close();
      await client.close();
      await server.close();
    }
  });

  it("approval end to end: the call needing approval gets a task and a console link, is not forwarded, and once approved the same call goes through once", async () => {
    const { server, client: typed } = await startTestServer({}, MCP_POLICY);
    typed.close();
    const work = workdir();
    const { client } = await connectStdio(proxyArgs(["--server", `127.0.0.1:${server.port}`], ["--console-url", "http://127.0.0.1:8080/console/"]), work.log);
    const approver = createAgentAuthClient(`127.0.0.1:${server.port}`);
    const transfer = (amount: number) => client.callTool({ name: "transfer", arguments: { to: "mallory", amount } });
    try {
      const e = await rpcError(transfer(5000));
      expect([e.code, e.data!["requires_approval"], e.data!["note"]]).to.deep.equal([-32001, true, undefined]);
      const approval = e.data!["approval"] as { id: string; status: string; expires_at: string; console_url: string };
      expect([approval.status, approval.console_url]).to.deep.equal(["pending", `http://127.0.0.1:8080/console/approvals/${approval.id}`]);
      expect(Date.parse(approval.expires_at)).to.be.greaterThan(Date.now());
      const task = await approver.approvals.get(approval.id);
      expect([task!.action, task!.resource, task!.user, task!.agent]).to.deep.equal(["files:transfer", "mcp://files/tools/transfer", "alice", "claude"]);
      const pending = await rpcError(transfer(5000));
      expect((pending.data!["approval"] as { id: string }).id).to.equal(approval.id);
      await approver.approvals.decide({ id: approval.id, approve: true, approver: "sec-lead" });
      const other = await rpcError(transfer(5001));
      expect((other.data!["approval"] as { id: string }).id).to.not.equal(approval.id);
      expect(toolCalls(work.calls(), "transfer")).to.deep.equal([]);
      const done = await transfer(5000);
      expect((done.content as { text: string }[])[0]!.text).to.equal("sent 5000 to mallory");
      expect(toolCalls(work.calls(), "transfer").map((c) => c["args"])).to.deep.equal([{ to: "mallory", amount: 5000 }]);
      expect((await approver.approvals.get(approval.id))!.status).to.equal("used");
      const audit = await approver.queryAudit({ filter: { actions: ["files:transfer"] } });
      expect(audit.records.some((r) => r.decision.approvedBy === "sec-lead" && r.decision.approvalId === approval.id)).to.equal(true);
      const next = await rpcError(transfer(5000));
      const renewed = next.data!["approval"] as { id: string; status: string };
      expect([renewed.status, renewed.id === approval.id]).to.deep.equal(["pending", false]);
      await approver.approvals.decide({ id: renewed.id, approve: false, approver: "sec-lead", comment: "once is enough" });
      const refused = await rpcError(transfer(5000));
      expect([refused.code, refused.data!["requires_approval"], (refused.data!["approval"] as { status: string }).status]).to.deep.equal([-32001, false, "denied"]);
      expect(refused.message).to.contain("was not approved").and.contain("once is enough");
      expect(toolCalls(work.calls(), "transfer")).to.have.length(1);
    } finally {
      approver.close();
      await client.close();
      await server.close();
    }
  });

  it("a client that supports URL elicitation gets URLElicitationRequired (-32042) with the task's console page; approved, the same call goes through", async () => {
    const { server, client: typed } = await startTestServer({}, MCP_POLICY);
    typed.close();
    const work = workdir();
    const args = proxyArgs(["--server", `127.0.0.1:${server.port}`], ["--console-url", "http://console.example:8080"]);
    const { client } = await connectStdio(args, work.log, { elicitation: { url: {} } });
    const approver = createAgentAuthClient(`127.0.0.1:${server.port}`);
    try {
      const e = await rpcError(client.callTool({ name: "transfer", arguments: { to: "mallory", amount: 6000 } }));
      // The SDK turns -32042 into UrlElicitationRequiredError, whose data keeps only the elicitations.
      const [elicitation] = e.data!["elicitations"] as { mode: string; elicitationId: string; url: string; message: string }[];
      const page = `http://console.example:8080/console/approvals/${elicitation!.elicitationId}`;
      expect([e.code, elicitation!.mode, elicitation!.url]).to.deep.equal([-32042, "url", page]);
      expect(elicitation!.message).to.contain(`open ${page}`).and.contain("tools/call 'transfer' requires strong approval");
      expect((await approver.approvals.get(elicitation!.elicitationId))!.status).to.equal("pending");
      expect(toolCalls(work.calls(), "transfer")).to.deep.equal([]);
      await approver.approvals.decide({ id: elicitation!.elicitationId, approve: true, approver: "sec-lead" });
      const done = await client.callTool({ name: "transfer", arguments: { to: "mallory", amount: 6000 } });
      expect((done.content as { text: string }[])[0]!.text).to.equal("sent 6000 to mallory");
    } finally {
      approver.close();
      await client.close();
      await server.close();
    }
  });

  it("fails closed with -32603 when agent-auth cannot be reached: nothing is forwarded or listed", async () => {
    const work = workdir();
    const { client } = await connectStdio(proxyArgs(["--server", "127.0.0.1:9"]), work.log);
    try {
      const call = await rpcError(client.callTool({ name: "echo", arguments: { text: "x" } }));
      expect(call.code).to.equal(-32603);
      expect(call.message).to.contain("tools/call 'echo' was not forwarded: agent-auth could not decide it (UNAVAILABLE");
      const list = await rpcError(client.listTools());
      expect(list.code).to.equal(-32603);
      expect(toolCalls(work.calls())).to.deep.equal([]);
    } finally {
      await client.close();
    }
  });
});
