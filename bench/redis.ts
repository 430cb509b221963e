/**
 * `npm run bench:redis` — session-gated Authorize (every decision reads its
 * session) over gRPC, driven by h2load, against agent-auth with the Redis
 * store, agent-auth with the memory store, and the no-op server, in one run.
 * Audit durability is `sync` for both stores: with Redis, each decision's
 * record is appended to the stream in the same round trip as its state read.
 * Also counts Redis round trips per decision from Redis' INFO commandstats.
 *
 * Starts a redis-server of its own on a free port (pinned, like h2load, to
 * CPU 0), or uses $AGENT_AUTH_BENCH_REDIS under a key prefix of its own.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import { AuthorizeRequestSchema } from "../gen/agentauth/v1/authorization_pb.ts";
import { Effect } from "../gen/agentauth/v1/decision_pb.ts";
import { createAgentAuthClient } from "../src/client/index.ts";
import { grpcFrame, h2load, median, startProcess, stopProcess, type LoadResult } from "./h2load.ts";

const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 20_000);
const RUNS = Number(process.env["BENCH_RUNS"] ?? 5);
const STREAMS = [1, 16, 64];


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

async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const text = (await redis.info("commandstats")) as string;
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

function delta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0) out.set(k, d);
  }
  return out;
}

async function main(): Promise<void> {
  execFileSync("sh", ["-c", "command -v h2load"], { stdio: "ignore" });
  const pin = (() => {
    try {
      execFileSync("sh", ["-c", "command -v taskset"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();
  const dir = mkdtempSync(join(tmpdir(), "agent-auth-bench-redis-"));
  const prefix = `aa-bench-${process.pid}`;
  const policy = join(dir, "policy.yaml");
  writeFileSync(
    policy,
    readFileSync("examples/agent_auth.yaml", "utf8")
      .replace("path: .agent_auth/audit.jsonl", `path: ${join(dir, "audit.jsonl")}`)
      .replace("durability: async", "durability: sync"),
  );
  let redisServer: ChildProcess | undefined;
  let REDIS_URL = process.env["AGENT_AUTH_BENCH_REDIS"] ?? "";
  if (REDIS_URL === "") {
    const port = await freePort();
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    redisServer = pin ? spawn("taskset", ["-c", "0", "redis-server", ...args], { stdio: "ignore" }) : spawn("redis-server", args, { stdio: "ignore" });
    REDIS_URL = `redis://127.0.0.1:${port}`;
    await new Promise((r) => setTimeout(r, 300));
  }
  const redis = new Redis(REDIS_URL);
  const cpu = pin ? "1" : undefined;
  const servers = {
    noop: await startProcess("bench/servers.ts", ["noop"], cpu),
    memory: await startProcess("bench/servers.ts", ["agent-auth", policy], cpu),
    redis: await startProcess("bench/servers.ts", ["agent-auth", policy, "--redis", REDIS_URL, "--prefix", prefix], cpu),
  };
  try {
    const bodies: Record<string, Buffer> = {};
    for (const [name, s] of Object.entries(servers)) {
      const client = createAgentAuthClient(`127.0.0.1:${s.port}`);
      const sessionId = name === "noop" ? "no-session" : (await client.sessions.createSession({ agent: "copilot", user: "alice", durationSeconds: 3600n })).session!.sessionId;
      const request = create(AuthorizeRequestSchema, { agent: "copilot", user: "alice", action: "read", resource: "/docs/1", scope: "project:web", sessionId });
      const { decision } = await client.authorization.authorize(request, { deadlineMs: 5000 });
      client.close();
      if (decision?.effect !== Effect.ALLOW) throw new Error(`${name}: the session-gated request is not allowed: ${decision?.reason}`);
      bodies[name] = grpcFrame(toBinary(AuthorizeRequestSchema, request));
    }
    const results: Record<string, Record<number, LoadResult>> = { noop: {}, memory: {}, redis: {} };
    const perDecision = new Map<string, number>();
    const ratios: Record<number, { memory: number; redis: number }> = {};
    let decisions = 0;
    // Servers take turns within every round, so that the machine's drift over
    // minutes weighs on all of them alike.
    for (const streams of STREAMS) {
      const runs: Record<string, LoadResult[]> = { noop: [], memory: [], redis: [] };
      const opts = (name: string) => ({
        url: `http://127.0.0.1:${servers[name as keyof typeof servers].port}/agentauth.v1.AuthorizationService/Authorize`,
        body: bodies[name]!,
        streams,
        dir,
        ...(pin ? { cpu: "0" } : {}),
      });
      for (const name of Object.keys(servers)) await h2load({ ...opts(name), requests: Math.min(2000, REQUESTS) });
      for (let i = 0; i < RUNS; i++) {
        for (const name of Object.keys(servers)) {
          const before = name === "redis" ? await commandStats(redis) : undefined;
          const r = await h2load({ ...opts(name), requests: REQUESTS });
          if (before !== undefined) {
            // Counted around the run only; this process's INFO calls are excluded below.
            for (const [k, v] of delta(before, await commandStats(redis))) perDecision.set(k, (perDecision.get(k) ?? 0) + v);
            decisions += r.requests;
          }
          runs[name]!.push(r);
        }
      }
      for (const name of Object.keys(servers)) {
        const rs = runs[name]!;
        const failed = rs.reduce((a, r) => a + r.failed, 0);
        if (failed > 0) throw new Error(`${name} at ${streams} streams: ${failed} requests failed`);
        const pick = (f: (r: LoadResult) => number): number => median(rs.map(f));
        results[name]![streams] = { requests: REQUESTS, perSecond: pick((r) => r.perSecond), meanUs: pick((r) => r.meanUs), p50Us: pick((r) => r.p50Us), p90Us: pick((r) => r.p90Us), p99Us: pick((r) => r.p99Us), failed: 0 };
      }
      ratios[streams] = {
        memory: median(runs["memory"]!.map((r, i) => r.perSecond / runs["noop"]![i]!.perSecond)),
        redis: median(runs["redis"]!.map((r, i) => r.perSecond / runs["noop"]![i]!.perSecond)),
      };
      process.stderr.write(`  done: ${streams} streams\n`);
    }
    print(results, perDecision, decisions, ratios);
  } finally {
    for (const s of Object.values(servers)) await stopProcess(s.child);
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `{${prefix}}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
    redis.disconnect();
    if (redisServer !== undefined) await stopProcess(redisServer);
    rmSync(dir, { recursive: true, force: true });
  }
}

const SENT_BY_CLIENTS = new Set(["evalsha", "eval", "xread", "xrange", "xinfo|stream", "xinfo", "ping", "script|load"]);

function print(
  results: Record<string, Record<number, LoadResult>>,
  stats: Map<string, number>,
  decisions: number,
  ratios: Record<number, { memory: number; redis: number }>,
): void {
  console.log(`agent-auth Redis benchmark — session-gated Authorize via h2load, ${REQUESTS} requests × ${RUNS} rounds (median), node ${process.version}`);
  console.log("audit durability sync; servers pinned to CPU 1, h2load and redis-server to CPU 0; latencies in µs");
  console.log("servers take turns within each round; \"calls/s vs no-op\" is the median of the per-round ratios\n");
  const headers = ["streams", "server", "calls/s", "mean", "p50", "p90", "p99", "calls/s vs no-op", "mean vs no-op"];
  const rows: string[][] = [];
  for (const streams of STREAMS) {
    const noop = results["noop"]![streams]!;
    for (const name of ["noop", "memory", "redis"]) {
      const r = results[name]![streams]!;
      rows.push([
        String(streams),
        name === "noop" ? "no-op" : `agent-auth, ${name} store`,
        Math.round(r.perSecond).toLocaleString("en-US"),
        r.meanUs.toFixed(0),
        r.p50Us.toFixed(0),
        r.p90Us.toFixed(0),
        r.p99Us.toFixed(0),
        name === "noop" ? "" : `${(ratios[streams]![name as "memory" | "redis"] * 100).toFixed(1)} %`,
        name === "noop" ? "" : `${(r.meanUs / noop.meanUs).toFixed(2)}×`,
      ]);
    }
  }
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(headers));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
  console.log(`\nRedis commands during the Redis runs (INFO commandstats), per decision (${decisions.toLocaleString("en-US")} decisions):`);
  const sent = [...stats].filter(([k]) => SENT_BY_CLIENTS.has(k) && k !== "info");
  const inside = [...stats].filter(([k]) => !SENT_BY_CLIENTS.has(k) && k !== "info");
  const fmt = (list: [string, number][]): string => list.sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / decisions).toFixed(3)}`).join(", ");
  console.log(`  sent by agent-auth (round trips): ${fmt(sent)}`);
  console.log(`  run inside the Lua script (no round trip): ${fmt(inside)}`);
  console.log("\nRerun: npm run bench:redis   (BENCH_REQUESTS, BENCH_RUNS, AGENT_AUTH_BENCH_REDIS)");
}

await main();
