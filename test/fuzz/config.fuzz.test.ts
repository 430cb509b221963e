/**
 * Config loader under random and hostile input.
 *
 * Invariant for every input: `parseConfig(text, { env: {} })` either returns a
 * config — which then compiles into an engine that decides — or throws a
 * ConfigError whose `errors` is a non-empty list of non-empty strings. No other
 * exception. The slowest input is reported, not asserted: the reader's budgets
 * (nodes, merge copies, depth, size) bound the work whatever the machine.
 *
 * Policies are edited as data — keys deleted, renamed and added, values
 * retyped, nested past the depth limit, shared (anchors and aliases) and made
 * recursive — then printed with random YAML styles and edited again as text
 * (duplicate keys, garbage characters); and as lines of text (deleted,
 * duplicated, swapped, truncated, re-indented, spiked with nasty pieces).
 */
import { expect } from "chai";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { dump, load } from "js-yaml";
import { ConfigError, isConfigError, parseConfig } from "../../src/config/index.ts";
import { AuthEngine } from "../../src/embedded-engine.ts";
import { BASIC_POLICY } from "../support/policies.ts";
import { fuzzRuns, fuzzSeed, fuzzTimeout, InputTimer } from "../support/fuzz.ts";

const MUTATION_RUNS = fuzzRuns(300);
const DOCUMENT_RUNS = fuzzRuns(300);

type Tree = null | boolean | number | string | Tree[] | { [key: string]: Tree };

const BASES: ReadonlyArray<{ readonly name: string; readonly text: string }> = [
  { name: "examples/agent_auth.yaml", text: readFileSync("examples/agent_auth.yaml", "utf8") },
  { name: "test/support/policies.ts BASIC_POLICY", text: BASIC_POLICY },
];

/** Keys of the policy schema: random documents and insertions use them so validation goes deep. */
const SCHEMA_KEYS = [
  "version", "metadata", "variables", "roles", "profiles", "approval_policies", "delegation", "a2a", "sessions", "audit",
  "name", "description", "author", "actions", "extends", "role", "allow", "deny", "scopes", "default_tier", "max_session_duration",
  "condition", "tier", "enabled", "default_duration", "max_duration", "rules", "allowed_actions", "require_reason", "default",
  "policies", "from_agent", "to_agent", "action", "effect", "cleanup_interval", "path", "retention_days", "durability", "stream_max_length",
  "buffer_bytes",
] as const;

const key = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SCHEMA_KEYS) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "<<", "__proto__", "constructor", "~", "yes", "1.0", "-", "?", "*", "a b", "é", "\u0000", "\uFEFF") },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);

const scalar: fc.Arbitrary<Tree> = fc.oneof(
  fc.constantFrom<Tree>(
    null, true, false, 0, -0, -1, 1, 1.5, 2 ** 53 + 1, 2 ** 64, 1e21, 1e308, -1e308, Number.MIN_VALUE, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN,
    "", " ", "*", "?", "[", "[!", "[a-z]*", "\\", "read*", "${HOME}", "${", "${UNSET_VARIABLE}", "$limit", "yes", "no", "on", "~", "null", "1.0", "0x1F", "017", "1_000",
    "12:30:15", ".inf", "<<", "autonomous", "soft", "strong", "hard", "allow", "deny", "sync", "async", "read", "a == 1", 'action == "x" and', "((", "not", "$undefined_variable == 1",
    'resource matches "("', "\u0000", "\uFEFF", "\uD800", "🙂", "é", "e\u0301", "x".repeat(5000),
  ),
  fc.string({ maxLength: 10 }),
  fc.integer(),
  fc.double(),
);

const value: fc.Arbitrary<Tree> = fc.letrec<{ v: Tree }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    scalar,
    fc.array(tie("v"), { maxLength: 3 }),
    fc.dictionary(key, tie("v"), { maxKeys: 3 }).map((d) => ({ ...d }) as Tree),
  ),
})).v;

/** One edit of the policy as data. `at` and `to` pick places by index (modulo the number of places). */
type Edit =
  | { readonly kind: "delete" | "cycle"; readonly at: number }
  | { readonly kind: "retype" | "insert"; readonly at: number; readonly value: Tree; readonly key: string }
  | { readonly kind: "rename"; readonly at: number; readonly how: number; readonly key: string }
  | { readonly kind: "nest"; readonly at: number; readonly depth: number; readonly asList: boolean }
  | { readonly kind: "share" | "duplicate"; readonly at: number; readonly to: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("cycle" as const), at: fc.nat() }),
  fc.record({ kind: fc.constantFrom("retype" as const, "insert" as const), at: fc.nat(), value, key }),
  fc.record({ kind: fc.constant("rename" as const), at: fc.nat(), how: fc.nat({ max: 5 }), key }),
  fc.record({ kind: fc.constant("nest" as const), at: fc.nat(), depth: fc.constantFrom(1, 2, 5, 50, 99, 100, 101, 200), asList: fc.boolean() }),
  fc.record({ kind: fc.constantFrom("share" as const, "duplicate" as const), at: fc.nat(), to: fc.nat() }),
);

/** Text edits after printing: duplicate lines (duplicate keys), garbage, deleted ranges. */
type TextEdit = { readonly kind: "dupline" | "garbage" | "cut"; readonly at: number; readonly text: string; readonly len: number };

const GARBAGE = [
  "\u0000", "\u0001", "\u007f", "\uFEFF", "\uD800", "\t", "\r", "\r\n", "\u2028", ":", ": ", "- ", "{", "}", "[", "]", ",", "&a ", "*a", "*nope", "!!str ", "!!int ",
  "!!binary ", "!!python/object:os.system ", "!custom ", "<<: ", "? ", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "---\n", "...\n", "#", "'", '"', "|", ">-", "@", "`",
  "\\", "1e999", "-.inf", ".nan", "0x", "${", "${UNSET}",
];

const textEdit: fc.Arbitrary<TextEdit> = fc.record({
  kind: fc.constantFrom("dupline" as const, "garbage" as const, "cut" as const),
  at: fc.nat(),
  text: fc.oneof(fc.constantFrom(...GARBAGE), fc.string({ maxLength: 6 }), fc.string({ unit: "binary", maxLength: 6 })),
  len: fc.nat({ max: 40 }),
});

const dumpOptions = fc.record({
  flowLevel: fc.constantFrom(-1, 0, 1, 2, 3),
  indent: fc.integer({ min: 1, max: 6 }),
  lineWidth: fc.constantFrom(-1, 20, 80),
  forceQuotes: fc.boolean(),
  quoteStyle: fc.constantFrom("single" as const, "double" as const),
  sortKeys: fc.boolean(),
});

interface Place {
  readonly parent: Tree[] | { [key: string]: Tree };
  readonly key: string | number;
  /** Containers from the root down to `parent` (cycle targets). */
  readonly ancestors: ReadonlyArray<Tree[] | { [key: string]: Tree }>;
}

function isContainer(t: Tree | undefined): t is Tree[] | { [key: string]: Tree } {
  return typeof t === "object" && t !== null;
}

function places(root: Tree): Place[] {
  const out: Place[] = [];
  const seen = new Set<object>();
  const walk = (node: Tree, ancestors: ReadonlyArray<Tree[] | { [key: string]: Tree }>): void => {
    if (!isContainer(node) || seen.has(node)) return;
    seen.add(node);
    const chain = [...ancestors, node];
    const keys: Array<string | number> = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    for (const k of keys) {
      out.push({ parent: node, key: k, ancestors: chain });
      walk((node as Record<string | number, Tree>)[k]!, chain);
    }
  };
  walk(root, []);
  return out;
}

function get(p: Place): Tree {
  return (p.parent as Record<string | number, Tree>)[p.key]!;
}

/** Sets an own property, even for keys like `__proto__`. */
function put(target: Tree[] | { [key: string]: Tree }, key: string | number, v: Tree): void {
  Object.defineProperty(target, key, { value: v, enumerable: true, writable: true, configurable: true });
}

function set(p: Place, v: Tree): void {
  put(p.parent, p.key, v);
}

function applyEdit(root: Tree, e: Edit): void {
  const all = places(root);
  if (all.length === 0) return;
  const p = all[e.at % all.length]!;
  switch (e.kind) {
    case "delete":
      if (Array.isArray(p.parent)) p.parent.splice(p.key as number, 1);
      else delete p.parent[p.key as string];
      return;
    case "retype":
      set(p, e.value);
      return;
    case "insert": {
      const target = isContainer(get(p)) ? (get(p) as Tree[] | { [key: string]: Tree }) : p.parent;
      if (Array.isArray(target)) target.push(e.value);
      else put(target, e.key, e.value);
      return;
    }
    case "rename": {
      if (Array.isArray(p.parent)) return;
      const old = p.key as string;
      const renamed = [old.toUpperCase(), `${old}_`, ` ${old}`, old.slice(1), e.key, `${old}\u200b`][e.how]!;
      const v = p.parent[old]!;
      delete p.parent[old];
      put(p.parent, renamed, v);
      return;
    }
    case "nest": {
      let v = get(p);
      for (let i = 0; i < e.depth; i++) v = e.asList ? [v] : { nested: v };
      set(p, v);
      return;
    }
    case "share": {
      // Two places holding the same object are printed as an anchor and an alias.
      const source = all[e.to % all.length]!;
      const shared = get(source);
      if (isContainer(shared) && !p.ancestors.includes(shared)) set(p, shared);
      return;
    }
    case "duplicate": {
      if (!Array.isArray(p.parent)) return;
      const item = get(p);
      p.parent.splice(e.to % (p.parent.length + 1), 0, isContainer(item) ? structuredClone(item) : item);
      return;
    }
    case "cycle": {
      // A value that contains itself: printed as a recursive alias.
      const target = p.ancestors[e.at % p.ancestors.length]!;
      set(p, target);
      return;
    }
  }
}

function applyTextEdit(text: string, e: TextEdit): string {
  if (e.kind === "dupline") {
    const lines = text.split("\n");
    const i = e.at % lines.length;
    lines.splice(i, 0, lines[i]!);
    return lines.join("\n");
  }
  const at = e.at % (text.length + 1);
  if (e.kind === "garbage") return text.slice(0, at) + e.text + text.slice(at);
  return text.slice(0, at) + text.slice(at + e.len);
}

const BASE_TREES: readonly Tree[] = BASES.map((b) => load(b.text) as Tree);

/**
 * The invariant. Returns "valid" or "invalid"; any other exception, a malformed
 * ConfigError, or an engine that cannot be built from a valid config fails the test.
 */
async function loadOutcome(text: string, timer: InputTimer): Promise<"valid" | "invalid"> {
  let outcome: "valid" | "invalid" = "invalid";
  // Timed for the report (the slowest input is printed), never asserted: the reader's budgets bound the work.
  await timer.timeAsync(async () => {
    let config;
    try {
      config = parseConfig(text, { env: {} });
    } catch (error) {
      if (!(error instanceof ConfigError) || !isConfigError(error)) {
        throw new Error(`parseConfig threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)} instead of a ConfigError for ${preview(text)}`, { cause: error });
      }
      expect(error.errors, "ConfigError.errors").to.be.an("array").that.is.not.empty;
      expect(error.errors.length).to.equal(error.issues.length);
      for (const message of error.errors) expect(message).to.be.a("string").and.not.equal("");
      const lines = text.split("\n").length;
      for (const issue of error.issues) if (issue.line !== undefined) expect(issue.line, `issue line for ${issue.message}`).to.be.within(1, lines + 1);
      return;
    }
    outcome = "valid";
    // A config that loads compiles into an engine, and its (first five) profiles get decisions.
    const engine = new AuthEngine(config, { audit: false });
    for (const agent of [...config.profiles.keys()].slice(0, 5)) {
      if (agent === "" || agent.length > 4096 || !agent.isWellFormed()) continue;
      const d = await engine.authorize({ agent, user: "fuzz", action: "read", resource: "/prod/x", metadata: { amount: 5 } });
      expect(d.allowed).to.be.a("boolean");
    }
    await engine.close();
  });
  timer.tally(outcome);
  return outcome;
}

function preview(text: string): string {
  const shown = text.length > 400 ? `${text.slice(0, 400)}… (${text.length} characters)` : text;
  return JSON.stringify(shown);
}

/** Line-level edits: a policy file as a careless hand might leave it. */
/** Pieces of YAML and of policies that tend to break readers. */
const NASTY = [
  "", "null", "~", "[]", "{}", "*", "&a x", "*a", "<<: *a", "!!binary aGk=", "!!python/object:os.system", "1e999", "-1", "0x10", "0o7",
  "'", '"', "{", "]", ": :", "? ", "%YAML 1.1", "---", "...", "\t", "\u0000", "\uFEFF", "🙂", "yes", "No", "2026-11-22", ".nan",
  "extends: reader", "condition: 'action =='", "tier: hard", "default: maybe", "- ", "-\n-\n-", "a: &x [*x]",
];

const lineEdit = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("swap" as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 12 })) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("indent" as const), at: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
);

function editLines(text: string, ops: readonly { kind: string; at: number; with?: number; text?: string; by?: number }[]): string {
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

describe("config loader (fuzz: structural mutations, random documents, line edits, hostile documents)", function () {
  this.timeout(fuzzTimeout(Math.max(MUTATION_RUNS, DOCUMENT_RUNS), 50));

  it(`mutated valid policies load or fail with a ConfigError (${MUTATION_RUNS} inputs)`, async () => {
    const timer = new InputTimer();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.nat({ max: BASES.length - 1 }),
          fc.array(edit, { minLength: 1, maxLength: 5 }),
          dumpOptions,
          fc.array(textEdit, { maxLength: 3 }),
          async (base, edits, options, textEdits) => {
            const tree = structuredClone(BASE_TREES[base]!);
            for (const e of edits) applyEdit(tree, e);
            let text = dump(tree, { ...options, noRefs: false });
            for (const e of textEdits) text = applyTextEdit(text, e);
            await loadOutcome(text, timer);
          },
        ),
        { numRuns: MUTATION_RUNS, seed: fuzzSeed(1) },
      );
    } finally {
      timer.report("config loader, mutated policies");
    }
  });

  it(`random YAML documents, random text and random bytes load or fail with a ConfigError (${DOCUMENT_RUNS} inputs)`, async () => {
    const timer = new InputTimer();
    const pattern = fc.constantFrom("*", "read", "read*", "[a-z]*", "pr:*", "?", "[", "deploy");
    // Policy-shaped documents: the right top-level keys with values that are sometimes well typed.
    const policyShaped = fc
      .record(
        {
          version: fc.oneof(fc.constant("1.0"), scalar),
          metadata: fc.oneof(fc.record({ name: fc.string({ maxLength: 6 }) }), value),
          variables: fc.oneof(fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), value, { maxKeys: 3 }), value),
          roles: fc.oneof(fc.dictionary(fc.constantFrom("r0", "r1", "r2"), fc.record({ actions: fc.array(pattern, { maxLength: 3 }), extends: fc.constantFrom("r0", "r1", "r2", "") }, { requiredKeys: [] }), { maxKeys: 3 }), value),
          profiles: fc.oneof(fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.record({ role: fc.constantFrom("r0", "r1", "zz"), allow: fc.array(pattern, { maxLength: 3 }), default_tier: fc.constantFrom("soft", "strong", "hard") }, { requiredKeys: [] }), { maxKeys: 3 }), value),
          approval_policies: fc.oneof(fc.array(fc.record({ name: fc.string({ maxLength: 3 }), condition: fc.constantFrom("", 'action == "deploy"', "amount > 3", "((", "$nope == 1"), tier: fc.constantFrom("soft", "strong", "x") }, { requiredKeys: [] }), { maxLength: 3 }), value),
          a2a: fc.oneof(fc.record({ default: fc.constantFrom("allow", "deny", "maybe"), policies: fc.array(value, { maxLength: 2 }) }, { requiredKeys: [] }), value),
          delegation: value,
          sessions: value,
          audit: fc.oneof(fc.constant({ enabled: false }), value),
        },
        { requiredKeys: [] },
      )
      .chain((doc) => dumpOptions.map((o) => dump(doc, { ...o, noRefs: false })));
    const yamlTokens = fc
      .array(fc.constantFrom("roles", "profiles", "a", ":", ": ", "\n", "  ", "- ", "[", "]", "{", "}", ",", "&x ", "*x", "<<: ", "!!str ", "? ", "|\n", ">\n", "'", '"', "#", "1.0", "~", "---\n", "*", "read"), { maxLength: 40 })
      .map((t) => t.join(""));
    const doc = fc.oneof(
      { weight: 3, arbitrary: policyShaped },
      { weight: 2, arbitrary: value.chain((v) => dumpOptions.map((o) => dump(v, { ...o, noRefs: false }))) },
      { weight: 2, arbitrary: yamlTokens },
      { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 200 }) },
      { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString("utf8")) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString("latin1")) },
    );
    try {
      await fc.assert(
        fc.asyncProperty(doc, async (text) => {
          await loadOutcome(text, timer);
        }),
        { numRuns: DOCUMENT_RUNS, seed: fuzzSeed(2) },
      );
    } finally {
      timer.report("config loader, random documents");
    }
  });

  it(`valid policies edited line by line load or fail with a ConfigError (${MUTATION_RUNS} inputs)`, async () => {
    const timer = new InputTimer();
    try {
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: BASES.length - 1 }), fc.array(lineEdit, { minLength: 1, maxLength: 6 }), async (base, ops) => {
          await loadOutcome(editLines(BASES[base]!.text, ops), timer);
        }),
        { numRuns: MUTATION_RUNS, seed: fuzzSeed(3) },
      );
    } finally {
      timer.report("config loader, line edits");
    }
  });

  it("hostile documents (recursive and deep aliases, merge-key chains, size limits, deep nesting) load or fail with a ConfigError", async () => {
    const chain = (n: number): string => Array.from({ length: n }, (_, i) => (i === 0 ? "&a0 [0]" : `&a${i} [*a${i - 1}]`)).join(", ");
    const merges = (n: number): string =>
      Array.from({ length: n }, (_, i) => `  m${i}: &m${i} {${i === 0 ? "" : `<<: *m${i - 1}, `}k${i}: ${i}}`).join("\n");
    const HOSTILE: ReadonlyArray<readonly [string, string]> = [
      ["a recursive alias in a variable (list)", "variables: {v: &v [1, *v]}\n"],
      ["a recursive alias in a variable (mapping)", "variables: &v {a: *v}\n"],
      ["a recursive alias holding the roles", "roles: &r {a: {actions: [x]}, b: *r}\n"],
      ["a recursive alias of the whole document", "&root {version: '1.0', profiles: *root}\n"],
      ["a recursive merge key", "roles: &r {<<: *r, a: {actions: [x]}}\n"],
      ["an alias chain 5,000 deep under an unknown key, used in a variable", `x: [${chain(5000)}]\nvariables: {deep: *a4999}\n`],
      ["4,000 chained merge keys (160 KiB)", `x:\n${merges(4000)}\n`],
      ["one byte over the 4 MiB limit", `# ${"x".repeat(4 * 1024 * 1024 - 2)}\n`],
      ["a 1 MiB scalar", `metadata: {name: ${"x".repeat(1 << 20)}}\n`],
      ["a 100,000-character key", `profiles: {${"k".repeat(100_000)}: {allow: [x]}}\n`],
      ["numbers at the edges", `variables: {a: 1e999999, b: -.inf, c: .nan, d: 0x${"f".repeat(1000)}, e: 1${":59".repeat(500)}, f: 0b${"1".repeat(2000)}}\n`],
      ["durations at the edges", "sessions: {default_duration: 1e999, max_duration: 99999999999999999999999, cleanup_interval: .nan}\n"],
      ["10,000 nested flow mappings", `variables: ${"{a: ".repeat(10_000)}1${"}".repeat(10_000)}\n`],
      ["a condition with 10,000 parentheses", `approval_policies: [{name: p, tier: soft, condition: '${"(".repeat(10_000)}true${")".repeat(10_000)}'}]\n`],
      ["a condition with 10,000 nots", `approval_policies: [{name: p, tier: soft, condition: '${"not ".repeat(10_000)}true'}]\n`],
      ["a condition of 3,000 alternatives", `approval_policies: [{name: p, tier: soft, condition: '${Array(3000).fill('action == "x"').join(" or ")}'}]\n`],
      ["a regular expression that backtracks in other engines", `approval_policies: [{name: p, tier: soft, condition: 'resource matches "(a+)+$"'}]\n`],
      ["10,000 nested lists of roles", "roles: " + "[".repeat(10_000) + "]".repeat(10_000) + "\n"],
    ];
    const timer = new InputTimer();
    const failures: string[] = [];
    // Every input is tried, then every failure is listed.
    for (const [name, text] of HOSTILE) {
      try {
        await loadOutcome(text, timer);
      } catch (error) {
        failures.push(`${name}: ${error instanceof Error ? error.message.split("\n")[0]!.slice(0, 300) : String(error)}`);
      }
    }
    timer.report("config loader, hostile documents");
    expect(failures, `\n  ${failures.join("\n  ")}\n`).to.deep.equal([]);
  });
});
