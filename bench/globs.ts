/**
 * `npm run bench:globs` — the worst decision a caller can construct within the
 * limits: a session whose scope is a worst-shape pattern and 16 delegated
 * worst-shape patterns under the example policy's `pr:*` rule (all the
 * delegated actions one user may give one agent, `limits.max_delegated_patterns`),
 * each within `limits.max_pattern_length` 256 and `limits.max_pattern_wildcards`
 * 16, against a request action and scope of 256 characters
 * (`limits.max_name_length`). None of the delegated patterns matches, so every
 * one is tried. Each shape is timed with the memory store and the Redis store,
 * next to the same decision with plain patterns (`*c`, `pr:N*`); the difference
 * is the matching. Prints µs per decision (median of the rounds), the µs Redis
 * spent in scripts per decision (`INFO commandstats`), and the first decision of
 * fresh sessions and delegations (with Redis, decided by another replica, which
 * asks its engine for patterns with a wildcard between two stars before it has
 * learned them).
 *
 * Starts a redis-server of its own on a free port (never a shared one), or uses
 * $AGENT_AUTH_BENCH_REDIS under a key prefix of its own.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { parseConfig } from "../src/config/index.ts";
import { AuthEngine } from "../src/embedded-engine.ts";
import type { AuthRequest } from "../src/model/types.ts";
import { createRedisStore } from "../src/state/redis/redis-store.ts";
import { median } from "./h2load.ts";

const DECISIONS = Number(process.env["BENCH_DECISIONS"] ?? 200);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 5);

const POLICY = `version: "1.0"
profiles:
  bot: {allow: [], scopes: ["*"]}
delegation:
  enabled: true
  rules:
    - {name: no-money-by-proxy, allowed_actions: [read, list, write, comment, "pr:*", deploy]}
sessions: {default_duration: 3600, max_duration: 86400}
`;

/**
 * Middle segments are what costs (first and last ones are anchored): each
 * shape makes every place of the text a candidate that fails late. Within 256
 * characters and 16 wildcards each.
 */
const SHAPES: Record<string, string> = {
  "literal and ? alternating": "*" + "a?".repeat(7) + "c*",
  "one literal, 13 ?": "*a" + "?".repeat(13) + "c*",
  "ASCII classes": "*" + "[ab]".repeat(13) + "[!a]*",
  "wide ASCII classes": "*" + "[ -~]".repeat(13) + "[!ab]*",
  "non-ASCII classes": "*" + "[a-é]".repeat(13) + "[!a]*",
  "long literals": "*" + "a".repeat(120) + "?" + "a".repeat(120) + "c*",
  // Plain text between the stars: Redis' own substring search, at each place of a run of one letter.
  "one long literal": "*" + "a".repeat(127) + "c*",
  "wide, one-letter literals": "*" + "aa[ab]".repeat(13) + "aa[!a]*",
  "wide, long and short literals": "*" + "a".repeat(102) + "?a".repeat(13) + "[!a]*",
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The longest action and scope a request may carry (limits.max_name_length). */
const TEXT_LENGTH = 256;
let users = 0;

/** An engine with a session scoped `scope` and one delegation of `actions` to bot, from a user of its own. */
async function setUp(engine: AuthEngine, scope: string, actions: string[]): Promise<AuthRequest> {
  const user = `user-${++users}`;
  const session = await engine.createSession({ agent: "bot", user, scope });
  await engine.createDelegation({ fromUser: user, toAgent: "bot", actions });
  // The scope matches only at its very end (the whole text is searched); the
  // action matches no delegated pattern (each one searches the whole text).
  return { agent: "bot", user, action: "pr:" + "a".repeat(TEXT_LENGTH - 3), scope: "a".repeat(TEXT_LENGTH - 1) + "c", sessionId: session.sessionId };
}

/** Microseconds Redis has spent in scripts so far (`INFO commandstats`: EVALSHA and EVAL). */
async function scriptUsec(redis: Redis): Promise<number> {
  const info = await redis.info("commandstats");
  let total = 0;
  for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=\d+,usec=(\d+),/gm)) total += Number(m[1]);
  return total;
}

/** Fresh sessions and delegations whose first decision is timed. */
const FIRSTS = Number(process.env["BENCH_FIRSTS"] ?? 20);

/** Checks that the worst-case request passes the session scope and tries every pattern. */
function checkWorst(reason: string): void {
  if (!reason.endsWith("not authorized for agent 'bot'")) throw new Error(`the worst-case request must pass the session scope and try every pattern: ${reason}`);
}

/**
 * The median µs of the first decision of FIRSTS fresh sessions and
 * delegations of the shape, made by `creator` and decided by `decider`: with
 * Redis, another replica's, which asks its engine for the patterns (a second
 * call) before it has learned them.
 */
async function timeFirsts(creator: AuthEngine, decider: AuthEngine, scope: string, actions: string[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < FIRSTS; i++) {
    const request = await setUp(creator, scope, actions);
    const t = performance.now();
    const d = await decider.authorize(request);
    times.push((performance.now() - t) * 1000);
    checkWorst(d.reason);
  }
  return median(times);
}

/** Median µs per decision over the rounds, and (with `redis`) the median µs Redis spent in scripts per decision. */
async function timeDecisions(engine: AuthEngine, request: AuthRequest, redis?: Redis): Promise<{ us: number; redisUs: number | undefined }> {
  checkWorst((await engine.authorize(request)).reason);
  const rounds: number[] = [];
  const held: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const before = redis === undefined ? 0 : await scriptUsec(redis);
    const t = performance.now();
    for (let i = 0; i < DECISIONS; i++) await engine.authorize(request);
    rounds.push(((performance.now() - t) * 1000) / DECISIONS);
    if (redis !== undefined) held.push(((await scriptUsec(redis)) - before) / DECISIONS);
  }
  return { us: median(rounds), redisUs: redis === undefined ? undefined : median(held) };
}

async function main(): Promise<void> {
  const config = parseConfig(POLICY, { env: {} });
  let redisServer: ChildProcess | undefined;
  let url = process.env["AGENT_AUTH_BENCH_REDIS"] ?? "";
  if (url === "") {
    const port = await freePort();
    redisServer = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    url = `redis://127.0.0.1:${port}`;
    await new Promise((r) => setTimeout(r, 300));
  }
  const prefix = `aa-bench-globs-${process.pid}`;
  const store = createRedisStore({ connection: { url }, prefix, onError: (e) => console.error("redis store:", e) });
  await store.ready(5000);
  // Another replica on the same Redis: it decides the first decisions of sessions and delegations the first one created.
  const replicaStore = createRedisStore({ connection: { url }, prefix, onError: (e) => console.error("redis store:", e) });
  await replicaStore.ready(5000);
  const engines = {
    memory: new AuthEngine(config, { audit: false }),
    redis: new AuthEngine(config, { audit: false, store }),
  };
  const deciders: Record<string, AuthEngine> = { memory: engines.memory, redis: new AuthEngine(config, { audit: false, store: replicaStore }) };
  const stats = new Redis(url);
  const rows: string[][] = [];
  try {
    const baseline: Record<string, number> = {};
    const time = (name: string, engine: AuthEngine, request: AuthRequest) => timeDecisions(engine, request, name === "redis" ? stats : undefined);
    const held = (t: { redisUs: number | undefined }): string => (t.redisUs === undefined ? "—" : t.redisUs.toFixed(0));
    for (const [name, engine] of Object.entries(engines)) {
      const plain = Array.from({ length: 16 }, (_, i) => `pr:${i}*`);
      const t = await time(name, engine, await setUp(engine, "*c", plain));
      baseline[name] = t.us;
      rows.push([name, "plain patterns (baseline)", t.us.toFixed(0), "—", held(t), (await timeFirsts(engine, deciders[name]!, "*c", plain)).toFixed(0)]);
    }
    for (const [shape, pattern] of Object.entries(SHAPES)) {
      for (const [name, engine] of Object.entries(engines)) {
        const actions = Array.from({ length: 16 }, () => "pr:" + pattern);
        const t = await time(name, engine, await setUp(engine, pattern, actions));
        rows.push([name, shape, t.us.toFixed(0), (t.us - baseline[name]!).toFixed(0), held(t), (await timeFirsts(engine, deciders[name]!, pattern, actions)).toFixed(0)]);
      }
    }
  } finally {
    stats.disconnect();
    await store.close();
    await replicaStore.close();
    if (redisServer !== undefined) redisServer.kill("SIGTERM");
    else {
      const redis = new Redis(url);
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `{${prefix}}*`, "COUNT", 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== "0");
      redis.disconnect();
    }
  }
  console.log(`Worst decisions within the limits: a session scope and 16 delegated patterns of each shape,`);
  console.log(`a ${TEXT_LENGTH}-character scope and action; ${DECISIONS} decisions × ${ROUNDS} rounds, median µs per decision.\n`);
  console.log(`First decision: median of ${FIRSTS} fresh sessions and delegations (with Redis, decided by another replica, before it has learned their patterns).\n`);
  console.log(["store", "shape", "µs/decision", "matching µs (minus baseline)", "Redis µs in scripts per decision", "first decision µs"].join(" | "));
  for (const row of rows) console.log(row.join(" | "));
  console.log("\nRerun: npm run bench:globs   (BENCH_DECISIONS, BENCH_ROUNDS, BENCH_FIRSTS, AGENT_AUTH_BENCH_REDIS)");
}

await main();
