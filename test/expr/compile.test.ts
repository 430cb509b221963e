import { expect } from "chai";
import { compileExpression, isExpressionEvalError, isExpressionSyntaxError, type ExpressionSyntaxError } from "../../src/expr/index.ts";

const VARS = { limit: 1000, env: "production", tags: ["a", "b"] };

function evaluate(source: string, ctx: Record<string, unknown> = {}): unknown {
  return compileExpression(source, { variables: VARS }).evaluate(ctx);
}

function syntaxError(source: string, limits?: { maxLength?: number; maxDepth?: number }): ExpressionSyntaxError {
  try {
    compileExpression(source, { variables: VARS, ...(limits === undefined ? {} : { limits }) });
  } catch (e) {
    if (isExpressionSyntaxError(e)) return e;
    throw e;
  }
  throw new Error(`expected a syntax error for ${source}`);
}

function evalError(source: string, ctx: Record<string, unknown> = {}): Error {
  try {
    evaluate(source, ctx);
  } catch (e) {
    if (isExpressionEvalError(e)) return e;
    throw e;
  }
  throw new Error(`expected an evaluation error for ${source}`);
}

describe("expressions", () => {
  describe("evaluation", () => {
    const table: [string, Record<string, unknown>, unknown][] = [
      ['action == "deploy"', { action: "deploy" }, true],
      ["amount > $limit", { amount: 1500 }, true],
      ["amount > $limit", { amount: 999.5 }, false],
      ["$env == 'production' and user != 'root'", { user: "alice" }, true],
      ["not (a == 1)", { a: 2 }, true],
      ["a or b and c", { a: 0, b: 1, c: 0 }, false],
      ["a and b or c", { a: 0, b: 1, c: "x" }, true],
      ["NOT a", { a: "" }, true],
      ['tags contains "pii"', { tags: ["x", "pii"] }, true],
      ['tags contains "pii"', { tags: "no pii here" }, true],
      ['tags contains "pii"', { tags: null }, false],
      ['"pii" in tags', { tags: ["pii"] }, true],
      ["x not in [1, 2]", { x: 3 }, true],
      ["x in [1, 2]", { x: true }, true],
      ['x in "abc"', { x: "bc" }, true],
      ["x in 5", { x: 5 }, false],
      ["x not in 5", { x: 5 }, true],
      ['path starts_with "/prod"', { path: "/prod/db" }, true],
      ['path ends_with ".csv"', { path: 5 }, false],
      ["a.b.c == 3", { a: { b: { c: 3.0 } } }, true],
      ["a.b.c", { a: { b: [1] } }, null],
      ["a.length", { a: "text" }, null],
      ["[1, a, 'x']", { a: 2 }, [1, 2, "x"]],
      ["x == y", { x: { k: [1, true] }, y: { k: [1.0, 1] } }, true],
      ["x == y", { x: "1", y: 1 }, false],
      ["null == missing", {}, true],
      ['"b" > "a" and 2 >= 2.0', {}, true],
      ['"\u{1F600}" > "\uFFFF"', {}, true],
      ["\u0663 == 3", {}, true],
      ["x matches \"^[a-z]+\\\\d$\"", { x: "abc1" }, false],
      ['x matches "(?i)SSN"', { x: "my ssn is" }, true],
      ['x matches "pii"', { x: "no" }, false],
    ];
    for (const [source, ctx, expected] of table) {
      it(`${source} with ${JSON.stringify(ctx)} → ${JSON.stringify(expected)}`, () => {
        expect(evaluate(source, ctx)).to.deep.equal(expected);
      });
    }

    it("yields booleans from and/or/not", () => {
      expect(evaluate("a and b", { a: "x", b: [1] })).to.equal(true);
      expect(evaluate("a or b", { a: 0, b: "" })).to.equal(false);
    });

    it("treats an empty or blank source as true", () => {
      expect(evaluate("")).to.equal(true);
      expect(evaluate(" \t\n\u3000")).to.equal(true);
    });

    it("reads prototype-named fields as null unless they are own properties", () => {
      for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
        expect(evaluate(`${name} == null`, {}), name).to.equal(true);
        expect(evaluate(`x.${name} == null`, { x: {} }), name).to.equal(true);
      }
      expect(evaluate("constructor == 'c'", JSON.parse('{"constructor": "c"}') as Record<string, unknown>)).to.equal(true);
    });

    it("reads top-level fields through a resolver", () => {
      const expr = compileExpression<{ a: string; meta: Record<string, unknown> }>("action == 'x' and level > 2", {
        fields: (name) => (name === "action" ? (c) => c.a : (c) => c.meta[name]),
      });
      expect(expr.test({ a: "x", meta: { level: 3 } })).to.equal(true);
      expect(expr.test({ a: "y", meta: { level: 3 } })).to.equal(false);
    });

    it("lists the variables it references, even in branches that never run", () => {
      expect([...compileExpression("true or $a == $b", {}).variables].sort()).to.deep.equal(["a", "b"]);
    });
  });

  describe("evaluation errors", () => {
    const table: [string, Record<string, unknown>][] = [
      ["$missing == 1", {}],
      ["$missing or true", {}],
      ["amount < 1000", {}],
      ['amount < "1000"', { amount: 5 }],
      ["flag > 0", { flag: true }],
      ["xs > ys", { xs: [1], ys: [0] }],
      ['x matches "a"', { x: 5 }],
      ['x matches "a"', {}],
    ];
    for (const [source, ctx] of table) {
      it(`${source} with ${JSON.stringify(ctx)} throws an evaluation error`, () => {
        expect(evalError(source, ctx).name).to.equal("ExpressionEvalError");
      });
    }

    it("short-circuits past an error", () => {
      expect(evaluate("true or $missing")).to.equal(true);
      expect(evaluate("false and amount < 1")).to.equal(false);
    });
  });

  describe("syntax errors", () => {
    const table: [string, number][] = [
      ["a ==", 4],
      ["a = b", 2],
      ["a == b == c", 7],
      ["(a == 1", 7],
      ["[1,]", 3],
      ["not in x", 0],
      ["a.in", 2],
      ["$ and", 2],
      ["1e5", 1],
      ['"open', 0],
      ["é == 1", 0],
      ["x == 1 # c", 7],
      ["x matches y", 2],
      ['x matches "("', 2],
      ["x matches ($v)", 2],
    ];
    for (const [source, position] of table) {
      it(`rejects ${JSON.stringify(source)} at position ${position}`, () => {
        const e = syntaxError(source);
        expect(e.position, e.message).to.equal(position);
        expect(e.message).to.contain(`at position ${position}`);
      });
    }
  });

  describe("limits", () => {
    it("rejects a source over the length limit, naming it", () => {
      const e = syntaxError("a == 1 or ".repeat(1000) + "a == 1");
      expect(e.message).to.match(/^expression is 10006 characters long; the limit is 8192/);
      expect(syntaxError("a == 1", { maxLength: 3 }).message).to.contain("limit is 3");
    });

    it("rejects nesting over the depth limit without overflowing the stack", () => {
      for (const [open, close] of [["(", ")"], ["[", "]"], ["not ", ""]] as const) {
        const deep = open.repeat(1500) + "a" + close.repeat(1500);
        expect(syntaxError(deep).message).to.contain("nesting exceeds the limit of 64 levels");
        const ok = open.repeat(64) + "a" + close.repeat(64);
        expect(() => compileExpression(ok)).to.not.throw();
      }
    });

    it("compiles and evaluates long and/or chains without recursion", () => {
      const source = Array.from({ length: 1500 }, (_, i) => `a == ${i}`).join(" or ");
      const expr = compileExpression(source, { limits: { maxLength: 100_000 } });
      expect(expr.test({ a: 1499 })).to.equal(true);
      expect(expr.test({ a: -1 })).to.equal(false);
      const chain = Array.from({ length: 3000 }, () => "a").join(" and ");
      expect(compileExpression(chain, { limits: { maxLength: 100_000 } }).test({ a: 1 })).to.equal(true);
    });
  });

  describe("requiredValues", () => {
    const table: [string, string[] | undefined][] = [
      ['action == "delete"', ["delete"]],
      ['"delete" == action', ["delete"]],
      ['action == "delete" or action == "rollback"', ["delete", "rollback"]],
      ['action in ["a", "b"]', ["a", "b"]],
      ['action == "deploy" and resource starts_with "/prod"', ["deploy"]],
      ['resource starts_with "/prod" and action == "deploy"', ["deploy"]],
      ['action in ["a", "b"] and action == "b"', ["b"]],
      ['action == "x" and amount > 5', ["x"]],
      ['amount > 5 and action == "x"', undefined],
      ['$undefined == 1 and action == "x"', undefined],
      ['action == "x" or user == "y"', undefined],
      ['not action == "x"', undefined],
      ['action != "x"', undefined],
      ['action in ["a", 1]', undefined],
      ['Action == "x"', undefined],
      ['action.name == "x"', undefined],
      ["", undefined],
    ];
    for (const [source, expected] of table) {
      it(`${source || "(empty)"} → ${expected === undefined ? "unknown" : expected.join(",")}`, () => {
        const got = compileExpression(source, { variables: VARS }).requiredValues("action");
        expect(got === undefined ? undefined : [...got].sort()).to.deep.equal(expected);
      });
    }
  });
});
