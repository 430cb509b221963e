import { performance } from "node:perf_hooks";

/**
 * Shared settings of the property and fuzz tests (test/fuzz/ and the *.fuzz and
 * *.property tests beside the code they test).
 *
 * `AGENT_AUTH_FUZZ_RUNS=N` replaces every property's default number of inputs
 * (the defaults keep `npm test` fast); `AGENT_AUTH_FUZZ_SEED=N` replaces the
 * fixed seeds, so a failure seen with a random seed reproduces with it.
 */

function positiveInteger(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

function integer(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return n;
}

const RUNS_OVERRIDE = positiveInteger("AGENT_AUTH_FUZZ_RUNS");
const SEED_OVERRIDE = integer("AGENT_AUTH_FUZZ_SEED");

/** Number of inputs for a property: its default in `npm test`, or AGENT_AUTH_FUZZ_RUNS. */
export function fuzzRuns(defaultRuns: number): number {
  return RUNS_OVERRIDE ?? defaultRuns;
}

/** Seed for a property: a fixed default (offset per property), or AGENT_AUTH_FUZZ_SEED plus the same offset. */
export function fuzzSeed(offset: number): number {
  return (SEED_OVERRIDE ?? 20_261_200) + offset;
}

/** A property's own fixed seed, or AGENT_AUTH_FUZZ_SEED when set. */
export function fuzzSeedOr(fixed: number): number {
  return SEED_OVERRIDE ?? fixed;
}

/** A mocha timeout for `runs` inputs of at most `perInputMs` each, never below 20 s. */
export function fuzzTimeout(runs: number, perInputMs: number): number {
  return Math.max(120_000, runs * perInputMs);
}

/** Counts inputs and keeps the slowest one's time. */
export class InputTimer {
  count = 0;
  maxMs = 0;
  readonly counters = new Map<string, number>();

  /** Times one synchronous input; returns its duration in ms (also when it throws). */
  time(run: () => void): number {
    const start = performance.now();
    try {
      run();
    } finally {
      this.#done(start);
    }
    return performance.now() - start;
  }

  /** Times one asynchronous input. */
  async timeAsync(run: () => Promise<void>): Promise<number> {
    const start = performance.now();
    try {
      await run();
    } finally {
      this.#done(start);
    }
    return performance.now() - start;
  }

  /** Counts an outcome by name, for the summary line. */
  tally(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  /** One summary line: inputs tried, slowest input, outcome counts. */
  report(label: string, unit = "inputs"): void {
    const counts = [...this.counters.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    console.log(`      [fuzz] ${label}: ${this.count} ${unit}, max ${this.maxMs.toFixed(1)} ms per input${counts === "" ? "" : `; ${counts}`}`);
  }

  #done(start: number): void {
    this.count++;
    this.maxMs = Math.max(this.maxMs, performance.now() - start);
  }
}
