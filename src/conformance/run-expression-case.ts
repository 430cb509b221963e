import { compileExpression, isExpressionEvalError, isExpressionSyntaxError, type CompiledExpression } from "../expr/index.ts";
import type { CaseResult, ExpressionCase } from "./cases.ts";

/** Runs one expression case: compile with its variables, evaluate against its context. */
export function runExpressionCase(c: ExpressionCase): CaseResult {
  const differences: string[] = [];
  const expectedError = errorKind(c.expect);
  let compiled: CompiledExpression<Readonly<Record<string, unknown>>>;
  try {
    compiled = compileExpression(c.expr, { variables: c.variables });
  } catch (error) {
    if (!isExpressionSyntaxError(error)) differences.push(`compile: crashed: ${String(error)}`);
    else if (expectedError !== "compile") differences.push(`expected ${describe(c.expect)}, got compile error: ${error.message}`);
    return { id: c.id, passed: differences.length === 0, differences };
  }
  try {
    const value = compiled.evaluate(c.context);
    if (expectedError !== undefined) differences.push(`expected ${expectedError} error, got ${JSON.stringify(value)}`);
    else if (!sameValue(value, c.expect)) differences.push(`expected ${JSON.stringify(c.expect)}, got ${JSON.stringify(value)}`);
  } catch (error) {
    if (!isExpressionEvalError(error)) differences.push(`evaluate: crashed: ${String(error)}`);
    else if (expectedError !== "evaluate") differences.push(`expected ${describe(c.expect)}, got evaluation error: ${error.message}`);
  }
  return { id: c.id, passed: differences.length === 0, differences };
}

function errorKind(expect: unknown): "compile" | "evaluate" | undefined {
  if (typeof expect !== "object" || expect === null || Array.isArray(expect)) return undefined;
  const kind = (expect as Record<string, unknown>)["error"];
  return kind === "compile" || kind === "evaluate" ? kind : undefined;
}

function describe(expect: unknown): string {
  const kind = errorKind(expect);
  return kind === undefined ? JSON.stringify(expect) : `${kind} error`;
}

/** JSON equality with numbers compared by value. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (typeof a === "object" && typeof b === "object" && a !== null && b !== null && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}
