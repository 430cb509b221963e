/**
 * `npm run bench:http` — the AuthZEN Access Evaluation API over HTTP/1.1,
 * driven by h2load (`--h1`) at 1, 16 and 64 keep-alive connections, against
 * agent-auth (example policy, memory store, audit to a file) and, in the same
 * run, a no-op route on the same HTTP stack (the same listener, hooks, request
 * schema and response serializer) answering a fixed decision. Then what one
 * evaluation costs over gRPC vs HTTP: the same agent-auth process answering
 * Authorize (h2load, one stream) and evaluation (one connection), turn about.
 * Servers run pinned to CPU 1, h2load to CPU 0. Medians of interleaved rounds,
 * the servers going first in alternate rounds, each round answered by the
 * next of several processes of each server.
 */
import { execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { AuthorizeRequestSchema } from "../gen/agentauth/v1/authorization_pb.ts";
import { grpcFrame, h2load, median, startProcess, stopProcess, type LoadResult } from "./h2load.ts";

const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 20_000);
const RUNS = Number(process.env["BENCH_RUNS"] ?? 6);
/**
 * Processes of each server, taking the rounds in turn: two processes of the
 * same server differ by a few percent (where V8 inlined what, where memory
 * landed), so each server's figure is the median over several of them.
 */
const PROCESSES = Math.max(1, Number(process.env["BENCH_PROCESSES"] ?? 3));
const CONNECTIONS = [1, 16, 64];
type Started = Awaited<ReturnType<typeof startProcess>>;
/** One request at a time is latency-bound: fewer requests give the same medians in a fraction of the time. */
const SINGLE_REQUESTS = Math.min(REQUESTS, 5000);
const PATH = "/access/v1/evaluation";

function hasCommand(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** The evaluation every request asks: allowed by the example policy, no state needed. */
const EVALUATION = {
  subject: { type: "user", id: "alice", properties: { act: { sub: "copilot", sub_profile: "ai_agent" } } },
  action: { name: "read" },
  resource: { type: "document", id: "/docs/1", properties: { scope: "project:web" } },
};

async function main(): Promise<void> {
  if (!hasCommand("h2load")) {
    console.error("h2load not found: apt-get install nghttp2-client");
    process.exit(1);
  }
  const pin = hasCommand("taskset");
  const cpu = pin ? "1" : undefined;
  const pinned = pin ? { cpu: "0" } : {};
  const dir = mkdtempSync(join(tmpdir(), "agent-auth-bench-http-"));
  // Each agent-auth process its own audit file.
  const policyFor = (k: number): string => {
    const path = join(dir, `policy-${k}.yaml`);
    writeFileSync(path, readFileSync("examples/agent_auth.yaml", "utf8").replace("path: .agent_auth/audit.jsonl", `path: ${join(dir, `audit-${k}.jsonl`)}`));
    return path;
  };
  const body = Buffer.from(JSON.stringify(EVALUATION));
  const grpcBody = grpcFrame(toBinary(AuthorizeRequestSchema, create(AuthorizeRequestSchema, { agent: "copilot", user: "alice", action: "read", resource: "/docs/1", scope: "project:web" })));

  const children: ChildProcess[] = [];
  const started = async (args: string[]): Promise<Started> => {
    const p = await startProcess("bench/servers.ts", args, cpu);
    children.push(p.child);
    return p;
  };
  try {
    // Each server's processes, by name: HTTP ports, round by round in turn.
    const ports: Record<string, number[]> = { noop: [], "agent-auth": [] };
    let agentAuth: Started | undefined;
    for (let k = 0; k < PROCESSES; k++) {
      ports["noop"]!.push((await started(["http-noop"])).port);
      const a = await started(["agent-auth", policyFor(k), "--http"]);
      agentAuth ??= a;
      ports["agent-auth"]!.push(a.httpPort!);
    }
    // HTTP 200 alone proves nothing: check that each server answers the benchmark request with an allow.
    for (const [name, list] of Object.entries(ports)) {
      for (const port of list) {
        const r = await fetch(`http://127.0.0.1:${port}${PATH}`, { method: "POST", headers: { "content-type": "application/json" }, body });
        const answer = (await r.json()) as { decision?: boolean; context?: { reason?: string } };
        if (r.status !== 200 || answer.decision !== true || answer.context?.reason !== "Allowed by profile 'copilot'") throw new Error(`${name}: the benchmark request is not answered with an allow`);
      }
    }
    const results: Record<string, Record<number, LoadResult>> = { noop: {}, "agent-auth": {} };
    const ratios: Record<number, { perSecond: number; mean: number }> = {};
    for (const connections of CONNECTIONS) {
      const url = (name: string, k: number): string => `http://127.0.0.1:${ports[name]![k % PROCESSES]}${PATH}`;
      const runs: Record<string, LoadResult[]> = { noop: [], "agent-auth": [] };
      const load = (name: string, k: number, requests: number): Promise<LoadResult> => h2load({ url: url(name, k), body, requests, streams: 1, dir, h1: { connections }, ...pinned });
      for (let k = 0; k < PROCESSES; k++) for (const name of Object.keys(runs)) await load(name, k, Math.min(2000, REQUESTS));
      // The servers take turns within each round, so the machine's drift weighs on both alike, and
      // go first in alternate rounds, so that neither always runs on what the other left behind;
      // round i is answered by process i of each (modulo their number).
      for (let i = 0; i < RUNS; i++) {
        const names = Object.keys(runs);
        for (const name of i % 2 === 0 ? names : names.reverse()) runs[name]!.push(await load(name, i, REQUESTS));
      }
      for (const name of Object.keys(runs)) {
        const rs = runs[name]!;
        const failed = rs.reduce((a, r) => a + r.failed, 0);
        if (failed > 0) throw new Error(`${name} at ${connections} connections: ${failed} requests failed`);
        const pick = (f: (r: LoadResult) => number): number => median(rs.map(f));
        results[name]![connections] = { requests: REQUESTS, perSecond: pick((r) => r.perSecond), meanUs: pick((r) => r.meanUs), p50Us: pick((r) => r.p50Us), p90Us: pick((r) => r.p90Us), p99Us: pick((r) => r.p99Us), failed: 0 };
      }
      ratios[connections] = {
        perSecond: median(runs["agent-auth"]!.map((r, i) => r.perSecond / runs["noop"]![i]!.perSecond)),
        mean: median(runs["agent-auth"]!.map((r, i) => r.meanUs / runs["noop"]![i]!.meanUs)),
      };
      process.stderr.write(`  done: ${connections} connections\n`);
    }

    // One evaluation, one at a time, over each transport of the same process.
    const single: Record<"gRPC" | "HTTP", LoadResult[]> = { gRPC: [], HTTP: [] };
    const grpcUrl = `http://127.0.0.1:${agentAuth!.port}/agentauth.v1.AuthorizationService/Authorize`;
    const httpUrl = `http://127.0.0.1:${agentAuth!.httpPort}${PATH}`;
    for (let i = 0; i < RUNS; i++) {
      single.gRPC.push(await h2load({ url: grpcUrl, body: grpcBody, requests: SINGLE_REQUESTS, streams: 1, dir, ...pinned }));
      single.HTTP.push(await h2load({ url: httpUrl, body, requests: SINGLE_REQUESTS, streams: 1, dir, h1: { connections: 1 }, ...pinned }));
    }
    if ([...single.gRPC, ...single.HTTP].some((r) => r.failed > 0)) throw new Error("single-evaluation runs had failed requests");
    printTables(results, ratios, single);
  } finally {
    for (const child of children) await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(headers));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

function printTables(results: Record<string, Record<number, LoadResult>>, ratios: Record<number, { perSecond: number; mean: number }>, single: Record<"gRPC" | "HTTP", LoadResult[]>): void {
  const n = (x: number): string => Math.round(x).toLocaleString("en-US");
  console.log(`agent-auth HTTP benchmark — AuthZEN evaluation via h2load --h1, ${REQUESTS} requests × ${RUNS} rounds (median) over ${PROCESSES} processes of each server, node ${process.version}`);
  console.log('servers take turns within each round, going first in alternate rounds; "vs no-op" columns are medians of the per-round ratios');
  console.log("servers pinned to CPU 1, h2load to CPU 0; latencies in µs (h2load per-request log)");
  console.log("noop = the same HTTP stack and schemas answering a fixed decision\n");
  const rows: string[][] = [];
  for (const c of CONNECTIONS) {
    for (const name of ["noop", "agent-auth"]) {
      const r = results[name]![c]!;
      const last = name === "agent-auth";
      rows.push([String(c), name, n(r.perSecond), n(r.meanUs), n(r.p50Us), n(r.p90Us), n(r.p99Us), last ? `${(ratios[c]!.perSecond * 100).toFixed(1)} %` : "", last ? `${ratios[c]!.mean.toFixed(2)}×` : ""]);
    }
  }
  table(["connections", "server", "req/s", "mean", "p50", "p90", "p99", "req/s vs no-op", "mean vs no-op"], rows);
  console.log(`\nOne evaluation at a time, same agent-auth process, ${SINGLE_REQUESTS} requests × ${RUNS} rounds: gRPC Authorize (one HTTP/2 stream) vs AuthZEN evaluation (one HTTP/1.1 connection)\n`);
  const srows = (["gRPC", "HTTP"] as const).map((t) => {
    const rs = single[t];
    return [t, "", n(median(rs.map((r) => r.perSecond))), n(median(rs.map((r) => r.meanUs))), n(median(rs.map((r) => r.p50Us))), n(median(rs.map((r) => r.p99Us)))];
  });
  table(["transport", "", "req/s", "mean µs", "p50 µs", "p99 µs"], srows);
  const perCall = median(single.HTTP.map((r, i) => r.meanUs / single.gRPC[i]!.meanUs));
  console.log(`\nHTTP / gRPC mean latency per evaluation: ${perCall.toFixed(2)}× (median of per-round ratios)`);
  console.log("\nRerun: npm run bench:http   (BENCH_REQUESTS, BENCH_RUNS, BENCH_PROCESSES to change the counts; needs h2load from nghttp2-client)");
}

await main();
