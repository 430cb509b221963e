import { expect } from "chai";
import { Redis } from "ioredis";
import { createRedisStore, type RedisStore } from "../../src/state/redis/redis-store.ts";
import { globProgram } from "../../src/state/redis/glob-program.ts";
import { GLOB_CHECK } from "../../src/state/redis/scripts.ts";
import { fnmatch } from "../../src/policy/fnmatch.ts";
import { freePort, PrivateRedis } from "../support/private-redis.ts";
import { deletePrefix, requireRedis, testPrefix } from "../support/redis.ts";
import { runApprovalContract } from "./approval-contract.ts";
import { runStateStoreContract, type StoreFixture } from "./contract.ts";
import { readFileSync } from "node:fs";

describe("Redis state store", function () {
  let url: string;
  const prefixes = new Set<string>();
  before(async function () {
    url = await requireRedis(this);
  });
  after(async () => {
    for (const p of prefixes) await deletePrefix(url, p);
  });

  const fixture: StoreFixture = {
    async create(clock) {
      const prefix = testPrefix("contract");
      prefixes.add(prefix);
      const store = createRedisStore({ connection: { url }, prefix, clock });
      await store.ready(5000);
      return store;
    },
    destroy: (store) => store.close(),
  };
  runStateStoreContract("redis", fixture);
  runApprovalContract("redis", fixture);

  describe("key layout", () => {
    let store: RedisStore;
    let client: Redis;
    const prefix = testPrefix("layout");
    before(async () => {
      prefixes.add(prefix);
      store = createRedisStore({ connection: { url }, prefix });
      await store.ready(5000);
      client = new Redis(url);
    });
    after(async () => {
      await store.close();
      client.disconnect();
    });

    it("stores records under a hash-tagged prefix with a TTL equal to the remaining lifetime", async () => {
      const now = Date.now();
      await store.sessions.create({ id: "s1", agent: "a", user: "u", scope: "", createdAt: now, expiresAt: now + 30_000 });
      const key = `{${prefix}}:s:s1`;
      expect(await client.exists(key)).to.equal(1);
      const ttl = await client.pttl(key);
      expect(ttl).to.be.within(28_000, 30_000);
      await store.sessions.revoke("s1");
      expect(await client.pttl(key)).to.be.within(27_000, 30_000);
      expect(await client.hget(key, "revoked")).to.match(/^\d+$/);
    });

    it("continues a listing after a member that left the index since (found again by its score)", async () => {
      const now = Date.now();
      for (const [i, id] of ["l0", "l1", "l2", "l3"].entries()) {
        await store.sessions.create({ id, agent: "lister", user: "u", scope: "", createdAt: now + (i === 2 ? 1 : i), expiresAt: now + 60_000 });
      }
      const first = await store.sessions.list({ agent: "lister" }, { limit: 2 });
      expect(first.records.map((s) => s.id)).to.deep.equal(["l0", "l1"]);
      await client.del(`{${prefix}}:s:l1`);
      await client.zrem(`{${prefix}}:sa:lister`, "l1");
      const rest = await store.sessions.list({ agent: "lister" }, { after: first.next, limit: 10 });
      // l2 shares l1's time, and comes after it by id; l3 follows.
      expect(rest.records.map((s) => s.id)).to.deep.equal(["l2", "l3"]);
      expect(rest.next).to.equal("");
    });

    it("expires a record by Redis TTL (no sweeper)", async () => {
      const now = Date.now();
      await store.delegations.create({ id: "d1", fromUser: "u", toAgent: "a", actions: ["x"], createdAt: now, expiresAt: now + 300, reason: "" });
      expect(await client.exists(`{${prefix}}:d:d1`)).to.equal(1);
      await new Promise((r) => setTimeout(r, 450));
      expect(await client.exists(`{${prefix}}:d:d1`)).to.equal(0);
      expect(await store.delegations.get("d1")).to.equal(undefined);
    });
  });

  describe("Lua glob matcher", () => {
    it("agrees with the engine's fnmatch on every vector", async function () {
      this.timeout(120_000);
      const vectors = JSON.parse(readFileSync("test/fixtures/fnmatch-vectors.json", "utf8")) as { vectors: [string, string, boolean][] };
      const client = new Redis(url);
      try {
        const cases = vectors.vectors;
        const mismatches: string[] = [];
        for (let i = 0; i < cases.length; i += 500) {
          const chunk = cases.slice(i, i + 500);
          const argv = chunk.flatMap(([pattern, name]) => [globProgram(pattern), name]);
          const got = (await client.eval(GLOB_CHECK, 0, ...argv)) as number[];
          chunk.forEach(([pattern, name, expected], j) => {
            if ((got[j] === 1) !== expected || fnmatch(name, pattern) !== expected) {
              mismatches.push(`${JSON.stringify(pattern)} vs ${JSON.stringify(name)}: python ${expected}, lua ${got[j]}`);
            }
          });
        }
        expect(mismatches.slice(0, 20)).to.deep.equal([]);
        expect(cases.length).to.be.greaterThan(500);
      } finally {
        client.disconnect();
      }
    });
  });
});

describe("Redis store with sync audit: decision and record in one round trip", function () {
  let url: string;
  const prefix = testPrefix("sync-audit");
  before(async function () {
    url = await requireRedis(this);
  });
  after(async () => {
    if (url !== undefined) await deletePrefix(url, prefix);
  });

  it("appends exactly the decision it answers, for every outcome", async () => {
    const { AuthEngine } = await import("../../src/embedded-engine.ts");
    const { parseConfig } = await import("../../src/config/index.ts");
    const config = parseConfig(
      `profiles: {bot: {allow: [read], default_tier: soft}}\napproval_policies: [{name: p, condition: 'action == "pay"', tier: strong}]\naudit: {durability: sync}\n`,
      { env: {} },
    );
    const store = createRedisStore({ connection: { url }, prefix, audit: { durability: "sync", streamMaxLength: 1000 } });
    await store.ready(5000);
    const { auditRecordJson } = await import("../../src/audit/event.ts");
    // The local sinks get the same line as the stream.
    const lines: { line: string; fresh: string }[] = [];
    const sink = {
      write: (e: import("../../src/audit/event.ts").AuditEvent): undefined => {
        lines.push({ line: auditRecordJson(e), fresh: auditRecordJson({ ...e }) });
        return undefined;
      },
      flush: async () => {},
      close: async () => {},
    };
    const engine = new AuthEngine(config, { store, audit: sink, sameTripAudit: store.audit });
    const client = new Redis(url);
    try {
      const session = await engine.createSession({ agent: "bot", user: "alice", scope: "project:a*" });
      await engine.createDelegation({ fromUser: "alice", toAgent: "bot", actions: ["pay"] });
      const requests = [
        { agent: "bot", user: "alice", action: "read", sessionId: session.sessionId, scope: "project:ab" },
        { agent: "bot", user: "alice", action: "pay", sessionId: session.sessionId },
        { agent: "bot", user: "alice", action: "delete", sessionId: session.sessionId },
        { agent: "bot", user: "alice", action: "read", sessionId: "missing" },
        { agent: "other", user: "alice", action: "read", sessionId: session.sessionId },
        { agent: "bot", user: "bob", action: "read", sessionId: session.sessionId },
        { agent: "bot", user: "alice", action: "read", sessionId: session.sessionId, scope: "project:b" },
        { agent: "bot", user: "alice", action: "read" },
      ];
      const decisions: Awaited<ReturnType<typeof engine.authorize>>[] = [];
      for (const r of requests) decisions.push(await engine.authorize(r));
      const stream = await client.xrange(`{${prefix}}:audit`, "-", "+");
      const records = stream.map(([, fields]) => JSON.parse(fields[1]!) as Record<string, unknown>);
      expect(lines.map((l) => l.line)).to.deep.equal(stream.map(([, fields]) => fields[1]));
      expect(lines.map((l) => l.line)).to.deep.equal(lines.map((l) => l.fresh));
      expect(records.map((r) => r["decision_id"])).to.deep.equal(decisions.map((d) => d.decisionId));
      records.forEach((r, i) => {
        const d = decisions[i]!;
        expect(r, d.reason).to.deep.include({
          allowed: d.allowed,
          tier: d.tier,
          reason: d.reason,
          requires_approval: d.requiresApproval,
          approval_policy: d.approvalPolicy,
          evaluation_time_ms: Math.round(d.evaluationTimeMs * 1000) / 1000,
          agent: requests[i]!.agent,
        });
      });
      expect(decisions.map((d) => d.reason)).to.deep.equal([
        "Allowed by profile 'bot' (requires soft approval)",
        "Delegated by user 'alice' (requires strong approval)",
        "Action 'delete' not authorized for agent 'bot'",
        "Invalid or expired session",
        "Session agent mismatch: expected 'bot', got 'other'",
        "Session user mismatch: expected 'alice', got 'bob'",
        "Scope 'project:b' outside session scope 'project:a*'",
        "Allowed by profile 'bot' (requires soft approval)",
      ]);
    } finally {
      client.disconnect();
      await engine.close();
      await store.close();
    }
  });

  it("denies a scoped session's request without a scope under sessions.require_scope, and records that denial from Lua", async () => {
    const { AuthEngine } = await import("../../src/embedded-engine.ts");
    const { parseConfig } = await import("../../src/config/index.ts");
    const config = parseConfig(`profiles: {bot: {allow: [read]}}\nsessions: {require_scope: true}\naudit: {durability: sync}\n`, { env: {} });
    const p = `${prefix}-require-scope`;
    const store = createRedisStore({ connection: { url }, prefix: p, audit: { durability: "sync", streamMaxLength: 1000 } });
    await store.ready(5000);
    const engine = new AuthEngine(config, { store, audit: false, sameTripAudit: store.audit });
    const client = new Redis(url);
    try {
      const scoped = await engine.createSession({ agent: "bot", user: "alice", scope: "project:*" });
      const open = await engine.createSession({ agent: "bot", user: "alice" });
      const decisions = [
        await engine.authorize({ agent: "bot", user: "alice", action: "read", sessionId: scoped.sessionId }),
        await engine.authorize({ agent: "bot", user: "alice", action: "read", sessionId: scoped.sessionId, scope: "project:a" }),
        await engine.authorize({ agent: "bot", user: "alice", action: "read", sessionId: open.sessionId }),
      ];
      expect(decisions.map((d) => [d.allowed, d.reason])).to.deep.equal([
        [false, "Session scope 'project:*' requires a request scope"],
        [true, "Allowed by profile 'bot'"],
        [true, "Allowed by profile 'bot'"],
      ]);
      const stream = await client.xrange(`{${p}}:audit`, "-", "+");
      expect(stream.map(([, f]) => (JSON.parse(f[1]!) as { reason: string }).reason)).to.deep.equal(decisions.map((d) => d.reason));
    } finally {
      client.disconnect();
      await engine.close();
      await store.close();
      await deletePrefix(url, p);
    }
  });

  it("sends a script Redis has forgotten (SCRIPT FLUSH, a restart) as EVAL, and goes on by SHA", async () => {
    const { AuthEngine } = await import("../../src/embedded-engine.ts");
    const { parseConfig } = await import("../../src/config/index.ts");
    const config = parseConfig(`profiles: {bot: {allow: [read]}}\naudit: {durability: sync}\n`, { env: {} });
    // A server of its own: flushing scripts on the shared one would disturb other clients.
    const own = new PrivateRedis(await freePort());
    await own.start();
    const p = `${prefix}-noscript`;
    const store = createRedisStore({ connection: { url: own.url }, prefix: p, audit: { durability: "sync", streamMaxLength: 1000 } });
    await store.ready(5000);
    const engine = new AuthEngine(config, { store, audit: false, sameTripAudit: store.audit });
    const client = new Redis(own.url);
    try {
      const session = await engine.createSession({ agent: "bot", user: "alice" });
      const before = commandCalls(await client.info("commandstats"));
      await client.script("FLUSH");
      const first = await engine.authorize({ agent: "bot", user: "alice", action: "read", sessionId: session.sessionId });
      // Stateless: appended by the other script, also after the flush.
      const stateless = await engine.authorize({ agent: "bot", user: "alice", action: "read" });
      const second = await engine.authorize({ agent: "bot", user: "alice", action: "read", sessionId: session.sessionId });
      const after = commandCalls(await client.info("commandstats"));
      expect([first.allowed, stateless.allowed, second.allowed]).to.deep.equal([true, true, true]);
      // Each script once by EVAL (after its NOSCRIPT), then by SHA again.
      expect((after.get("eval") ?? 0) - (before.get("eval") ?? 0)).to.equal(2);
      expect((after.get("evalsha") ?? 0) - (before.get("evalsha") ?? 0)).to.equal(3);
      const stream = await client.xrange(`{${p}}:audit`, "-", "+");
      expect(stream.map(([, f]) => (JSON.parse(f[1]!) as { decision_id: string }).decision_id)).to.deep.equal([first, stateless, second].map((d) => d.decisionId));
    } finally {
      client.disconnect();
      await engine.close();
      await store.close();
      await own.stop();
    }
  });
});

function commandCalls(info: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}
