/**
 * `npm run bench:grpc` — Authorize over gRPC, driven by h2load at 1, 16 and 64
 * concurrent streams, against agent-auth (example policy, memory store, audit
 * to a file) and, in the same run, a no-op grpc-js server speaking the same
 * contract (decodes the request, answers a fixed decision) — plus a raw
 * server answering fixed bytes, the transport's floor. Servers run pinned to
 * CPU 1, h2load to CPU 0. Prints calls/s, latency percentiles and the ratios
 * of agent-auth to the no-op server.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { AuthorizeRequestSchema } from "../gen/agentauth/v1/authorization_pb.ts";
import { Effect } from "../gen/agentauth/v1/decision_pb.ts";
import { createAgentAuthClient } from "../src/client/index.ts";
import { grpcFrame, h2load, median, startProcess, stopProcess, type LoadResult } from "./h2load.ts";

const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 20_000);
const RUNS = Number(process.env["BENCH_RUNS"] ?? 5);
const STREAMS = [1, 16, 64];

function hasCommand(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  if (!hasCommand("h2load")) {
    console.error("h2load not found: apt-get install nghttp2-client");
    process.exit(1);
  }
  const pin = hasCommand("taskset");
  const dir = mkdtempSync(join(tmpdir(), "agent-auth-bench-grpc-"));
  const policy = join(dir, "policy.yaml");
  writeFileSync(policy, readFileSync("examples/agent_auth.yaml", "utf8").replace("path: .agent_auth/audit.jsonl", `path: ${join(dir, "audit.jsonl")}`));
  const request = create(AuthorizeRequestSchema, { agent: "copilot", user: "alice", action: "read", resource: "/docs/1", scope: "project:web" });
  const body = grpcFrame(toBinary(AuthorizeRequestSchema, request));

  const servers = {
    raw: await startProcess("bench/servers.ts", ["raw"], pin ? "1" : undefined),
    noop: await startProcess("bench/servers.ts", ["noop"], pin ? "1" : undefined),
    "agent-auth": await startProcess("bench/servers.ts", ["agent-auth", policy], pin ? "1" : undefined),
  };
  try {
    // HTTP 200 does not prove success: make the same call with a real client and check the answer.
    for (const [name, s] of Object.entries(servers)) {
      if (name === "raw") continue; // answers bytes, not a decision of this request
      const client = createAgentAuthClient(`127.0.0.1:${s.port}`);
      const { decision } = await client.authorization.authorize(request, { deadlineMs: 5000 });
      client.close();
      if (decision?.effect !== Effect.ALLOW) throw new Error(`${name}: the benchmark request is not answered with an allow`);
    }
    const results: Record<string, Record<number, LoadResult>> = { raw: {}, noop: {}, "agent-auth": {} };
    const ratios: Record<number, { perSecond: number; mean: number }> = {};
    // Servers take turns within every round, so that the machine's drift over
    // minutes weighs on all of them alike.
    for (const streams of STREAMS) {
      const runs: Record<string, LoadResult[]> = { raw: [], noop: [], "agent-auth": [] };
      const url = (name: string) => `http://127.0.0.1:${servers[name as keyof typeof servers].port}/agentauth.v1.AuthorizationService/Authorize`;
      const pinned = pin ? { cpu: "0" } : {};
      for (const name of Object.keys(servers)) await h2load({ url: url(name), body, requests: Math.min(2000, REQUESTS), streams, dir, ...pinned });
      for (let i = 0; i < RUNS; i++) {
        for (const name of Object.keys(servers)) runs[name]!.push(await h2load({ url: url(name), body, requests: REQUESTS, streams, dir, ...pinned }));
      }
      for (const name of Object.keys(servers)) {
        const rs = runs[name]!;
        const failed = rs.reduce((a, r) => a + r.failed, 0);
        if (failed > 0) throw new Error(`${name} at ${streams} streams: ${failed} requests failed`);
        const pick = (f: (r: LoadResult) => number): number => median(rs.map(f));
        results[name]![streams] = { requests: REQUESTS, perSecond: pick((r) => r.perSecond), meanUs: pick((r) => r.meanUs), p50Us: pick((r) => r.p50Us), p90Us: pick((r) => r.p90Us), p99Us: pick((r) => r.p99Us), failed: 0 };
      }
      ratios[streams] = {
        perSecond: median(runs["agent-auth"]!.map((r, i) => r.perSecond / runs["noop"]![i]!.perSecond)),
        mean: median(runs["agent-auth"]!.map((r, i) => r.meanUs / runs["noop"]![i]!.meanUs)),
      };
      process.stderr.write(`  done: ${streams} streams\n`);
    }
    printTable(results, ratios);
  } finally {
    for (const s of Object.values(servers)) await stopProcess(s.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

function printTable(results: Record<string, Record<number, LoadResult>>, ratios: Record<number, { perSecond: number; mean: number }>): void {
  console.log(`agent-auth gRPC benchmark — Authorize via h2load, ${REQUESTS} requests × ${RUNS} rounds (median), node ${process.version}`);
  console.log('servers take turns within each round; "vs no-op" columns are medians of the per-round ratios');
  console.log("servers pinned to CPU 1, h2load to CPU 0; latencies in µs (h2load per-request log)");
  console.log("raw = fixed bytes, no decoding (transport floor); noop = same contract, decodes the request, decides nothing\n");
  const headers = ["streams", "server", "calls/s", "mean", "p50", "p90", "p99", "calls/s vs no-op", "mean vs no-op"];
  const rows: string[][] = [];
  for (const streams of STREAMS) {
    for (const name of ["raw", "noop", "agent-auth"]) {
      const r = results[name]![streams]!;
      rows.push([
        String(streams),
        name,
        Math.round(r.perSecond).toLocaleString("en-US"),
        r.meanUs.toFixed(0),
        r.p50Us.toFixed(0),
        r.p90Us.toFixed(0),
        r.p99Us.toFixed(0),
        name !== "agent-auth" ? "" : `${(ratios[streams]!.perSecond * 100).toFixed(1)} %`,
        name !== "agent-auth" ? "" : `${ratios[streams]!.mean.toFixed(2)}×`,
      ]);
    }
  }
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(headers));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
  console.log("\nRerun: npm run bench:grpc   (BENCH_REQUESTS, BENCH_RUNS to change the counts)");
}

await main();
