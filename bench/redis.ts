/**
 * `npm run bench:redis` — session-gated Authorize (every decision reads its
 * session) over gRPC, driven by h2load, against agent-auth with the Redis
 * store, agent-auth with the memory store, and the no-op server, in one run.
 * Audit durability is `sync` for both stores: with Redis, each decision's
 * record is appended to the stream in the same round trip as its state read.
 * Also counts Redis round trips per decision from Redis' INFO commandstats.
 *
 * Two more rows against the same Redis-backed server: session-gated
 * Authorize requests that each redeem an approval (`approval_id`: the
 * decision is re-evaluated, the approval's binding checked and one use spent,
 * all in the decision's one EVALSHA), and the plain session-gated request run
 * the same way for comparison. h2load replays one body, and an approval has at
 * most `approvals.max_uses` (1,000) uses, so both rows run in h2load runs of
 * 1,000 requests, each approval row run naming a fresh approval approved
 * before the benchmark; afterwards every approval must have been used up
 * exactly, or the benchmark fails.
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
/** Uses per approval (`approvals.max_uses`, at its maximum): the requests of one h2load run in the approval rows. */
const CHUNK = 1000;
/** The approval-requiring, session-gated request of the approval rows: soft tier (deploy-bot's default). */
const DEPLOY = { agent: "deploy-bot", user: "bob", action: "deploy", resource: "/staging/api", scope: "service:api" };


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
      .replace("durability: async", "durability: sync") + `\napprovals:\n  max_uses: ${CHUNK}\n  grant_ttl: 86400\n  pending_ttl: 86400\n`,
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
    // The approval rows: a session of deploy-bot's, and approved tasks bound to it, enough for every run.
    const redisClient = createAgentAuthClient(`127.0.0.1:${servers.redis.port}`);
    const deploySession = (await redisClient.sessions.createSession({ agent: DEPLOY.agent, user: DEPLOY.user, durationSeconds: 86400n })).session!.sessionId;
    const approved = async (): Promise<string> => {
      const { task } = await redisClient.approvals.request({ ...DEPLOY, sessionId: deploySession, justification: "benchmark" });
      await redisClient.approvals.decide({ id: task.id, approve: true, approver: "bench-approver" });
      return task.id;
    };
    const plainDeploy = create(AuthorizeRequestSchema, { ...DEPLOY, sessionId: deploySession });
    const deployBody = grpcFrame(toBinary(AuthorizeRequestSchema, plainDeploy));
    const approvalBody = (approvalId: string): Buffer => grpcFrame(toBinary(AuthorizeRequestSchema, create(AuthorizeRequestSchema, { ...DEPLOY, sessionId: deploySession, approvalId })));
    {
      const probe = await approved();
      const { decision } = await redisClient.authorization.authorize(create(AuthorizeRequestSchema, { ...DEPLOY, sessionId: deploySession, approvalId: probe }), { deadlineMs: 5000 });
      if (decision?.effect !== Effect.ALLOW || decision.requiresApproval || decision.approvedBy !== "bench-approver") {
        throw new Error(`the approval-carrying request is not redeemed: ${decision?.reason}`);
      }
      const plain = (await redisClient.authorization.authorize(plainDeploy, { deadlineMs: 5000 })).decision;
      if (plain?.effect !== Effect.ALLOW || !plain.requiresApproval) throw new Error(`the plain deploy request does not need approval: ${plain?.reason}`);
    }
    const warmup = Math.min(2000, REQUESTS);
    const chunksOf = (n: number): number[] => Array.from({ length: Math.ceil(n / CHUNK) }, (_, i) => Math.min(CHUNK, n - i * CHUNK));
    /** Every approval handed to a run, with the uses that run made of it. */
    const handedOut: { id: string; uses: number }[] = [];
    const approvalsFor = async (n: number): Promise<string[]> => {
      const ids: string[] = [];
      for (const uses of chunksOf(n)) {
        const id = await approved();
        handedOut.push({ id, uses });
        ids.push(id);
      }
      return ids;
    };

    const results: Record<string, Record<number, LoadResult>> = { noop: {}, memory: {}, redis: {}, chunked: {}, approval: {} };
    const perDecision = new Map<string, number>();
    /** INFO commandstats of the chunked rows, by row. */
    const chunkStats: Record<string, Map<string, number>> = { chunked: new Map(), approval: new Map() };
    const chunkDecisions: Record<string, number> = { chunked: 0, approval: 0 };
    const ratios: Record<number, { memory: number; redis: number; approval: number }> = {};
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
      // The approval rows: h2load runs of CHUNK requests, each approval row run with an approval of its own.
      const approvalIds = await approvalsFor(warmup + RUNS * REQUESTS);
      const chunked = async (row: "chunked" | "approval", n: number, counted: boolean): Promise<LoadResult> => {
        const before = counted ? await commandStats(redis) : undefined;
        const parts: LoadResult[] = [];
        for (const size of chunksOf(n)) {
          const body = row === "approval" ? approvalBody(approvalIds.shift()!) : deployBody;
          parts.push(await h2load({ ...opts("redis"), body, requests: size }));
        }
        if (before !== undefined) {
          for (const [k, v] of delta(before, await commandStats(redis))) chunkStats[row]!.set(k, (chunkStats[row]!.get(k) ?? 0) + v);
          chunkDecisions[row]! += n;
        }
        return combine(parts);
      };
      const chunkRuns: Record<"chunked" | "approval", LoadResult[]> = { chunked: [], approval: [] };
      await chunked("chunked", warmup, false);
      await chunked("approval", warmup, false);
      for (const name of Object.keys(servers)) await h2load({ ...opts(name), requests: warmup });
      for (let i = 0; i < RUNS; i++) {
        for (const row of ["chunked", "approval"] as const) chunkRuns[row].push(await chunked(row, REQUESTS, true));
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
      for (const row of ["chunked", "approval"] as const) {
        const rs = chunkRuns[row];
        const failed = rs.reduce((a, r) => a + r.failed, 0);
        if (failed > 0) throw new Error(`${row} at ${streams} streams: ${failed} requests failed`);
        const pick = (f: (r: LoadResult) => number): number => median(rs.map(f));
        results[row]![streams] = { requests: REQUESTS, perSecond: pick((r) => r.perSecond), meanUs: pick((r) => r.meanUs), p50Us: pick((r) => r.p50Us), p90Us: pick((r) => r.p90Us), p99Us: pick((r) => r.p99Us), failed: 0 };
      }
      ratios[streams] = {
        memory: median(runs["memory"]!.map((r, i) => r.perSecond / runs["noop"]![i]!.perSecond)),
        redis: median(runs["redis"]!.map((r, i) => r.perSecond / runs["noop"]![i]!.perSecond)),
        approval: median(chunkRuns.approval.map((r, i) => r.perSecond / chunkRuns.chunked[i]!.perSecond)),
      };
      process.stderr.write(`  done: ${streams} streams\n`);
    }
    // Every request of the approval rows redeemed: each approval used exactly as often as its run sent it.
    for (const { id, uses } of handedOut) {
      const task = await redisClient.approvals.get(id);
      if (task === undefined || task.usesLeft !== CHUNK - uses) {
        throw new Error(`approval ${id}: ${uses} uses sent, ${task === undefined ? "task gone" : `${CHUNK - task.usesLeft} spent (status ${task.status})`}`);
      }
    }
    redisClient.close();
    print(results, perDecision, decisions, ratios, chunkStats, chunkDecisions, handedOut.length);
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

/** h2load runs made one after another as one run: calls/s over their summed time, latencies weighted by requests. */
function combine(parts: readonly LoadResult[]): LoadResult {
  const requests = parts.reduce((a, r) => a + r.requests, 0);
  const seconds = parts.reduce((a, r) => a + r.requests / r.perSecond, 0);
  const weighted = (f: (r: LoadResult) => number): number => parts.reduce((a, r) => a + f(r) * r.requests, 0) / Math.max(1, requests);
  return {
    requests,
    perSecond: requests / seconds,
    meanUs: weighted((r) => r.meanUs),
    p50Us: weighted((r) => r.p50Us),
    p90Us: weighted((r) => r.p90Us),
    p99Us: Math.max(...parts.map((r) => r.p99Us)),
    failed: parts.reduce((a, r) => a + r.failed, 0),
  };
}

const SENT_BY_CLIENTS = new Set(["evalsha", "eval", "xread", "xrange", "xinfo|stream", "xinfo", "ping", "script|load"]);

function print(
  results: Record<string, Record<number, LoadResult>>,
  stats: Map<string, number>,
  decisions: number,
  ratios: Record<number, { memory: number; redis: number; approval: number }>,
  chunkStats: Record<string, Map<string, number>>,
  chunkDecisions: Record<string, number>,
  approvals: number,
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
  const fmtPer = (list: [string, number][], n: number): string => list.sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / n).toFixed(3)}`).join(", ") || "none";
  const fmt = (list: [string, number][]): string => fmtPer(list, decisions);
  console.log(`  sent by agent-auth (round trips): ${fmt(sent)}`);
  console.log(`  run inside the Lua script (no round trip): ${fmt(inside)}`);

  console.log(`\nRedeeming an approval: deploy-bot's session-gated, approval-requiring deploy, Redis store, in h2load runs of ${CHUNK} requests`);
  console.log(`(one approval per run of the approval row, ${approvals.toLocaleString("en-US")} approvals in all; "plain" sends the same request without approval_id)`);
  console.log("p99 is the largest of the runs' p99s, the other latencies are weighted means of the runs'");
  const aRows: string[][] = [];
  for (const streams of STREAMS) {
    for (const row of ["chunked", "approval"]) {
      const r = results[row]![streams]!;
      aRows.push([
        String(streams),
        row === "chunked" ? "plain session-gated Authorize" : "redeems an approval",
        Math.round(r.perSecond).toLocaleString("en-US"),
        r.meanUs.toFixed(0),
        r.p50Us.toFixed(0),
        r.p90Us.toFixed(0),
        r.p99Us.toFixed(0),
        row === "chunked" ? "" : `${(ratios[streams]!.approval * 100).toFixed(1)} %`,
      ]);
    }
  }
  const aHeaders = ["streams", "request", "calls/s", "mean", "p50", "p90", "p99", "calls/s vs plain"];
  const aWidths = aHeaders.map((h, i) => Math.max(h.length, ...aRows.map((r) => r[i]!.length)));
  const aLine = (cells: string[]): string => cells.map((c, i) => (i === 1 ? c.padEnd(aWidths[i]!) : c.padStart(aWidths[i]!))).join("  ");
  console.log(aLine(aHeaders));
  console.log(aWidths.map((w) => "-".repeat(w)).join("  "));
  for (const r of aRows) console.log(aLine(r));
  for (const row of ["chunked", "approval"]) {
    const n = chunkDecisions[row]!;
    const st = [...chunkStats[row]!].filter(([k]) => k !== "info");
    console.log(`Redis commands per decision, ${row === "chunked" ? "plain" : "redeeming"} (${n.toLocaleString("en-US")} decisions): sent ${fmtPer(st.filter(([k]) => SENT_BY_CLIENTS.has(k)), n)}; inside Lua ${fmtPer(st.filter(([k]) => !SENT_BY_CLIENTS.has(k)), n)}`);
  }
  console.log("\nRerun: npm run bench:redis   (BENCH_REQUESTS, BENCH_RUNS, AGENT_AUTH_BENCH_REDIS)");
}

await main();
