/**
 * `npm run bench:engine` — decisions per second and per-decision latency of
 * the engine on one core, audit off and on, for the example policy and for
 * generated policies of growing size. Prints a table and how to rerun.
 *
 * Each row runs `rounds` timed rounds after a warm-up and reports the median
 * round (this machine is noisy: ratios within one run are what to compare).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createJsonlFileSink } from "../src/audit/jsonl-file-sink.ts";
import { loadConfig, parseConfig, type AuthConfig } from "../src/config/index.ts";
import { AuthEngine } from "../src/embedded-engine.ts";
import type { AuthRequest } from "../src/model/types.ts";
import { generatePolicy } from "./generate-policy.ts";
import { forEachRecordedDecision, PolicyReplayer } from "../src/engine/replay.ts";
import { compilePolicy } from "../src/policy/index.ts";

const DECISIONS = Number(process.env["BENCH_DECISIONS"] ?? 200_000);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 5);
/** Only the scenarios whose name contains this text (e.g. BENCH_ONLY=examples). */
const ONLY = process.env["BENCH_ONLY"] ?? "";

interface Scenario {
  readonly name: string;
  readonly config: AuthConfig;
  readonly requests: readonly AuthRequest[];
}

function exampleScenario(): Scenario {
  const config = loadConfig("examples/agent_auth.yaml", { env: {} });
  const agents = [...config.profiles.keys()];
  const requests: AuthRequest[] = [];
  for (let i = 0; i < 64; i++) {
    const profile = config.profiles.get(agents[i % agents.length]!)!;
    const action = profile.allow[0] ?? "read";
    requests.push({ agent: profile.name, user: `user-${i % 7}`, action: i % 5 === 0 ? "read" : action, resource: `/docs/${i}` });
  }
  return { name: "examples/agent_auth.yaml", config, requests };
}

function generatedScenario(profiles: number, policies: number): Scenario {
  const config = parseConfig(generatePolicy(profiles, policies), { env: {} });
  const requests: AuthRequest[] = [];
  for (let i = 0; i < 64; i++) {
    const p = (i * 7919) % profiles;
    requests.push({
      agent: `agent-${p}`,
      user: `user-${i % 9}`,
      action: i % 4 === 0 ? "read" : `act-${p % 200}`,
      resource: i % 3 === 0 ? `/prod/${i}` : `/docs/${i}`,
      scope: i % 2 === 0 ? `project:p${i}` : "",
    });
  }
  return { name: `generated: ${profiles} profiles, ${policies} approval policies`, config, requests };
}

interface Result {
  readonly perSecond: number;
  readonly p50us: number;
  readonly p99us: number;
}

/** Lets timers and I/O run, as a server's event loop does between requests. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function measure(engine: AuthEngine, requests: readonly AuthRequest[]): Promise<Result> {
  const n = requests.length;
  // Throughput: back-to-back awaited decisions with an event-loop turn every
  // 1,024 (so an audit sink's writes progress), median of several rounds after
  // two warm-up rounds.
  const rates: number[] = [];
  for (let round = -2; round < ROUNDS; round++) {
    const t0 = performance.now();
    for (let i = 0; i < DECISIONS; i++) {
      await engine.authorize(requests[i % n]!);
      if ((i & 1023) === 1023) await turn();
    }
    const seconds = (performance.now() - t0) / 1000;
    if (round >= 0) rates.push(DECISIONS / seconds);
  }
  // Latency: time single decisions (the timer's own cost, ~40 ns, is included).
  const samples = new Float64Array(Math.min(DECISIONS, 100_000));
  for (let i = 0; i < samples.length; i++) {
    const t = performance.now();
    await engine.authorize(requests[i % n]!);
    samples[i] = (performance.now() - t) * 1000;
    if ((i & 1023) === 1023) await turn();
  }
  samples.sort();
  return { perSecond: median(rates), p50us: samples[Math.floor(samples.length * 0.5)]!, p99us: samples[Math.floor(samples.length * 0.99)]! };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const scenarios: Scenario[] = [exampleScenario()];
  for (const [profiles, policies] of [
    [10, 10],
    [1_000, 10],
    [10_000, 10],
    [10, 1_000],
    [1_000, 1_000],
    [10_000, 1_000],
  ] as const) {
    scenarios.push(generatedScenario(profiles, policies));
  }

  scenarios.splice(0, scenarios.length, ...scenarios.filter((s) => s.name.includes(ONLY)));
  // Audit records go to memory-backed storage when there is some, so the figure
  // is the engine's and the sink's cost, not this machine's disk bandwidth.
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const dir = mkdtempSync(join(base, "agent-auth-bench-"));
  const rows: string[][] = [];
  // Warm the process (JIT, heap sizing) on the first scenario before measuring anything.
  if (scenarios.length > 0) {
    const warm = new AuthEngine(scenarios[0]!.config, { audit: createJsonlFileSink(join(dir, "warm.jsonl")) });
    await measure(warm, scenarios[0]!.requests);
    await warm.close();
    rmSync(join(dir, "warm.jsonl"), { force: true });
  }
  const replay: string[][] = [];
  try {
    if ("replay from a JSONL file".includes(ONLY) || ONLY === "replay") replay.push(await replayRow(dir));
    for (const s of scenarios) {
      const off = new AuthEngine(s.config, { audit: false });
      const rOff = await measure(off, s.requests);
      await off.close();
      const sink = createJsonlFileSink(join(dir, "audit.jsonl"));
      const on = new AuthEngine(s.config, { audit: sink });
      const rOn = await measure(on, s.requests);
      await on.close();
      rmSync(join(dir, "audit.jsonl"), { force: true });
      rows.push([
        s.name,
        fmt(rOff.perSecond),
        rOff.p50us.toFixed(2),
        rOff.p99us.toFixed(2),
        fmt(rOn.perSecond),
        rOn.p50us.toFixed(2),
        rOn.p99us.toFixed(2),
      ]);
      process.stderr.write(`  done: ${s.name}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const headers = ["policy", "audit off /s", "p50 µs", "p99 µs", "audit on /s", "p50 µs", "p99 µs"];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(`agent-auth engine benchmark — node ${process.version}, one core, ${DECISIONS} decisions × ${ROUNDS} rounds (median)`);
  console.log(`audit on: JSONL file sink writing to ${base}`);
  console.log(line(headers));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
  for (const r of replay) console.log(`\n${r[0]}: ${r[1]} records/s`);
  console.log("\nRerun: npm run bench:engine   (BENCH_DECISIONS, BENCH_ROUNDS to change the counts, BENCH_ONLY=text to pick rows)");
}

/**
 * Replay from a file: records of the example policy (with their metadata,
 * audit.include_metadata) written by the engine, then read, parsed and
 * re-decided by the code `agent-auth replay` runs, median of the rounds.
 */
async function replayRow(dir: string): Promise<string[]> {
  const config = loadConfig("examples/agent_auth.yaml", { env: {} });
  const recording = { ...config, audit: { ...config.audit, includeMetadata: true } };
  const file = join(dir, "replay.jsonl");
  const sink = createJsonlFileSink(file);
  const engine = new AuthEngine(recording, { audit: sink });
  const s = exampleScenario();
  for (let i = 0; i < DECISIONS; i++) {
    const r = s.requests[i % s.requests.length]!;
    await engine.authorize(i % 3 === 0 ? { ...r, metadata: { amount: i % 2000, priority: "low" } } : r);
    if ((i & 1023) === 1023) await turn();
  }
  await engine.close();
  const replayer = new PolicyReplayer(compilePolicy(config));
  const rates: number[] = [];
  let unchanged = 0;
  for (let round = -1; round < ROUNDS; round++) {
    unchanged = 0;
    const t0 = performance.now();
    const records = forEachRecordedDecision(file, (r) => {
      if (r !== undefined && replayer.replay(r).kind === "unchanged") unchanged++;
    });
    const seconds = (performance.now() - t0) / 1000;
    if (round >= 0) rates.push(records / seconds);
  }
  rmSync(file, { force: true });
  return [`replay from a JSONL file (${DECISIONS} records, ${unchanged} unchanged)`, fmt(median(rates))];
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

await main();
