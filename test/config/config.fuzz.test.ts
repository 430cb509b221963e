import { expect } from "chai";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { dump } from "js-yaml";
import { isConfigError, parseConfig } from "../../src/config/index.ts";
import { AuthEngine } from "../../src/embedded-engine.ts";
import { SERVER_POLICY } from "../support/server.ts";
import { fuzzRuns, fuzzSeedOr } from "../support/fuzz.ts";

const RUNS = fuzzRuns(300);
const SEED = fuzzSeedOr(20261122);

const VALID = [readFileSync("examples/agent_auth.yaml", "utf8"), SERVER_POLICY];

/** Pieces of YAML and of policies that tend to break readers. */
const NASTY = [
  "", "null", "~", "[]", "{}", "*", "&a x", "*a", "<<: *a", "!!binary aGk=", "!!python/object:os.system", "1e999", "-1", "0x10", "0o7",
  "'", '"', "{", "]", ": :", "? ", "%YAML 1.1", "---", "...", "\t", "\u0000", "\uFEFF", "🙂", "yes", "No", "2026-11-22", ".nan",
  "extends: reader", "condition: 'action =='", "tier: hard", "default: maybe", "- ", "-\n-\n-", "a: &x [*x]",
];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("swap" as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 12 })) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("indent" as const), at: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
);

function mutate(text: string, ops: readonly { kind: string; at: number; with?: number; text?: string; by?: number }[]): string {
  let lines = text.split("\n");
  for (const op of ops) {
    const i = lines.length === 0 ? 0 : op.at % lines.length;
    switch (op.kind) {
      case "delete":
        lines.splice(i, 1);
        break;
      case "duplicate":
        lines.splice(i, 0, lines[i] ?? "");
        break;
      case "swap": {
        const j = lines.length === 0 ? 0 : op.with! % lines.length;
        [lines[i], lines[j]] = [lines[j] ?? "", lines[i] ?? ""];
        break;
      }
      case "insert": {
        const line = lines[i] ?? "";
        const col = line.length === 0 ? 0 : op.at % (line.length + 1);
        lines[i] = line.slice(0, col) + op.text! + line.slice(col);
        break;
      }
      case "truncate":
        lines = lines.slice(0, i + 1);
        break;
      case "indent": {
        const line = lines[i] ?? "";
        lines[i] = op.by! >= 0 ? " ".repeat(op.by!) + line : line.replace(new RegExp(`^ {0,${-op.by!}}`), "");
        break;
      }
    }
  }
  return lines.join("\n");
}

/** The invariant: a config, or a ConfigError listing problems; never another exception. Returns the time taken. */
function loadOutcome(text: string, stats: { valid: number; invalid: number; maxMs: number }): void {
  const start = performance.now();
  try {
    const config = parseConfig(text, { env: {} });
    stats.valid++;
    // A config that loads also compiles and decides.
    const engine = new AuthEngine(config, { audit: false });
    void engine.authorize({ agent: "fuzz", user: "u", action: "read" });
  } catch (error) {
    if (!isConfigError(error)) throw error;
    expect(error.errors.length).to.be.greaterThan(0);
    for (const e of error.errors) expect(e).to.be.a("string").and.not.equal("");
    stats.invalid++;
  }
  stats.maxMs = Math.max(stats.maxMs, performance.now() - start);
}

describe("config loader (fuzz)", function () {
  this.timeout(120_000);

  it(`mutations of valid policies load or fail with a ConfigError (${RUNS} inputs)`, () => {
    const stats = { valid: 0, invalid: 0, maxMs: 0 };
    fc.assert(
      fc.property(fc.constantFrom(...VALID), fc.array(mutation, { minLength: 1, maxLength: 6 }), (base, ops) => {
        loadOutcome(mutate(base, ops), stats);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    console.log(`      ${stats.valid + stats.invalid} mutated policies: ${stats.valid} valid, ${stats.invalid} ConfigErrors; slowest ${stats.maxMs.toFixed(1)} ms`);
    expect(stats.maxMs).to.be.below(1000);
  });

  it(`random YAML documents and random text load or fail with a ConfigError (${RUNS} inputs)`, () => {
    const stats = { valid: 0, invalid: 0, maxMs: 0 };
    const key = fc.constantFrom("version", "metadata", "variables", "roles", "profiles", "approval_policies", "delegation", "a2a", "sessions", "audit",
      "name", "actions", "extends", "role", "allow", "deny", "scopes", "default_tier", "condition", "tier", "rules", "policies", "default", "x");
    const doc = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: "small" },
        fc.constantFrom(null, true, false, 0, -1, 1.5, 1e300, "", "*", "read", "soft", "1.0", "${HOME}", "a == 1"),
        fc.string({ maxLength: 8 }),
        fc.array(tie("v"), { maxLength: 4 }),
        fc.dictionary(key, tie("v"), { maxKeys: 5 }),
      ),
    })).v;
    fc.assert(
      fc.property(fc.oneof(doc.map((d) => dump(d)), fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 })), (text) => {
        loadOutcome(text, stats);
      }),
      { numRuns: RUNS, seed: SEED + 1 },
    );
    console.log(`      ${stats.valid + stats.invalid} random documents: ${stats.valid} valid, ${stats.invalid} ConfigErrors; slowest ${stats.maxMs.toFixed(1)} ms`);
    expect(stats.maxMs).to.be.below(1000);
  });

  it("fails hostile documents quickly with a ConfigError: alias bombs, deep nesting, huge conditions", () => {
    const stats = { valid: 0, invalid: 0, maxMs: 0 };
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]", ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(", ")}]`)];
    const inputs = [
      `variables:\n  ${bomb.join("\n  ")}\n`,
      "roles: " + "[".repeat(10_000) + "]".repeat(10_000),
      "profiles: " + "{a: ".repeat(5000) + "1" + "}".repeat(5000),
      `approval_policies: [{name: p, tier: soft, condition: '${"(".repeat(5000)}true${")".repeat(5000)}'}]`,
      `approval_policies: [{name: p, tier: soft, condition: '${Array(3000).fill("action == \"x\"").join(" or ")}'}]`,
      `approval_policies: [{name: p, tier: soft, condition: 'resource matches "(a+)+$"'}]`,
    ];
    for (const text of inputs) loadOutcome(text, stats);
    console.log(`      ${inputs.length} hostile documents: ${stats.invalid} ConfigErrors, ${stats.valid} valid; slowest ${stats.maxMs.toFixed(1)} ms`);
    expect(stats.invalid).to.be.at.least(5);
    expect(stats.maxMs).to.be.below(1000);
  });
});
