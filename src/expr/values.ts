import { ExpressionEvalError } from "./errors.ts";

/** A value an expression can produce or read: JSON-like data. */
export type Value = null | boolean | number | string | readonly Value[] | { readonly [key: string]: Value };

/**
 * Equality as the language defines it (Python's `==` on JSON data): numbers by
 * value, booleans equal to 1 and 0, a string never equal to a number, lists
 * element by element, objects by keys and values.
 */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ta = typeof a;
  const tb = typeof b;
  if ((ta === "number" || ta === "boolean") && (tb === "number" || tb === "boolean")) return Number(a) === Number(b);
  if (a === undefined || b === undefined) return (a ?? null) === (b ?? null);
  if (ta !== "object" || tb !== "object" || a === null || b === null) return false;
  const aList = Array.isArray(a);
  if (aList !== Array.isArray(b)) return false;
  if (aList) {
    const x = a as readonly unknown[];
    const y = b as readonly unknown[];
    return x.length === y.length && x.every((v, i) => valuesEqual(v, y[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => Object.hasOwn(y, k) && valuesEqual(x[k], y[k]));
}

/** Python truthiness: null, false, 0, "", [] and {} are false. */
export function isTruthy(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  switch (typeof v) {
    case "boolean":
      return v;
    case "number":
      return v !== 0 && !Number.isNaN(v);
    case "string":
      return v.length > 0;
    case "object":
      return Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0;
    default:
      return true;
  }
}

/** Membership as Python's `x in list`. */
export function listIncludes(list: readonly unknown[], v: unknown): boolean {
  for (const item of list) if (valuesEqual(item, v)) return true;
  return false;
}

/**
 * Orders two numbers or two strings (strings by Unicode code point, as Python
 * does — not by UTF-16 unit). Any other pair is an evaluation error.
 */
export function compareOrdered(a: unknown, b: unknown, op: string): number {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return compareCodePoints(a, b);
  throw new ExpressionEvalError(`cannot compare ${kindOf(a)} ${op} ${kindOf(b)}: ordering needs two numbers or two strings`);
}

function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort above every BMP code unit.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** A short name of a value's kind, for messages. */
export function kindOf(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return "a list";
  switch (typeof v) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "boolean":
      return "a boolean";
    default:
      return "an object";
  }
}
