import { expect } from "chai";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { AuthEngine } from "../../../src/index.ts";
import { parseConfig } from "../../../src/config/index.ts";
import type { Decider } from "../../../src/client/index.ts";
import { createMcpGateway, parseMcpClients } from "../../../src/integrations/mcp/index.ts";
import { MCP_POLICY } from "./support.ts";

/** The engine, answering only when the test releases it: decisions in flight can be observed. */
function heldEngine(): { decider: Decider; release(): void; close(): Promise<void> } {
  const engine = new AuthEngine(parseConfig(MCP_POLICY, { env: {} }), { audit: false });
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  return { decider: { authorize: (r) => gate.then(() => engine.authorize(r)) }, release: () => open(), close: () => engine.close() };
}

const settle = () => new Promise((r) => setImmediate(r));

describe("createMcpGateway (in process)", () => {
  it("does not forward a call the client cancelled while it was being decided, and does not answer it", async () => {
    const held = heldEngine();
    const toServer: JSONRPCMessage[] = [];
    const toClient: JSONRPCMessage[] = [];
    const gateway = createMcpGateway({ decider: held.decider, server: "files", identity: { agent: "claude", user: "alice" }, toClient: (m) => void toClient.push(m), toServer: (m) => void toServer.push(m) });
    gateway.fromClient({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: {} } });
    gateway.fromClient({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "echo", arguments: {} } });
    gateway.fromClient({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } });
    held.release();
    await settle();
    await settle();
    expect(toServer.map((m) => ("id" in m ? m.id : "notification"))).to.deep.equal([2]);
    expect(toClient).to.deep.equal([]);
    await held.close();
  });

  it("answers the requests a server took when it goes away, keeping 1 and \"1\" apart", async () => {
    const engine = new AuthEngine(parseConfig(MCP_POLICY, { env: {} }), { audit: false });
    const toClient: JSONRPCMessage[] = [];
    const gateway = createMcpGateway({ decider: engine, server: "files", identity: { agent: "claude", user: "alice" }, toClient: (m) => void toClient.push(m), toServer: () => {} });
    gateway.fromClient({ jsonrpc: "2.0", id: 1, method: "ping" });
    gateway.fromClient({ jsonrpc: "2.0", id: "1", method: "ping" });
    await settle();
    gateway.fromServer({ jsonrpc: "2.0", id: "1", result: {} });
    gateway.serverGone("exited with code 1");
    await settle();
    expect(toClient.map((m) => ["id" in m ? m.id : undefined, "error" in m ? m.error.code : "result"])).to.deep.equal([
      ["1", "result"],
      [1, -32603],
    ]);
    await engine.close();
  });

  it("answers a request the server cannot be sent with -32603", async () => {
    const engine = new AuthEngine(parseConfig(MCP_POLICY, { env: {} }), { audit: false });
    const toClient: JSONRPCMessage[] = [];
    const gateway = createMcpGateway({ decider: engine, server: "files", identity: { agent: "claude", user: "alice" }, toClient: (m) => void toClient.push(m), toServer: () => Promise.reject(new Error("connect ECONNREFUSED")) });
    gateway.fromClient({ jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "echo" } });
    for (let i = 0; i < 5; i++) await settle();
    expect(toClient).to.deep.equal([{ jsonrpc: "2.0", id: 5, error: { code: -32603, message: "the MCP server 'files' could not be reached: connect ECONNREFUSED" } }]);
    await engine.close();
  });
});

describe("the HTTP gateway's clients file", () => {
  it("lists every problem with its place", () => {
    expect(() => parseMcpClients("clients:\n  a: {tokens_sha256: [abc], agent: '', extra: 1}\n  b: {tokens_sha256: [], agent: x, user: y}\n", "c.yaml")).to.throw(
      [
        "invalid clients file c.yaml:",
        "  - clients.a.extra: unknown key",
        "  - clients.a.agent: expected a non-empty string",
        "  - clients.a.user: required",
        "  - clients.a.tokens_sha256[0]: expected 64 hex digits",
        "  - clients.b.tokens_sha256: expected a list of SHA-256 digests (64 hex digits)",
      ].join("\n"),
    );
    expect(() => parseMcpClients("nothing: here")).to.throw(/clients: expected a mapping/);
  });

  it("identifies a client by the SHA-256 of its bearer token", () => {
    const table = parseMcpClients(`clients:\n  a: {tokens_sha256: ["${"2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"}"], agent: bot, user: ann, scope: s}\n`);
    expect(table.identify("Bearer secret")).to.deep.equal({ client: { name: "a", agent: "bot", user: "ann", sessionId: undefined, scope: "s" } });
    expect(table.identify("Bearer other")).to.deep.equal({ problem: "unknown bearer token" });
    expect(table.identify("Basic abc")).to.deep.equal({ problem: "the authorization header is not 'Bearer <token>'" });
    expect(table.identify(undefined)).to.deep.equal({ problem: "no bearer token" });
  });
});
