import { expect } from "chai";
import { createHash } from "node:crypto";
import { createServer, type Http2Session, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { AuthEngine } from "../../src/index.ts";
import { parseConfig } from "../../src/config/index.ts";
import { createAgentAuthClient, isAgentAuthError, type AgentAuthClient, type AgentAuthError, type Decider } from "../../src/client/index.ts";
import type { AgentAuthServer } from "../../src/server/app/start-server.ts";
import { SERVER_POLICY, startTestServer } from "../support/server.ts";

async function failure(p: Promise<unknown>): Promise<AgentAuthError> {
  try {
    await p;
  } catch (e) {
    if (isAgentAuthError(e)) return e;
    throw e;
  }
  throw new Error("expected a failure");
}

/** A bare HTTP/2 server that takes gRPC requests and then does what `onStream` says (drop, stall). */
async function rawServer(onStream: (stream: ServerHttp2Stream, session: Http2Session) => void): Promise<{ port: number; streams: () => number; close: () => Promise<void> }> {
  let streams = 0;
  const sessions = new Set<Http2Session>();
  const server = createServer();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  server.on("stream", (stream) => {
    streams++;
    onStream(stream, stream.session!);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    streams: () => streams,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("createAgentAuthClient: the plain API (string tiers, engine shapes, AgentAuthError)", () => {
  let server: AgentAuthServer;
  let client: AgentAuthClient;
  before(async () => {
    ({ server } = await startTestServer());
    client = createAgentAuthClient({ address: `127.0.0.1:${server.port}` });
  });
  after(async () => {
    client.close();
    await server.close();
  });

  it("decides with the engine's decision shape: allow, deny (tier autonomous) and approval", async () => {
    const allow = await client.authorize({ agent: "assistant", user: "alice", action: "read", scope: "project:web" });
    expect([allow.allowed, allow.tier, allow.requiresApproval, allow.reason, allow.approvalPolicy]).to.deep.equal([true, "autonomous", false, "Allowed by profile 'assistant'", ""]);
    expect(allow.decisionId).to.match(/^[0-9a-f-]{36}$/);
    expect(allow.policyRevision).to.match(/^[0-9a-f]{16}$/);
    expect(allow.isAutonomous).to.equal(true);

    const deny = await client.authorize({ agent: "assistant", user: "alice", action: "delete", scope: "project:web" });
    expect([deny.allowed, deny.tier, deny.requiresApproval, deny.reason]).to.deep.equal([false, "autonomous", false, "Action 'delete' denied by profile 'assistant'"]);

    const strong = await client.authorize({ agent: "caller", user: "alice", action: "pay", metadata: { amount: 5000 } });
    expect([strong.allowed, strong.tier, strong.requiresApproval, strong.approvalPolicy]).to.deep.equal([true, "strong", true, "big"]);
    const soft = await client.authorize({ agent: "deployer", user: "bob", action: "deploy" });
    expect([soft.tier, soft.requiresApproval]).to.deep.equal(["soft", true]);
  });

  it("gives the same decision as the embedded engine for the same policy", async () => {
    const engine = new AuthEngine(parseConfig(SERVER_POLICY, { env: {} }), { audit: false });
    try {
      for (const request of [
        { agent: "assistant", user: "alice", action: "write", resource: "/prod/api", scope: "project:x" },
        { agent: "assistant", user: "alice", action: "read", scope: "other" },
        { agent: "caller", user: "u", action: "x", targetAgent: "helper" },
        { agent: "nobody", user: "u", action: "read" },
      ]) {
        const [a, b] = await Promise.all([client.authorize(request), engine.authorize(request)]);
        expect([a.allowed, a.tier, a.requiresApproval, a.reason, a.approvalPolicy]).to.deep.equal([b.allowed, b.tier, b.requiresApproval, b.reason, b.approvalPolicy]);
      }
    } finally {
      await engine.close();
    }
  });

  it("refuses a malformed request with INVALID_ARGUMENT naming the field, before and after the wire", async () => {
    const missing = await failure(client.authorize({ agent: "", user: "u", action: "read" }));
    expect([missing.code, missing.fieldViolations[0]?.field, missing.attempts]).to.deep.equal(["INVALID_ARGUMENT", "agent", 1]);
    const notJson = await failure(client.authorize({ agent: "a", user: "u", action: "read", metadata: { when: new Date() } }));
    expect([notJson.code, notJson.fieldViolations[0]?.field]).to.deep.equal(["INVALID_ARGUMENT", "metadata.when"]);
    const tooLong = await failure(client.authorize({ agent: "a", user: "u", action: "read", resource: "x".repeat(5000) }));
    expect([tooLong.code, tooLong.details]).to.deep.equal(["INVALID_ARGUMENT", "resource: is 5000 characters long; the limit is 4096 (limits.max_string_length)"]);
  });

  it("manages sessions with the engine's shapes: undefined and not_found for unknown ids", async () => {
    const s = await client.createSession({ agent: "assistant", user: "alice", scope: "project:*", duration: 60 });
    expect([s.agent, s.user, s.scope, s.status]).to.deep.equal(["assistant", "alice", "project:*", "active"]);
    expect(Date.parse(s.expiresAt) - Date.parse(s.createdAt)).to.equal(60_000);
    expect(await client.getSession(s.sessionId)).to.deep.equal(s);
    expect(await client.getSession("no-such-session")).to.equal(undefined);
    expect((await client.listSessions({ agent: "assistant" })).map((x) => x.sessionId)).to.include(s.sessionId);
    const inSession = await client.authorize({ agent: "assistant", user: "alice", action: "read", scope: "project:web", sessionId: s.sessionId });
    expect(inSession.allowed).to.equal(true);
    const revoked = await client.revokeSession(s.sessionId);
    expect(revoked.status).to.equal("revoked");
    expect(revoked.status !== "not_found" && revoked.record.status).to.equal("revoked");
    expect((await client.revokeSession(s.sessionId)).status).to.equal("already_revoked");
    expect(await client.revokeSession("no-such-session")).to.deep.equal({ status: "not_found" });
  });

  it("manages delegations; a refused one is FAILED_PRECONDITION with the original's message", async () => {
    const d = await client.createDelegation({ fromUser: "alice", toAgent: "assistant", actions: ["pay"], duration: 120, reason: "invoices" });
    expect([d.fromUser, d.toAgent, d.actions, d.reason, d.status]).to.deep.equal(["alice", "assistant", ["pay"], "invoices", "active"]);
    expect((await client.listDelegations({ user: "alice" })).map((x) => x.delegationId)).to.include(d.delegationId);
    const refused = await failure(client.createDelegation({ fromUser: "alice", toAgent: "assistant", actions: ["delete"] }));
    expect(refused.code).to.equal("FAILED_PRECONDITION");
    expect(refused.details).to.match(/^Delegation validation failed:\n {2}Action 'delete' not allowed by delegation rule 'safe'/);
    expect((await client.revokeDelegation(d.delegationId)).status).to.equal("revoked");
    expect(await client.revokeDelegation("nope")).to.deep.equal({ status: "not_found" });
  });

  it("reads the audit stream with plain records: a query page and a live subscription", async () => {
    const d = await client.authorize({ agent: "deployer", user: "carol", action: "deploy", resource: "svc" });
    const stop = new AbortController();
    let got;
    // "0-0" replays the retained history first, so the decision above is in the stream whatever the timing.
    for await (const r of client.subscribeAudit({ filter: { agents: ["deployer"], tiers: ["soft"] }, afterCursor: "0-0" }, { signal: stop.signal })) {
      if (r.decisionId === d.decisionId) {
        got = r;
        break;
      }
    }
    expect([got!.agent, got!.user, got!.action, got!.resource, got!.decision.tier, got!.decision.requiresApproval]).to.deep.equal(["deployer", "carol", "deploy", "svc", "soft", true]);
    expect(got!.cursor).to.match(/^\d+-\d+@[0-9a-z]+$/);
    const page = await client.queryAudit({ filter: { users: ["carol"], effect: "allow" }, pageSize: 10 });
    expect(page.records.map((r) => r.decisionId)).to.include(d.decisionId);
    expect(page.records[0]!.time).to.match(/^\d{4}-\d\d-\d\dT/);
  });

  it("is a Decider, as the embedded engine is (checked by the type checker, used the same way)", async () => {
    const engine = new AuthEngine(parseConfig(SERVER_POLICY, { env: {} }), { audit: false });
    const deciders: Decider[] = [client, engine];
    const answers = await Promise.all(deciders.map((d) => d.authorize({ agent: "assistant", user: "alice", action: "read", scope: "project:a" })));
    expect(answers.map((a) => a.allowed)).to.deep.equal([true, true]);
    await engine.close();
  });
});

describe("createAgentAuthClient: deadlines, retries and replicas", () => {
  it("retries a call no connection took (nothing listens) and reports UNAVAILABLE with the attempts", async () => {
    const dead = await rawServer(() => {});
    const port = dead.port;
    await dead.close();
    const client = createAgentAuthClient({ address: `127.0.0.1:${port}`, retry: { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 20 } });
    try {
      const e = await failure(client.authorize({ agent: "a", user: "u", action: "read" }));
      expect([e.code, e.attempts]).to.deep.equal(["UNAVAILABLE", 3]);
      const once = await failure(client.authorize({ agent: "a", user: "u", action: "read" }, { deadlineMs: 5000 }));
      expect(once.code).to.equal("UNAVAILABLE");
    } finally {
      client.close();
    }
  });

  it("never retries a request a connection took: the server saw it once", async () => {
    // The server reads the request, then drops the connection without answering.
    const dropper = await rawServer((stream, session) => {
      stream.on("data", () => {});
      stream.on("end", () => session.destroy());
    });
    const client = createAgentAuthClient({ address: `127.0.0.1:${dropper.port}`, retry: { maxAttempts: 5, initialBackoffMs: 10 } });
    try {
      const e = await failure(client.createSession({ agent: "a", user: "u" }));
      expect([e.code, e.attempts, dropper.streams()]).to.deep.equal(["UNAVAILABLE", 1, 1]);
    } finally {
      client.close();
      await dropper.close();
    }
  });

  it("puts a deadline on every unary call by default, and honours a per-call one", async () => {
    const staller = await rawServer((stream) => stream.on("data", () => {}));
    const client = createAgentAuthClient({ address: `127.0.0.1:${staller.port}`, deadlineMs: 300 });
    try {
      const byDefault = await failure(client.authorize({ agent: "a", user: "u", action: "read" }));
      expect([byDefault.code, byDefault.attempts]).to.deep.equal(["DEADLINE_EXCEEDED", 1]);
      const perCall = await failure(client.getSession("x", { deadlineMs: 100 }));
      expect(perCall.code).to.equal("DEADLINE_EXCEEDED");
    } finally {
      client.close();
      await staller.close();
    }
  });

  it("balances over several replicas (round_robin) and keeps deciding when one stops", async () => {
    const a = await startTestServer();
    const b = await startTestServer();
    a.client.close();
    b.client.close();
    const client = createAgentAuthClient({ addresses: [`127.0.0.1:${a.server.port}`, `127.0.0.1:${b.server.port}`] });
    try {
      await client.ready(5000);
      for (let i = 0; i < 20; i++) expect((await client.authorize({ agent: "assistant", user: `rr-${i}`, action: "read", scope: "project:x" })).allowed).to.equal(true);
      const decided = await Promise.all(
        [a, b].map(async ({ server }) => {
          const c = createAgentAuthClient(`127.0.0.1:${server.port}`);
          const page = await c.queryAudit({ pageSize: 100 });
          c.close();
          return page.records.filter((r) => r.user.startsWith("rr-")).length;
        }),
      );
      expect(decided[0]! + decided[1]!).to.equal(20);
      expect(decided[0]).to.be.greaterThan(0);
      expect(decided[1]).to.be.greaterThan(0);

      await a.server.close();
      for (let i = 0; i < 10; i++) expect((await client.authorize({ agent: "assistant", user: "after", action: "read", scope: "project:x" })).allowed).to.equal(true);
    } finally {
      client.close();
      await b.server.close();
    }
  });

  it("sends the bearer token; without it the server's refusal is UNAUTHENTICATED", async () => {
    const token = "s3cret-token";
    const { server, client: plain } = await startTestServer({
      callers: [{ name: "orchestrator", tokenHashes: [createHash("sha256").update(token).digest("hex")], certificates: [], groups: new Set(["authorize"]) }],
    });
    const withToken = createAgentAuthClient({ address: `127.0.0.1:${server.port}`, token });
    try {
      expect((await withToken.authorize({ agent: "assistant", user: "u", action: "read", scope: "project:a" })).allowed).to.equal(true);
      const e = await failure(createAgentAuthClient(`127.0.0.1:${server.port}`).authorize({ agent: "assistant", user: "u", action: "read" }));
      expect(e.code).to.equal("UNAUTHENTICATED");
    } finally {
      withToken.close();
      plain.close();
      await server.close();
    }
  });

  it("names what is wrong with the addresses", () => {
    expect(() => createAgentAuthClient({})).to.throw(/address: give the server's address/);
    expect(() => createAgentAuthClient({ addresses: ["10.0.0.1:1", "db.internal:2"] })).to.throw(/addresses\[1\]: "db.internal" is not an IP literal/);
    expect(() => createAgentAuthClient({ addresses: ["10.0.0.1:1", "[::1]:2"] })).to.throw(/mixes IPv4 and IPv6/);
    expect(() => createAgentAuthClient({ address: "127.0.0.1:1", retry: { maxAttempts: 0 } })).to.throw(/retry.maxAttempts: must be a whole number >= 1, got 0/);
  });
});
