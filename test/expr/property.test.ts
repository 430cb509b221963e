import { expect } from "chai";
import fc from "fast-check";
import { compileExpression, isExpressionEvalError, isExpressionSyntaxError } from "../../src/expr/index.ts";
import { fuzzRuns } from "../support/fuzz.ts";

const RUNS = fuzzRuns(300);

const token = fc.constantFrom(
  "a", "b.c", "$limit", "$nope", "1", "2.5", '"x"', "'y'", "true", "null", "(", ")", "[", "]", ",",
  "==", "!=", "<", ">=", "and", "or", "not", "in", "not in", "contains", "starts_with", "matches", '"a+"',
  "=", "!", "#", "é", "\u0663", " ", "\n",
);

const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null), fc.boolean(), fc.integer({ min: -3, max: 3 }), fc.constantFrom("x", "y", "", "a+"),
  fc.array(fc.constantFrom(1, "x", true), { maxLength: 3 }),
);

const literal = fc.oneof(fc.constantFrom("a", "b", "c.d", "$limit", "$nope", "1", "2.5", '"x"', "true", "null", "[1, \"x\"]"));
const expr: fc.Arbitrary<string> = fc.letrec((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    literal,
    fc.tuple(literal, fc.constantFrom("==", "!=", "<", ">=", "in", "not in", "contains", "ends_with"), literal).map(([l, op, r]) => `${l} ${op} ${r}`),
    fc.tuple(tie("e"), fc.constantFrom("and", "or"), tie("e")).map(([l, op, r]) => `${l} ${op} ${r}`),
    tie("e").map((e) => `not (${e})`),
  ),
})).e;

function outcome(source: string, ctx: Record<string, unknown>): void {
  let compiled;
  try {
    compiled = compileExpression(source, { variables: { limit: 2 } });
  } catch (e) {
    if (isExpressionSyntaxError(e)) return;
    throw e;
  }
  try {
    compiled.evaluate(ctx);
    compiled.test(ctx);
  } catch (e) {
    if (!isExpressionEvalError(e)) throw e;
  }
}

describe("expressions (property)", () => {
  it(`never fails with anything but the two typed errors on token soup (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 30 }), fc.dictionary(fc.constantFrom("a", "b", "c"), value), (tokens, ctx) => {
        outcome(tokens.join(" "), ctx);
      }),
      { numRuns: RUNS, seed: 7 },
    );
  });

  it(`evaluates random well-formed expressions to booleans or typed errors, and test() agrees with evaluate() (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(expr, fc.dictionary(fc.constantFrom("a", "b", "c"), value), (source, ctx) => {
        const compiled = compileExpression(source, { variables: { limit: 2 } });
        let v: unknown;
        let threw = false;
        try {
          v = compiled.evaluate(ctx);
        } catch (e) {
          if (!isExpressionEvalError(e)) throw e;
          threw = true;
        }
        let t: boolean | undefined;
        try {
          t = compiled.test(ctx);
        } catch (e) {
          if (!isExpressionEvalError(e)) throw e;
        }
        if (threw) expect(t).to.equal(undefined);
        else if (typeof v === "boolean") expect(t).to.equal(v);
      }),
      { numRuns: RUNS, seed: 11 },
    );
  });

  it(`requiredValues never excludes a value that makes the condition true or throw (${RUNS} runs)`, () => {
    const actions = ["x", "y", "z"];
    const cond = fc.letrec((tie) => ({
      c: fc.oneof(
        { depthSize: "small" },
        fc.constantFrom('action == "x"', 'action == "y"', 'action in ["x", "z"]', "n > 1", '$nope == 1', "flag", 'action != "y"'),
        fc.tuple(tie("c"), fc.constantFrom("and", "or"), tie("c")).map(([l, op, r]) => `(${l}) ${op} (${r})`),
        tie("c").map((c) => `not (${c})`),
      ),
    })).c;
    fc.assert(
      fc.property(cond, fc.constantFrom(...actions), fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 3 })), fc.boolean(), (source, action, n, flag) => {
        const compiled = compileExpression(source);
        const required = compiled.requiredValues("action");
        if (required === undefined) return;
        let matched: boolean;
        try {
          matched = compiled.test({ action, n, flag });
        } catch {
          matched = true;
        }
        if (matched) expect(required.has(action), `${source} with action ${action}`).to.equal(true);
      }),
      { numRuns: RUNS * 3, seed: 13 },
    );
  });
});
