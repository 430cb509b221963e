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

    it("counts a pair's delegated actions in the creating script, pruning ids no decision can use from the grants index", async () => {
      const now = Date.now();
      const grants = store.keys.grants("counted", "u");
      const d = (id: string, actions: string[]) => ({ id, fromUser: "u", toAgent: "counted", actions, createdAt: now, expiresAt: now + 60_000, reason: "" });
      expect(await store.delegations.createWithin(d("c1", ["a", "b", "c"]), 16)).to.deep.equal({ stored: true, actions: 3 });
      expect(await client.hget(`{${prefix}}:d:c1`, "n")).to.equal("3");
      await store.delegations.createWithin(d("c2", ["x"]), 16);
      // A record written before the count field existed counts its actions.
      await store.delegations.createWithin(d("c3", ["p", "q"]), 16);
      await client.hdel(`{${prefix}}:d:c3`, "n");
      await store.delegations.revoke("c2");
      expect(await client.zrange(grants, "0", "-1")).to.have.members(["c1", "c2", "c3"]);
      expect(await store.delegations.createWithin(d("c4", Array.from({ length: 12 }, (_, i) => `k${i}`)), 16)).to.deep.equal({ stored: false, actions: 17 });
      expect(await client.exists(`{${prefix}}:d:c4`)).to.equal(0);
      // The revoked c2 left the grants index (it stays readable as revoked); the refused c4 never entered it.
      expect(await client.zrange(grants, "0", "-1")).to.have.members(["c1", "c3"]);
      expect((await store.delegations.get("c2"))?.revokedAt).to.be.a("number");
      expect(await store.delegations.createWithin(d("c5", Array.from({ length: 11 }, (_, i) => `k${i}`)), 16)).to.deep.equal({ stored: true, actions: 16 });
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
    /**
     * Runs GLOB_CHECK on pairs in chunks: the script's answer (undefined when
     * it leaves the pattern to the engine) and the matcher's steps.
     */
    async function luaGlob(client: Redis, pairs: readonly (readonly [string, string])[]): Promise<{ answer: boolean | undefined; steps: number }[]> {
      const out: { answer: boolean | undefined; steps: number }[] = [];
      for (let i = 0; i < pairs.length; i += 500) {
        const chunk = pairs.slice(i, i + 500);
        const got = (await client.eval(GLOB_CHECK, 0, ...chunk.flatMap(([pattern, name]) => [globProgram(pattern), name]))) as number[];
        chunk.forEach((_, j) => out.push({ answer: got[2 * j] === -1 ? undefined : got[2 * j] === 1, steps: got[2 * j + 1]! }));
      }
      return out;
    }

    /**
     * Each pair through the store's decisions, as the session's scope pattern
     * against the request's scope and as a delegated action against the
     * request's action, all at once (they share RESOLVE calls): whether the
     * scope was inside and whether the delegation granted. Pairs with an empty
     * pattern or name (no scope, no action) are left out.
     */
    async function throughDecisions(pairs: readonly (readonly [string, string])[]): Promise<{ pair: readonly [string, string]; inside: boolean; granted: boolean }[]> {
      const prefix = testPrefix("glob-decisions");
      prefixes.add(prefix);
      const store = createRedisStore({ connection: { url }, prefix });
      try {
        await store.ready(5000);
        const now = Date.now();
        const kept = pairs.filter(([pattern, name]) => pattern !== "" && name !== "");
        const out: { pair: readonly [string, string]; inside: boolean; granted: boolean }[] = [];
        // A hundred at a time: many at once would outlast the commands' timeout on a busy machine.
        for (let from = 0; from < kept.length; from += 100) {
          const chunk = kept.slice(from, from + 100).map((pair, i) => ({ pair, j: from + i }));
          await Promise.all(
            chunk.map(async ({ pair: [pattern], j }) => {
              await store.sessions.create({ id: `s${j}`, agent: "bot", user: "u", scope: pattern, createdAt: now, expiresAt: now + 600_000 });
              await store.delegations.create({ id: `d${j}`, fromUser: "u", toAgent: `bot${j}`, actions: [pattern], createdAt: now, expiresAt: now + 600_000, reason: "" });
            }),
          );
          out.push(
            ...(await Promise.all(
              chunk.map(async ({ pair, j }) => {
                const [scoped, delegated] = await Promise.all([
                  store.resolveOutcome({ sessionId: `s${j}`, agent: "bot", user: "u", scope: pair[1], action: "x", delegations: false }),
                  store.resolveOutcome({ sessionId: "", agent: `bot${j}`, user: "u", scope: "", action: pair[1], delegations: true }),
                ]);
                if (scoped.kind !== "ok" && scoped.kind !== "scope_outside") throw new Error(`unexpected outcome ${scoped.kind}`);
                return { pair, inside: scoped.kind === "ok", granted: delegated.kind === "ok" && delegated.grant?.id === `d${j}` };
              }),
            )),
          );
        }
        return out;
      } finally {
        await store.close();
      }
    }

    /** The pairs whose answers differ from `expected` (the script's only when it answered), or whose script steps pass the bound. */
    async function disagreements(pairs: readonly (readonly [string, string])[], expected: (pattern: string, name: string) => boolean): Promise<string[]> {
      const client = new Redis(url);
      const wrong: string[] = [];
      try {
        const lua = await luaGlob(client, pairs);
        pairs.forEach(([pattern, name], j) => {
          const want = expected(pattern, name);
          // The script's own steps depend on the pattern only: searches over the name are native.
          if ((lua[j]!.answer !== undefined && lua[j]!.answer !== want) || lua[j]!.steps > 2 * ([...pattern].length + 1)) {
            wrong.push(`script: ${JSON.stringify(pattern)} vs ${JSON.stringify(name)}: want ${want}, got ${lua[j]!.answer} in ${lua[j]!.steps} steps`);
          }
        });
      } finally {
        client.disconnect();
      }
      for (const { pair, inside, granted } of await throughDecisions(pairs)) {
        const want = expected(pair[0], pair[1]);
        if (inside !== want || granted !== want) wrong.push(`decision: ${JSON.stringify(pair[0])} vs ${JSON.stringify(pair[1])}: want ${want}, scope ${inside}, grant ${granted}`);
      }
      return wrong;
    }

    for (const file of ["fnmatch-vectors.json", "glob-vectors.json"]) {
      it(`agrees with Python and the engine's fnmatch on every vector of ${file}`, async function () {
        this.timeout(120_000);
        const cases = (JSON.parse(readFileSync(`test/fixtures/${file}`, "utf8")) as { vectors: [string, string, boolean][] }).vectors;
        const python = new Map(cases.map(([pattern, name, expected]) => [`${pattern}\u0000${name}`, expected]));
        const wrong = await disagreements(
          cases.map(([pattern, name]) => [pattern, name] as const),
          (pattern, name) => python.get(`${pattern}\u0000${name}`)!,
        );
        const engine = cases.filter(([pattern, name, expected]) => fnmatch(name, pattern) !== expected);
        expect([...wrong, ...engine.map((c) => `engine: ${JSON.stringify(c)}`)].slice(0, 20)).to.deep.equal([]);
        expect(cases.length).to.be.greaterThan(500);
      });
    }

    it("agrees with the engine on random patterns and names, within its step bound", async function () {
      this.timeout(120_000);
      const pieces = ["a", "b", "ab", "é", "€", "🙂", "?", "*", "[ab]", "[!a]", "[é-🙂]", ":", "[", "]"];
      const chars = ["a", "b", "é", "€", "🙂", ":", "[", "]"];
      let seed = 7;
      const next = (n: number): number => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      const pick = (from: readonly string[], max: number): string => Array.from({ length: next(max + 1) }, () => from[next(from.length)]).join("");
      // Short patterns, and long ones whose middle segments pass 31 code points (the other search paths).
      const pairs = [
        ...Array.from({ length: 4000 }, () => [pick(pieces, 9), pick(chars, 16)] as const),
        ...Array.from({ length: 1000 }, () => [pick(pieces, 60), pick(chars, 80)] as const),
      ];
      const wrong = await disagreements(pairs, (pattern, name) => fnmatch(name, pattern));
      expect(wrong.slice(0, 20)).to.deep.equal([]);
      expect(pairs.filter(([pattern, name]) => fnmatch(name, pattern)).length).to.be.greaterThan(40);
    });

    it("agrees with the engine on wide middle pieces (over 31 code points) and texts full of near matches", async function () {
      this.timeout(120_000);
      let seed = 11;
      const next = (n: number): number => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return Math.floor(seed / 65536) % n;
      };
      const letters = ["a", "a", "a", "a", "b", "é", "🙂", ":"];
      // Each wildcard with a character it accepts and one it refuses.
      const wildcards: [string, () => string, string][] = [
        ["?", () => letters[next(letters.length)]!, ""],
        ["[ab]", () => (next(2) === 0 ? "a" : "b"), "é"],
        ["[!a]", () => ["b", "é", "🙂", ":"][next(4)]!, "a"],
        ["[!b]", () => ["a", "a", "é", "🙂"][next(4)]!, "b"],
        ["[é-🙂]", () => ["é", "€", "🙂"][next(3)]!, "a"],
      ];
      // Half the cases are nearly one letter (pieces and texts mostly "a"): the longest literal then
      // occurs at almost every place, overlapping itself.
      let uniform = false;
      const run = (max: number): string => {
        const letter = uniform ? "a" : letters[next(letters.length)]!;
        return Array.from({ length: 1 + next(max) }, () => (next(uniform ? 12 : 6) === 0 ? letters[next(letters.length)]! : letter)).join("");
      };
      /**
       * A middle piece of at least 32 code points and at most 16 wildcards, a text it matches, and
       * (when it has a class) a text that differs only in one character a class refuses.
       */
      const piece = (): { pattern: string; instance: string; refused: string } => {
        let pattern = "";
        let instance = "";
        const refusals: [number, string][] = [];
        let width = 0;
        for (let w = 0; w <= 16 && (width < 32 || next(3) > 0) && width < 200; w++) {
          if (w > 0) {
            const [wildcard, accept, refuse] = wildcards[next(wildcards.length)]!;
            pattern += wildcard;
            if (refuse !== "") refusals.push([width, refuse]);
            instance += accept();
            width++;
          }
          const literal = run(uniform && next(2) === 0 ? 90 : next(4) === 0 ? 40 : 6);
          pattern += literal;
          instance += literal;
          width += [...literal].length;
        }
        const chars = [...instance];
        if (refusals.length > 0) {
          const [at, refuse] = refusals[next(refusals.length)]!;
          chars[at] = refuse;
        }
        return { pattern, instance, refused: chars.join("") };
      };
      /** The instance with one character changed (a near match), or cut short, or refused by a class. */
      const near = (p: { instance: string; refused: string }): string => {
        const chars = [...p.instance];
        const how = next(3);
        if (how === 0) return p.refused;
        if (how === 1) chars[next(chars.length)] = letters[next(letters.length)]!;
        else chars.splice(next(chars.length), 1);
        return chars.join("");
      };
      const fill = (max: number): string => Array.from({ length: next(max + 1) }, () => (next(3) === 0 ? run(12) : "a".repeat(1 + next(uniform ? 60 : 30)))).join("");
      const pairs: (readonly [string, string])[] = [];
      for (let i = 0; i < 1500; i++) {
        uniform = next(2) === 0;
        const pieces = Array.from({ length: 1 + next(2) }, piece);
        const pattern = "*" + pieces.map((p) => p.pattern).join("*") + "*" + (next(2) === 0 ? "" : "a");
        let text = fill(3);
        for (const p of pieces) text += fill(2) + near(p) + (next(2) === 0 ? near(p) : "") + (next(3) > 0 ? p.instance : "") + fill(2);
        text = [...text].slice(0, 255).join("") + (next(2) === 0 ? "a" : "");
        pairs.push([pattern, text]);
      }
      const wrong = await disagreements(pairs, (pattern, name) => fnmatch(name, pattern));
      expect(wrong.slice(0, 20)).to.deep.equal([]);
      const matched = pairs.filter(([pattern, name]) => fnmatch(name, pattern)).length;
      expect(matched).to.be.greaterThan(150);
      expect(pairs.length - matched).to.be.greaterThan(150);
    });

    // The review's shape ran one EVALSHA for 12 s: Redis answered BUSY to
    // everyone. The script's steps now depend on the pattern only.
    it("matches the review's attack shapes in steps bounded by the pattern", async function () {
      this.timeout(60_000);
      const name = "a".repeat(4095) + "b";
      const pairs = [
        ["*" + "?".repeat(4094) + "b", name],
        ["*" + "?".repeat(4094) + "c", name],
        ["*" + "a?".repeat(7) + "b*", "a".repeat(4096)],
        ["*" + "?".repeat(14) + "b*", "🙂".repeat(2048)],
        ["*" + "[ab]".repeat(14) + "c*", "é".repeat(2048)],
      ] as const;
      expect(await disagreements(pairs, (pattern, name) => fnmatch(name, pattern))).to.deep.equal([]);
      expect(fnmatch(pairs[0][1], pairs[0][0])).to.equal(true);
      // Middle pieces with wildcards are left to the engine, whatever the name.
      const client = new Redis(url);
      try {
        const lua = await luaGlob(client, pairs);
        expect(lua.map((l) => l.answer)).to.deep.equal([true, false, undefined, undefined, undefined]);
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
      // Patterns the script leaves to the engine: the decision takes a second call, recorded once.
      const hard = await engine.createSession({ agent: "bot", user: "alice", scope: "*:[ab]?c*" });
      await engine.createDelegation({ fromUser: "alice", toAgent: "bot", actions: ["*x?z*"] });
      const requests = [
        { agent: "bot", user: "alice", action: "read", sessionId: session.sessionId, scope: "project:ab" },
        { agent: "bot", user: "alice", action: "pay", sessionId: session.sessionId },
        { agent: "bot", user: "alice", action: "delete", sessionId: session.sessionId },
        { agent: "bot", user: "alice", action: "read", sessionId: "missing" },
        { agent: "other", user: "alice", action: "read", sessionId: session.sessionId },
        { agent: "bot", user: "bob", action: "read", sessionId: session.sessionId },
        { agent: "bot", user: "alice", action: "read", sessionId: session.sessionId, scope: "project:b" },
        { agent: "bot", user: "alice", action: "read" },
        { agent: "bot", user: "alice", action: "read", sessionId: hard.sessionId, scope: "project:abc" },
        { agent: "bot", user: "alice", action: "read", sessionId: hard.sessionId, scope: "project:acb" },
        { agent: "bot", user: "alice", action: "axyzb" },
        { agent: "bot", user: "alice", action: "axyyzb" },
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
        "Allowed by profile 'bot' (requires soft approval)",
        "Scope 'project:acb' outside session scope '*:[ab]?c*'",
        "Delegated by user 'alice' (requires soft approval)",
        "Action 'axyyzb' not authorized for agent 'bot'",
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

describe("Redis store: patterns the script leaves to the engine", function () {
  // Middle pieces with wildcards (`*x?z*`) are matched by the engine: the
  // script asks for them (one more call), the engine learns them (or knew
  // them, having created them), and the next decisions for that session or
  // pair carry the answers on their first call. Redis never steps through a
  // name for them.
  it("asks once per session and pair a replica did not create, then decides in one call, each answer matched anew", async function () {
    const { AuthEngine } = await import("../../src/embedded-engine.ts");
    const { parseConfig } = await import("../../src/config/index.ts");
    const config = parseConfig(`profiles: {bot: {allow: [read]}}\ndelegation: {enabled: true, rules: [{name: r, allowed_actions: ["*"]}]}\naudit: {durability: sync}\n`, { env: {} });
    const own = new PrivateRedis(await freePort());
    await own.start();
    const p = testPrefix("learned");
    const store = createRedisStore({ connection: { url: own.url }, prefix: p, audit: { durability: "sync", streamMaxLength: 1000 } });
    await store.ready(5000);
    // Another replica: it learns on its own.
    const otherStore = createRedisStore({ connection: { url: own.url }, prefix: p, audit: { durability: "sync", streamMaxLength: 1000 } });
    await otherStore.ready(5000);
    const engine = new AuthEngine(config, { store, audit: false, sameTripAudit: store.audit });
    const other = new AuthEngine(config, { store: otherStore, audit: false, sameTripAudit: otherStore.audit });
    const client = new Redis(own.url);
    const scripts = async (): Promise<number> => {
      const calls = commandCalls(await client.info("commandstats"));
      return (calls.get("evalsha") ?? 0) + (calls.get("eval") ?? 0);
    };
    try {
      const session = await engine.createSession({ agent: "bot", user: "alice", scope: "team:*[0-9]?x*" });
      await engine.createDelegation({ fromUser: "alice", toAgent: "bot", actions: ["*x?z*", "pr:*"] });
      const ask = (e: typeof engine, scope: string, action: string) => e.authorize({ agent: "bot", user: "alice", action, scope, sessionId: session.sessionId });
      // Loads the script in each (its first call is refused NOSCRIPT, then sent whole).
      await ask(engine, "", "read");
      await ask(other, "", "read");
      // The other replica asks, then knows.
      let before = await scripts();
      const first = await ask(other, "team:a1bx", "axyzb");
      expect(await scripts()).to.equal(before + 2);
      expect([first.allowed, first.reason]).to.deep.equal([true, "Delegated by user 'alice'"]);
      // Learned (other) or known since creation (engine): one call each, every answer matched for its own request.
      before = await scripts();
      const next = [
        await ask(other, "team:b2cx", "read"),
        await ask(engine, "team:bcx2", "read"),
        await ask(other, "team:b2cx", "qxqzq"),
        await ask(engine, "team:b2cx", "qxqqz"),
        await ask(engine, "team:b2cx", "axyzb"),
      ];
      expect(await scripts()).to.equal(before + 5);
      expect(next.map((d) => d.reason)).to.deep.equal([
        "Allowed by profile 'bot'",
        "Scope 'team:bcx2' outside session scope 'team:*[0-9]?x*'",
        "Delegated by user 'alice'",
        "Action 'qxqqz' not authorized for agent 'bot'",
        "Delegated by user 'alice'",
      ]);
      // A delegation created since: known to the replica that created it, asked for by the other (one more call).
      await engine.createDelegation({ fromUser: "alice", toAgent: "bot", actions: ["*k?m*"] });
      before = await scripts();
      expect((await ask(engine, "team:b2cx", "akbm")).reason).to.equal("Delegated by user 'alice'");
      expect(await scripts()).to.equal(before + 1);
      before = await scripts();
      expect((await other.authorize({ agent: "bot", user: "alice", action: "akbm" })).reason).to.equal("Delegated by user 'alice'");
      expect(await scripts()).to.equal(before + 2);
      const stream = await client.xrange(`{${p}}:audit`, "-", "+");
      expect(stream.length).to.equal(10);
    } finally {
      client.disconnect();
      await engine.close();
      await other.close();
      await store.close();
      await otherStore.close();
      await own.stop();
    }
  });
});

function commandCalls(info: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

describe("Redis store: delegated actions per user and agent across replicas (limits.max_delegated_patterns)", function () {
  let url: string;
  const prefix = testPrefix("budget");
  before(async function () {
    url = await requireRedis(this);
  });
  after(async () => {
    if (url !== undefined) await deletePrefix(url, prefix);
  });

  it("never lets concurrent creations through two engines take a pair past the limit", async function () {
    this.timeout(30_000);
    const { AuthEngine } = await import("../../src/embedded-engine.ts");
    const { parseConfig } = await import("../../src/config/index.ts");
    const { isLimitExceededError } = await import("../../src/model/errors.ts");
    const config = parseConfig(`profiles: {bot: {allow: [read]}}\ndelegation: {rules: [{name: prs, allowed_actions: ["pr:*"]}]}\n`, { env: {} });
    const stores = [createRedisStore({ connection: { url }, prefix }), createRedisStore({ connection: { url }, prefix })];
    await Promise.all(stores.map((s) => s.ready(5000)));
    const engines = stores.map((store) => new AuthEngine(config, { store }));
    try {
      for (let round = 0; round < 3; round++) {
        const user = `u${round}`;
        // 40 creations of 1 to 3 actions each (80 actions asked), half through each engine, all at once.
        const asks = Array.from({ length: 40 }, (_, i) => ({ fromUser: user, toAgent: "bot", actions: Array.from({ length: 1 + ((i * 7 + round) % 3) }, (_, j) => `pr:${i}-${j}*`) }));
        const settled = await Promise.allSettled(asks.map((a, i) => engines[i % 2]!.createDelegation(a)));
        const refused = settled.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason as unknown);
        for (const e of refused) {
          expect(isLimitExceededError(e) && e.message).to.match(new RegExp(`^delegations from '${user}' to 'bot' would hold (1[7-9]) delegated actions; the limit is 16 \\(limits\\.max_delegated_patterns\\)$`));
        }
        const listed = await engines[round % 2]!.listDelegations({ agent: "bot", user });
        const held = listed.reduce((n, d) => n + d.actions.length, 0);
        expect(held).to.be.within(14, 16);
        expect(listed.length).to.equal(settled.length - refused.length);
        // What the stores hold is what decisions read: one of the granted patterns allows, through either engine.
        const granted = listed[0]!.actions[0]!.slice(0, -1) + "x";
        for (const engine of engines) expect((await engine.authorize({ agent: "bot", user, action: granted })).allowed).to.equal(true);
      }
    } finally {
      await Promise.all(engines.map((e) => e.close()));
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
