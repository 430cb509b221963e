import type { Node } from "./ast.ts";
import type { CompiledExpression, FieldResolver } from "./compile.ts";
import { isExpressionEvalError } from "./errors.ts";
import { printExpression } from "./print.ts";
import { compileRegex } from "./regex.ts";
import { compareOrdered, isTruthy, kindOf, listIncludes, valuesEqual } from "./values.ts";

/** How a condition came out for one request, in words. */
export interface ExpressionTrace {
  /** The truth of the condition as the compiled test decides it; "error" when it failed to evaluate. */
  readonly value: boolean | "error";
  /** The evaluation error's message. */
  readonly error?: string;
  /** One line per comparison or value looked at, in evaluation order (short-circuits stop it). */
  readonly steps: readonly string[];
}

/**
 * Explains a compiled condition against a context: the truth comes from the
 * compiled closures (what decisions use); the steps re-walk the syntax tree
 * to show each comparison with its operands' values, and which operand was
 * null or of the wrong kind when one was. Slow and allocating: for
 * explanations, never for decisions.
 */
export function traceExpression<C>(expr: CompiledExpression<C>, ctx: C, fields: FieldResolver<C>, variables: ReadonlyMap<string, unknown>): ExpressionTrace {
  let value: boolean | "error";
  let error: string | undefined;
  try {
    value = expr.test(ctx);
  } catch (e) {
    value = "error";
    error = isExpressionEvalError(e) ? e.message : String(e);
  }
  const steps: string[] = [];
  if (expr.source.trim() !== "") {
    try {
      new Walker(ctx, fields, variables, steps).test(expr.ast);
    } catch (e) {
      if (!isExpressionEvalError(e) && !(e instanceof WalkError)) throw e;
    }
  }
  return error === undefined ? { value, steps } : { value, error, steps };
}

/** An evaluation error met while walking (the compiled test reports its own). */
class WalkError extends Error {}

class Walker<C> {
  constructor(
    readonly ctx: C,
    readonly fields: FieldResolver<C>,
    readonly variables: ReadonlyMap<string, unknown>,
    readonly steps: string[],
  ) {}

  test(node: Node): boolean {
    switch (node.kind) {
      case "and":
        for (const n of node.operands) if (!this.test(n)) return false;
        return true;
      case "or":
        for (const n of node.operands) if (this.test(n)) return true;
        return false;
      case "not":
        return !this.test(node.operand);
      case "compare":
        return this.compare(node);
      default: {
        const v = this.value(node);
        this.steps.push(`${printExpression(node)} is ${show(v)} → ${isTruthy(v) ? "true" : "false"}`);
        return isTruthy(v);
      }
    }
  }

  value(node: Node): unknown {
    switch (node.kind) {
      case "literal":
        return node.value;
      case "list":
        return node.items.map((n) => this.value(n));
      case "field": {
        let current: unknown = this.fields(node.parts[0]!)(this.ctx);
        for (const part of node.parts.slice(1)) {
          if (typeof current !== "object" || current === null || Array.isArray(current) || !Object.hasOwn(current, part)) return null;
          current = (current as Record<string, unknown>)[part];
        }
        return current ?? null;
      }
      case "variable":
        if (!this.variables.has(node.name)) return this.fail(`undefined variable '$${node.name}'`);
        return this.variables.get(node.name);
      default:
        return this.test(node);
    }
  }

  compare(node: Extract<Node, { kind: "compare" }>): boolean {
    const text = printExpression(node);
    const left = this.value(node.left);
    const right = node.op === "matches" ? undefined : this.value(node.right);
    // Literals are in the text already: only what was looked up is shown.
    const looked = [[node.left, left], ...(node.op === "matches" ? [] : [[node.right, right]])] as [Node, unknown][];
    const shown = looked.filter(([n]) => !isConstant(n)).map(([n, v]) => describeOperand(n, v));
    const operands = shown.length === 0 ? "" : `: ${shown.join(", ")}`;
    let result: boolean;
    try {
      result = evaluate(node, left, right);
    } catch (e) {
      this.steps.push(`${text}${operands} → error: ${e instanceof Error ? e.message : String(e)}`);
      throw new WalkError();
    }
    const why = result ? "" : whyFalse(node, left, right);
    this.steps.push(`${text}${operands} → ${result}${why === "" ? "" : ` (${why})`}`);
    return result;
  }

  fail(message: string): never {
    this.steps.push(`error: ${message}`);
    throw new WalkError();
  }
}

function evaluate(node: Extract<Node, { kind: "compare" }>, left: unknown, right: unknown): boolean {
  switch (node.op) {
    case "==":
      return valuesEqual(left, right);
    case "!=":
      return !valuesEqual(left, right);
    case "<":
      return compareOrdered(left, right, node.op) < 0;
    case ">":
      return compareOrdered(left, right, node.op) > 0;
    case "<=":
      return compareOrdered(left, right, node.op) <= 0;
    case ">=":
      return compareOrdered(left, right, node.op) >= 0;
    case "in":
      return contains(right, left);
    case "not in":
      return !contains(right, left);
    case "contains":
      return contains(left, right);
    case "starts_with":
      return typeof left === "string" && typeof right === "string" && left.startsWith(right);
    case "ends_with":
      return typeof left === "string" && typeof right === "string" && left.endsWith(right);
    case "matches": {
      if (typeof left !== "string") throw new Error(`'matches' needs a string on the left, got ${left === null ? "null" : typeof left}`);
      const pattern = node.right.kind === "literal" && typeof node.right.value === "string" ? node.right.value : "";
      return compileRegex(pattern, "", 0)(left);
    }
  }
}

function contains(haystack: unknown, needle: unknown): boolean {
  if (Array.isArray(haystack)) return listIncludes(haystack, needle);
  if (typeof haystack === "string" && typeof needle === "string") return haystack.includes(needle);
  return false;
}

function isConstant(node: Node): boolean {
  return node.kind === "literal" || (node.kind === "list" && node.items.every(isConstant));
}

/** `amount is null (absent)`, `resource is "/docs/1"`. */
function describeOperand(node: Node, value: unknown): string {
  const name = printExpression(node);
  if (value === null && node.kind === "field") return `${name} is null (absent)`;
  return `${name} is ${show(value)}`;
}

/** Why a comparison that did not throw came out false, when a null or a kind mismatch explains it. */
function whyFalse(node: Extract<Node, { kind: "compare" }>, left: unknown, right: unknown): string {
  for (const [side, value] of [[node.left, left], [node.right, right]] as const) {
    if (value === null && side.kind === "field") return `${printExpression(side)} is null: no such request field or metadata`;
  }
  if ((node.op === "starts_with" || node.op === "ends_with") && (typeof left !== "string" || typeof right !== "string")) {
    return `${node.op} needs two strings, got ${kindOf(left)} and ${kindOf(right)}`;
  }
  if ((node.op === "in" || node.op === "not in") && !Array.isArray(right) && typeof right !== "string") return `the right side is ${kindOf(right)}, not a list or a string`;
  if (node.op === "==" && kindOf(left) !== kindOf(right) && !(typeof left === "boolean" && typeof right === "number") && !(typeof left === "number" && typeof right === "boolean")) {
    return `${kindOf(left)} never equals ${kindOf(right)}`;
  }
  return "";
}

function show(v: unknown): string {
  if (v === undefined) return "null";
  const text = JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
