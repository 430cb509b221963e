/**
 * Random well-formed condition expressions for the fuzz tests: a generator of
 * syntax trees (src/expr/ast.ts), a printer that turns a tree into source the
 * parser reads back as the same tree (precedence, quoting, keyword case,
 * whitespace, non-ASCII digits), and a reference interpreter written from
 * docs/expressions.md, independent of src/expr/compile.ts.
 */
import fc from "fast-check";
import { RE2JS } from "re2js";
import type { ExpressionNode } from "../../src/expr/index.ts";

export type Expr = ExpressionNode;

type CompareOp = Extract<Expr, { kind: "compare" }>["op"];

export const COMPARE_OPS: readonly CompareOp[] = ["==", "!=", "<", ">", "<=", ">=", "in", "not in", "contains", "starts_with", "ends_with", "matches"];

/** What generated expressions may refer to. */
export interface ExprVocabulary {
  /** Top-level field names: ASCII identifiers that are not keywords. */
  readonly fields: readonly string[];
  /** Dotted paths, e.g. ["order", "total"]. */
  readonly paths?: readonly (readonly string[])[];
  /** `$names` the expression may use. */
  readonly variables: readonly string[];
  /** Texts for string literals: without both kinds of quote at once. */
  readonly strings: fc.Arbitrary<string>;
  /** RE2 patterns for `matches` (all valid unless the caller wants compile errors). */
  readonly regexes: readonly string[];
}

/** Safe text for literals: letters, digits, punctuation, non-ASCII, one kind of quote at most. */
export const literalText: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom("", "x", "y", "read", "deploy", "/prod", "/prod/db", "pii", "a+", "é", "e\u0301", "🙂", "日本", " ", "it's", 'say "hi"', "\u0000", "\n"),
    fc.string({ unit: "grapheme", maxLength: 6 }),
  )
  .map((s) => (s.includes('"') && s.includes("'") ? s.replaceAll("'", "") : s));

const literal = (strings: fc.Arbitrary<string>): fc.Arbitrary<Expr> =>
  fc.oneof(
    fc.constant<Expr>({ kind: "literal", value: null }),
    fc.boolean().map((b): Expr => ({ kind: "literal", value: b })),
    fc
      .oneof(
        { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 }) },
        { weight: 1, arbitrary: fc.nat({ max: 2000 }) },
        { weight: 1, arbitrary: fc.tuple(fc.nat({ max: 50 }), fc.nat({ max: 99 })).map(([a, b]) => Number(`${a}.${String(b).padStart(2, "0")}`)) },
      )
      .map((n): Expr => ({ kind: "literal", value: n })),
    strings.map((s): Expr => ({ kind: "literal", value: s })),
    strings.map((s): Expr => ({ kind: "literal", value: s })),
  );

/** Trees of at most `maxDepth` levels over a vocabulary. */
export function exprArb(v: ExprVocabulary, maxDepth = 4): fc.Arbitrary<Expr> {
  const field = fc.oneof(
    fc.constantFrom(...v.fields).map((f): Expr => ({ kind: "field", parts: [f] })),
    ...(v.paths !== undefined && v.paths.length > 0 ? [fc.constantFrom(...v.paths).map((p): Expr => ({ kind: "field", parts: [...p] }))] : []),
  );
  const variable = v.variables.length === 0 ? undefined : fc.constantFrom(...v.variables).map((name): Expr => ({ kind: "variable", name }));
  const leaf = fc.oneof(literal(v.strings), field, field, ...(variable === undefined ? [] : [variable]));
  const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
    expr: fc.oneof(
      { depthSize: "small", maxDepth, withCrossShrink: true },
      leaf,
      fc.array(tie("expr"), { maxLength: 3 }).map((items): Expr => ({ kind: "list", items })),
      tie("expr").map((operand): Expr => ({ kind: "not", operand })),
      fc.tuple(fc.constantFrom("and" as const, "or" as const), fc.array(tie("expr"), { minLength: 2, maxLength: 4 })).map(([kind, operands]): Expr => ({ kind, operands })),
      fc
        .tuple(fc.constantFrom(...COMPARE_OPS), tie("expr"), tie("expr"), fc.constantFrom(...v.regexes))
        .map(([op, left, right, re]): Expr => ({ kind: "compare", op, left, right: op === "matches" ? { kind: "literal", value: re } : right, pos: 0 })),
      // Membership in a list of literals and fields (`action in ["a", "b"]`), and `field contains value`.
      fc
        .tuple(fc.constantFrom("in" as const, "not in" as const), fc.oneof(field, literal(v.strings)), fc.array(fc.oneof(literal(v.strings), literal(v.strings), field), { maxLength: 4 }))
        .map(([op, left, items]): Expr => ({ kind: "compare", op, left, right: { kind: "list", items }, pos: 0 })),
      fc.tuple(field, fc.oneof(literal(v.strings), field)).map(([left, right]): Expr => ({ kind: "compare", op: "contains", left, right, pos: 0 })),
      // Comparisons between a field and a literal are what real conditions look like: more of them.
      fc
        .tuple(fc.constantFrom(...COMPARE_OPS), field, literal(v.strings), fc.constantFrom(...v.regexes))
        .map(([op, left, right, re]): Expr => ({ kind: "compare", op, left, right: op === "matches" ? { kind: "literal", value: re } : right, pos: 0 })),
    ),
  }));
  return expr;
}

/** How a tree is printed: keyword case, whitespace, quotes, digits. */
export interface PrintStyle {
  readonly keywordCase: "lower" | "upper" | "title";
  readonly space: string;
  readonly preferSingleQuotes: boolean;
  /** Code point of the zero of the digits integers are printed with (0x30 is ASCII). */
  readonly zero: number;
  readonly spaceAfterDollar: boolean;
  readonly noneForNull: boolean;
}

export const printStyle: fc.Arbitrary<PrintStyle> = fc.record({
  keywordCase: fc.constantFrom("lower" as const, "upper" as const, "title" as const),
  space: fc.constantFrom(" ", " ", "  ", "\t", "\n", " \u00a0"),
  preferSingleQuotes: fc.boolean(),
  zero: fc.constantFrom(0x30, 0x30, 0x30, 0x660, 0x966, 0xff10, 0x1d7ce),
  spaceAfterDollar: fc.boolean(),
  noneForNull: fc.boolean(),
});

export const PLAIN_STYLE: PrintStyle = { keywordCase: "lower", space: " ", preferSingleQuotes: false, zero: 0x30, spaceAfterDollar: false, noneForNull: false };

const PRECEDENCE: Record<Expr["kind"], number> = { or: 1, and: 2, not: 3, compare: 4, literal: 5, list: 5, field: 5, variable: 5 };

/** Source text that parses back to `node` (up to the flattening of nested `and`/`or`, which it avoids with parentheses). */
export function printExpr(node: Expr, style: PrintStyle = PLAIN_STYLE): string {
  const kw = (word: string): string =>
    style.keywordCase === "lower" ? word : style.keywordCase === "upper" ? word.toUpperCase() : word.replace(/(^|_| )([a-z])/g, (_, a: string, b: string) => a + b.toUpperCase());
  const sp = style.space;
  const at = (n: Expr, min: number): string => (PRECEDENCE[n.kind] < min ? `(${print(n)})` : print(n));
  const print = (n: Expr): string => {
    switch (n.kind) {
      case "literal": {
        const v = n.value;
        if (v === null) return kw(style.noneForNull ? "none" : "null");
        if (typeof v === "boolean") return kw(v ? "true" : "false");
        if (typeof v === "number") return digits(String(v), style.zero);
        const quote = v.includes('"') ? "'" : v.includes("'") ? '"' : style.preferSingleQuotes ? "'" : '"';
        return quote + v + quote;
      }
      case "list":
        return `[${n.items.map((i) => print(i)).join(`,${sp}`)}]`;
      case "field":
        return n.parts.join(".");
      case "variable":
        return `$${style.spaceAfterDollar ? " " : ""}${n.name}`;
      case "not":
        return `${kw("not")}${sp}${at(n.operand, 3)}`;
      case "and":
        return n.operands.map((o) => at(o, 3)).join(`${sp}${kw("and")}${sp}`);
      case "or":
        return n.operands.map((o) => at(o, 2)).join(`${sp}${kw("or")}${sp}`);
      case "compare":
        return `${at(n.left, 5)}${sp}${kw(n.op)}${sp}${at(n.right, 5)}`;
    }
  };
  return print(node);
}

/** Prints the integer part of a decimal number with the digits starting at `zero`. */
function digits(text: string, zero: number): string {
  if (zero === 0x30) return text;
  return text.replace(/[0-9]/g, (d) => String.fromCodePoint(zero + Number(d)));
}

/** Deepest nesting of parentheses, lists and `not` the printed form needs (the parser's limit counts these). */
export function nesting(node: Expr): number {
  const at = (n: Expr, min: number): number => (PRECEDENCE[n.kind] < min ? 1 : 0) + nesting(n);
  switch (node.kind) {
    case "literal":
    case "field":
    case "variable":
      return 0;
    case "list":
      return 1 + Math.max(0, ...node.items.map((i) => nesting(i)));
    case "not":
      return 1 + at(node.operand, 3);
    case "and":
      return Math.max(...node.operands.map((o) => at(o, 3)));
    case "or":
      return Math.max(...node.operands.map((o) => at(o, 2)));
    case "compare":
      return Math.max(at(node.left, 5), at(node.right, 5));
  }
}

/** The reference interpreter's evaluation error. */
export class ReferenceEvalError extends Error {}

/**
 * Evaluates a tree as docs/expressions.md describes it. `field(name)` reads a
 * top-level field (missing: null); `variables` holds the `$names` (missing:
 * an evaluation error).
 */
export function referenceEvaluate(node: Expr, field: (name: string) => unknown, variables: ReadonlyMap<string, unknown>): unknown {
  const ev = (n: Expr): unknown => referenceEvaluate(n, field, variables);
  switch (node.kind) {
    case "literal":
      return node.value;
    case "list":
      return node.items.map(ev);
    case "field": {
      let current = field(node.parts[0]!) ?? null;
      for (const part of node.parts.slice(1)) {
        if (typeof current !== "object" || current === null || Array.isArray(current) || !Object.hasOwn(current, part)) return null;
        current = (current as Record<string, unknown>)[part] ?? null;
      }
      return current;
    }
    case "variable":
      if (!variables.has(node.name)) throw new ReferenceEvalError(`undefined variable $${node.name}`);
      return variables.get(node.name);
    case "not":
      return !truthy(ev(node.operand));
    case "and":
      for (const o of node.operands) if (!truthy(ev(o))) return false;
      return true;
    case "or":
      for (const o of node.operands) if (truthy(ev(o))) return true;
      return false;
    case "compare": {
      const a = ev(node.left);
      const b = ev(node.right);
      switch (node.op) {
        case "==":
          return equal(a, b);
        case "!=":
          return !equal(a, b);
        case "<":
          return order(a, b) < 0;
        case ">":
          return order(a, b) > 0;
        case "<=":
          return order(a, b) <= 0;
        case ">=":
          return order(a, b) >= 0;
        case "in":
          return member(b, a);
        case "not in":
          return !member(b, a);
        case "contains":
          return member(a, b);
        case "starts_with":
          return typeof a === "string" && typeof b === "string" && a.startsWith(b);
        case "ends_with":
          return typeof a === "string" && typeof b === "string" && a.endsWith(b);
        case "matches":
          if (typeof a !== "string") throw new ReferenceEvalError("matches needs a string");
          return RE2JS.compile(b as string).matcher(a).find();
      }
    }
  }
}

/** Python truthiness: null, false, 0, "", [] and {} are false. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (typeof v === "number" && Number.isNaN(v)) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

function equal(a: unknown, b: unknown): boolean {
  const num = (x: unknown): number | undefined => (typeof x === "number" ? x : typeof x === "boolean" ? (x ? 1 : 0) : undefined);
  const na = num(a);
  const nb = num(b);
  if (na !== undefined || nb !== undefined) return na !== undefined && nb !== undefined && na === nb;
  if (a === null || b === null) return a === b;
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]));
  }
  if (typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b as object, k) && equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

function order(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") {
    const x = Array.from(a, (c) => c.codePointAt(0)!);
    const y = Array.from(b, (c) => c.codePointAt(0)!);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  }
  throw new ReferenceEvalError("ordering needs two numbers or two strings");
}

/** `needle in haystack`: list membership, or a substring of a string. */
function member(haystack: unknown, needle: unknown): boolean {
  if (Array.isArray(haystack)) return haystack.some((x) => equal(x, needle));
  return typeof haystack === "string" && typeof needle === "string" && haystack.includes(needle);
}
