/**
 * The condition language under random and hostile sources.
 *
 * Invariants: compiling either succeeds or throws ExpressionSyntaxError;
 * evaluating a compiled expression over any JSON-like context either returns
 * or throws ExpressionEvalError — never another exception type, never a stack
 * overflow, whatever the nesting.
 *
 * Complements test/expr/property.test.ts (token soup over a small token set,
 * expressions over five operators): here every operator of src/expr/ast.ts is
 * generated, printed in random styles (keyword case, whitespace, quotes,
 * non-ASCII digits, `$ name`), and the compiled result must agree with a
 * reference interpreter written from docs/expressions.md; sources are also
 * mutated character by character, and nested 65 to 100,000 levels deep.
 */
import { expect } from "chai";
import fc from "fast-check";
import { compileExpression, ExpressionEvalError, ExpressionSyntaxError, isExpressionEvalError, isExpressionSyntaxError, type CompiledExpression } from "../../src/expr/index.ts";
import { exprArb, literalText, printExpr, printStyle, ReferenceEvalError, referenceEvaluate, truthy, type Expr, type ExprVocabulary } from "./expr-gen.ts";
import { fuzzRuns, fuzzSeed, fuzzTimeout, InputTimer } from "../support/fuzz.ts";

const TREE_RUNS = fuzzRuns(500);
const SOUP_RUNS = fuzzRuns(400);

const VARIABLES = new Map<string, unknown>([
  ["limit", 2],
  ["env", "production"],
  ["list", ["x", 1, true]],
  ["obj", { total: 10, name: "x" }],
  ["nul", null],
]);
/** Referenced but not defined: compiles, fails to evaluate. */
const UNDEFINED_VARIABLES = ["missing"];
const FIELDS = ["a", "b", "c", "amount", "resource", "tags", "_", "x_1"];
const POOL_STRINGS = ["x", "y", "", "pii", "/prod/db", "/prod", "a+", "production", "é"];
const VALID_REGEXES = ["^/prod", "(?i)pii", "a+b*", "[0-9]{2,3}", "^$", "\\d+", "^(read|write)$", ".", "é", "^\\p{L}+$", "(a|b)*c", "x{0,1000}"];
/** Patterns RE2 refuses: a tree holding one must fail to compile with ExpressionSyntaxError. */
const INVALID_REGEXES = ["(", "[z-a]", "a{1001}", "\\8", "(?<!x)y", "a**", "x{2,1}"];

const vocabulary: ExprVocabulary = {
  fields: FIELDS,
  paths: [["obj", "total"], ["a", "b", "c"], ["resource", "x"]],
  variables: [...VARIABLES.keys(), ...UNDEFINED_VARIABLES],
  // Mostly a few values the contexts use too, so equality, membership and ordering often hold.
  strings: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...POOL_STRINGS) }, { weight: 1, arbitrary: literalText }),
  regexes: [...VALID_REGEXES, ...VALID_REGEXES, ...INVALID_REGEXES],
};

const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", maxDepth: 3 },
    fc.constantFrom<unknown>(...POOL_STRINGS, 0, 1, 2, 3, true, false, null),
    fc.array(fc.constantFrom<unknown>(...POOL_STRINGS, 0, 1, 2, true, null), { maxLength: 4 }),
    fc.constantFrom(null, true, false, 0, -0, 1, 2, 2.5, -1, 10, 1e21, Number.MAX_SAFE_INTEGER, "", "x", "y", "a+", "/prod/db", "production", "pii", "é", "🙂"),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ unit: "grapheme", maxLength: 6 }),
    fc.array(tie("v"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("b", "c", "x", "total", "name", "__proto__"), tie("v"), { maxKeys: 3 }).map((d) => ({ ...d })),
  ),
})).v;

/** A context: the vocabulary's fields (and some others) with JSON-like values. */
const context = fc.array(fc.tuple(fc.constantFrom(...FIELDS, "obj", "other", "__proto__"), jsonValue), { maxLength: 6 }).map((pairs) => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of pairs) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
});

function usesInvalidRegex(node: Expr): boolean {
  switch (node.kind) {
    case "compare":
      return (node.op === "matches" && INVALID_REGEXES.includes(String((node.right as { value?: unknown }).value))) || usesInvalidRegex(node.left) || usesInvalidRegex(node.right);
    case "not":
      return usesInvalidRegex(node.operand);
    case "and":
    case "or":
      return node.operands.some(usesInvalidRegex);
    case "list":
      return node.items.some(usesInvalidRegex);
    default:
      return false;
  }
}

/** Compiles, or returns the ExpressionSyntaxError; anything else is thrown. */
function compileOrSyntaxError(source: string, limits?: { maxLength?: number; maxDepth?: number }): CompiledExpression<Record<string, unknown>> | ExpressionSyntaxError {
  try {
    return compileExpression(source, { variables: VARIABLES, ...(limits === undefined ? {} : { limits }) });
  } catch (error) {
    if (error instanceof ExpressionSyntaxError && isExpressionSyntaxError(error)) return error;
    throw new Error(`compiling ${preview(source)} threw ${describeError(error)} instead of an ExpressionSyntaxError`, { cause: error });
  }
}

/** Evaluates and tests; returns the value, or the ExpressionEvalError; anything else is thrown. */
function evaluateOrEvalError(compiled: CompiledExpression<Record<string, unknown>>, ctx: Record<string, unknown>): { value: unknown } | ExpressionEvalError {
  let value: unknown;
  try {
    value = compiled.evaluate(ctx);
  } catch (error) {
    if (!(error instanceof ExpressionEvalError && isExpressionEvalError(error))) {
      throw new Error(`evaluating ${preview(compiled.source)} threw ${describeError(error)} instead of an ExpressionEvalError`, { cause: error });
    }
    // test() fails the same way.
    expect(() => compiled.test(ctx)).to.throw(ExpressionEvalError);
    return error;
  }
  let tested: boolean;
  try {
    tested = compiled.test(ctx);
  } catch (error) {
    throw new Error(`test() threw ${describeError(error)} where evaluate() returned ${JSON.stringify(value)} for ${preview(compiled.source)}`, { cause: error });
  }
  expect(tested, `test() vs evaluate() for ${preview(compiled.source)}`).to.equal(truthy(value));
  return { value };
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : String(error);
}

function preview(source: string): string {
  return JSON.stringify(source.length > 300 ? `${source.slice(0, 300)}… (${source.length} characters)` : source);
}

describe("expressions (fuzz: every operator against a reference interpreter, mutated sources, deep nesting)", function () {
  this.timeout(fuzzTimeout(Math.max(TREE_RUNS, SOUP_RUNS), 20));

  it(`random well-formed trees, printed in random styles, compile and evaluate as the reference interpreter does (${TREE_RUNS} trees × 3 contexts)`, () => {
    const timer = new InputTimer();
    try {
      fc.assert(
        fc.property(exprArb(vocabulary, 5), printStyle, fc.array(context, { minLength: 3, maxLength: 3 }), (tree, style, contexts) => {
          const source = printExpr(tree, style);
          timer.time(() => {
            const compiled = compileOrSyntaxError(source);
            if (usesInvalidRegex(tree)) {
              expect(compiled, `${preview(source)} has an invalid regex`).to.be.instanceOf(ExpressionSyntaxError);
              timer.tally("syntax-error");
              return;
            }
            if (compiled instanceof ExpressionSyntaxError) throw new Error(`a well-formed expression did not compile: ${compiled.message}\nsource: ${preview(source)}`);
            for (const ctx of contexts) {
              const got = evaluateOrEvalError(compiled, ctx);
              let want: { value: unknown } | ReferenceEvalError;
              try {
                want = { value: referenceEvaluate(tree, (name) => (Object.hasOwn(ctx, name) ? ctx[name] : null), VARIABLES) };
              } catch (error) {
                if (!(error instanceof ReferenceEvalError)) throw error;
                want = error;
              }
              const context = `source: ${preview(source)}\ncontext: ${JSON.stringify(ctx)}`;
              if (want instanceof ReferenceEvalError) {
                expect(got, `the reference fails (${want.message}) but the compiled expression returned\n${context}`).to.be.instanceOf(ExpressionEvalError);
                timer.tally("eval-error");
              } else {
                expect(got, `the compiled expression failed but the reference returned ${JSON.stringify(want.value)}\n${context}`).not.to.be.instanceOf(ExpressionEvalError);
                expect((got as { value: unknown }).value, context).to.deep.equal(want.value);
                timer.tally(truthy(want.value) ? "true" : "false");
              }
            }
          });
        }),
        { numRuns: TREE_RUNS, seed: fuzzSeed(21) },
      );
    } finally {
      timer.report("expressions, random trees");
    }
  });

  it(`token soups, random text and mutated valid sources compile or fail with ExpressionSyntaxError, and evaluate or fail with ExpressionEvalError (${SOUP_RUNS} inputs)`, () => {
    const timer = new InputTimer();
    const token = fc.constantFrom(
      "a", "b.c", "obj.total", "$limit", "$ limit", "$missing", "$", "$$", "1", "2.5", "1.", ".5", "\u0663", "𝟗", '"x"', "'y'", '"', "'", "true", "None", "NULL", "FALSE",
      "(", ")", "[", "]", ",", ".", "..", "==", "!=", "<", ">", "<=", ">=", "=", "!", "and", "OR", "Not", "in", "not in", "NOT IN", "contains", "starts_with", "Ends_With",
      "matches", '"("', '"a+"', '"(?i)x"', "#", "é", " ", "\n", "\t", "\u00a0", "\u200b", "\uFEFF", "🙂", "\uD800", "\u0000",
    );
    const soup = fc.array(fc.tuple(token, fc.constantFrom("", " ", " ")), { maxLength: 30 }).map((parts) => parts.map(([t, s]) => t + s).join(""));
    const mutated = fc
      .tuple(exprArb(vocabulary, 4), printStyle, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), token), { minLength: 1, maxLength: 3 }))
      .map(([tree, style, edits]) => {
        let s = printExpr(tree, style);
        for (const [at, kind, t] of edits) {
          const i = at % (s.length + 1);
          s = kind === 0 ? s.slice(0, i) + s.slice(i + 1) : kind === 1 ? s.slice(0, i) + t + s.slice(i) : kind === 2 ? s.slice(0, i) + s.slice(i + 1 + (at % 5)) : s.slice(i) + s.slice(0, i);
        }
        return s;
      });
    const source = fc.oneof(soup, mutated, fc.string({ unit: "grapheme", maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }));
    try {
      fc.assert(
        fc.property(source, context, (text, ctx) => {
          timer.time(() => {
            const compiled = compileOrSyntaxError(text);
            if (compiled instanceof ExpressionSyntaxError) {
              expect(compiled.reason).to.be.a("string").and.not.equal("");
              expect(compiled.position).to.be.within(-1, text.length);
              timer.tally("syntax-error");
              return;
            }
            const got = evaluateOrEvalError(compiled, ctx);
            timer.tally(got instanceof ExpressionEvalError ? "eval-error" : "value");
          });
        }),
        { numRuns: SOUP_RUNS, seed: fuzzSeed(22) },
      );
    } finally {
      timer.report("expressions, token soup and mutated sources");
    }
  });

  const SHAPES: ReadonlyArray<readonly [string, (n: number) => string]> = [
    ["parentheses", (n) => `${"(".repeat(n)}a${")".repeat(n)}`],
    ["not", (n) => `${"not ".repeat(n)}a`],
    ["lists", (n) => `${"[".repeat(n)}${"]".repeat(n)}`],
    ["not (", (n) => `${"not (".repeat(n)}a${")".repeat(n)}`],
    ["[(", (n) => `${"[(".repeat(n)}1${")]".repeat(n)}`],
    ["a comparison's right side", (n) => `a == ${"(".repeat(n)}b${")".repeat(n)}`],
    ["unclosed parentheses", (n) => "(".repeat(n)],
    ["unclosed lists", (n) => "[".repeat(n)],
  ];

  it("nesting 65 to 100,000 levels deep (parentheses, not, lists, mixed, unclosed) is an ExpressionSyntaxError, never a stack overflow", () => {
    const timer = new InputTimer();
    for (const [shape, build] of SHAPES) {
      // 100,000 levels only for plain parentheses: the source is tokenized before the depth check, so size costs time.
      for (const n of shape === "parentheses" ? [65, 1000, 10_000, 100_000] : [65, 1000, 10_000]) {
        const source = build(n);
        for (const limits of [undefined, { maxLength: 10_000_000 }]) {
          timer.time(() => {
            const compiled = compileOrSyntaxError(source, limits);
            expect(compiled, `${shape} × ${n}`).to.be.instanceOf(ExpressionSyntaxError);
          });
        }
      }
    }
    timer.report("expressions, deep nesting (default depth limit)");
  });

  it("20,000-operand and/or chains and 20,000-part field paths compile and evaluate without recursion", () => {
    const timer = new InputTimer();
    const n = 20_000;
    const inputs: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
      [Array(n).fill("a").join(" and "), { a: 1 }],
      [Array(n).fill("a").join(" or "), { a: 0 }],
      [Array.from({ length: n }, (_, i) => (i % 2 === 0 ? "not a" : "b")).join(" and "), { a: 0, b: 1 }],
      [Array.from({ length: n }, (_, i) => `a == ${i}`).join(" or "), { a: -1 }],
      [`${Array(n).fill("a").join(".")} == 1`, { a: {} }],
    ];
    for (const [source, ctx] of inputs) {
      timer.time(() => {
        const compiled = compileOrSyntaxError(source, { maxLength: 10_000_000 });
        if (compiled instanceof ExpressionSyntaxError) throw new Error(`${preview(source)}: ${compiled.message}`);
        expect(evaluateOrEvalError(compiled, ctx)).not.to.be.instanceOf(ExpressionEvalError);
        compiled.requiredValues("a");
        compiled.requiredPrefixes("a");
      });
    }
    timer.report("expressions, long flat chains");
  });

  it("with the depth limit raised (server config limits.max_expression_depth: 1000000), 10,000 levels compile or fail with ExpressionSyntaxError, never a stack overflow", () => {
    const timer = new InputTimer();
    const failures: string[] = [];
    for (const [shape, build] of SHAPES) {
      const source = build(10_000);
      try {
        timer.time(() => {
          const compiled = compileOrSyntaxError(source, { maxLength: 10_000_000, maxDepth: 1_000_000 });
          if (!(compiled instanceof ExpressionSyntaxError)) evaluateOrEvalError(compiled, { a: 1, b: 1 });
        });
      } catch (error) {
        failures.push(`${shape} × 10,000: ${error instanceof Error ? error.message.replace(/compiling ".*" threw/, "compiling threw") : String(error)}`);
      }
    }
    timer.report("expressions, deep nesting (depth limit raised)");
    expect(failures, `\n  ${failures.join("\n  ")}\n`).to.deep.equal([]);
  });
});
