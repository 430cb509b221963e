import type { CompareOp, Node } from "./ast.ts";
import { ExpressionEvalError, ExpressionSyntaxError } from "./errors.ts";
import { parse } from "./parser.ts";
import { compileRegex } from "./regex.ts";
import { requiredPrefixes, requiredValues } from "./required-values.ts";
import { compareOrdered, isTruthy, listIncludes, valuesEqual, type Value } from "./values.ts";

/** Bounds on a condition: its length in characters and its nesting depth; exceeding one is a ConfigError naming it. */
export interface ExpressionLimits {
  readonly maxLength: number;
  readonly maxDepth: number;
}

/** 8,192 characters of source; 64 levels of parentheses, lists and `not`. */
export const DEFAULT_EXPRESSION_LIMITS: ExpressionLimits = Object.freeze({ maxLength: 8192, maxDepth: 64 });

/**
 * The most levels `maxDepth` may allow: parsing, compiling and evaluating
 * recurse once per level, and this many stay far inside the stack. A larger
 * `maxDepth` is treated as this one.
 */
export const MAX_EXPRESSION_DEPTH = 256;

/** Returns a reader for a top-level field name (the first part of a dotted path). */
export type FieldResolver<C> = (name: string) => (ctx: C) => unknown;

export interface CompileOptions<C> {
  /**
   * `$name` values. A name absent here compiles to a reader that throws
   * ExpressionEvalError when (and only when) it is evaluated.
   */
  readonly variables?: ReadonlyMap<string, unknown> | Readonly<Record<string, unknown>> | undefined;
  /** How top-level fields are read. Default: own properties of a plain object, missing → null. */
  readonly fields?: FieldResolver<C> | undefined;
  readonly limits?: Partial<ExpressionLimits> | undefined;
}

export interface CompiledExpression<C> {
  readonly source: string;
  /** The syntax tree it was compiled from (for explanations and lint; never evaluated from). */
  readonly ast: Node;
  /** Every `$name` the expression references, even in branches that never run. */
  readonly variables: ReadonlySet<string>;
  /** Evaluates to a value. Throws ExpressionEvalError. */
  evaluate(ctx: C): Value;
  /** Evaluates and applies truthiness. Throws ExpressionEvalError. */
  test(ctx: C): boolean;
  /**
   * A set S such that whenever the expression is truthy or throws, the
   * top-level field `field` holds one of S; undefined when none can be derived.
   */
  requiredValues(field: string): ReadonlySet<string> | undefined;
  /** Like `requiredValues`, for prefixes: the field starts with one of the set. */
  requiredPrefixes(field: string): ReadonlySet<string> | undefined;
}

type Eval<C> = (ctx: C) => unknown;

const ALWAYS_TRUE: Node = { kind: "literal", value: true };

/**
 * Parses and compiles an expression once into closures. Throws
 * ExpressionSyntaxError for syntax errors, exceeded limits, a `matches` whose
 * right side is not a string literal, or an invalid regular expression.
 */
export function compileExpression<C = Readonly<Record<string, unknown>>>(
  source: string,
  options: CompileOptions<C> = {},
): CompiledExpression<C> {
  const limits = { ...DEFAULT_EXPRESSION_LIMITS, ...options.limits };
  if (typeof source !== "string") throw new ExpressionSyntaxError("expression must be a string", String(source), -1);
  if (source.length > limits.maxLength) {
    throw new ExpressionSyntaxError(`expression is ${source.length} characters long; the limit is ${limits.maxLength}`, source.slice(0, 80), -1);
  }
  const ast = source.trim() === "" ? ALWAYS_TRUE : parse(source, Math.min(limits.maxDepth, MAX_EXPRESSION_DEPTH));
  const variables = lookupVariables(options.variables);
  const names = new Set<string>();
  const compiler = new Compiler<C>(source, options.fields ?? defaultFields, variables, names);
  const evaluate = compiler.compile(ast);
  const isTrue = compiler.compileTest(ast);
  return Object.freeze({
    source,
    ast,
    variables: names,
    evaluate: evaluate as (ctx: C) => Value,
    test: isTrue,
    requiredValues: (field: string) => requiredValues(ast, field, variables),
    requiredPrefixes: (field: string) => requiredPrefixes(ast, field, variables),
  });
}

function lookupVariables(v: CompileOptions<unknown>["variables"]): ReadonlyMap<string, unknown> {
  if (v === undefined) return new Map();
  if (v instanceof Map) return v;
  return new Map(Object.entries(v as Record<string, unknown>));
}

function defaultFields(name: string): (ctx: unknown) => unknown {
  return (ctx) => (typeof ctx === "object" && ctx !== null && Object.hasOwn(ctx, name) ? (ctx as Record<string, unknown>)[name] : null);
}

class Compiler<C> {
  constructor(
    readonly source: string,
    readonly fields: FieldResolver<C>,
    readonly variables: ReadonlyMap<string, unknown>,
    readonly names: Set<string>,
  ) {}

  /** Compiles to a truth test; boolean operators avoid boxing intermediate values. */
  compileTest(node: Node): (ctx: C) => boolean {
    switch (node.kind) {
      case "and": {
        const parts = node.operands.map((n) => this.compileTest(n));
        if (parts.length === 2) {
          const [a, b] = parts as [(ctx: C) => boolean, (ctx: C) => boolean];
          return (ctx) => a(ctx) && b(ctx);
        }
        return (ctx) => {
          for (let i = 0; i < parts.length; i++) if (!parts[i]!(ctx)) return false;
          return true;
        };
      }
      case "or": {
        const parts = node.operands.map((n) => this.compileTest(n));
        if (parts.length === 2) {
          const [a, b] = parts as [(ctx: C) => boolean, (ctx: C) => boolean];
          return (ctx) => a(ctx) || b(ctx);
        }
        return (ctx) => {
          for (let i = 0; i < parts.length; i++) if (parts[i]!(ctx)) return true;
          return false;
        };
      }
      case "not": {
        const inner = this.compileTest(node.operand);
        return (ctx) => !inner(ctx);
      }
      case "compare":
        return this.compileCompare(node.op, node.left, node.right, node.pos);
      default: {
        const value = this.compile(node);
        return (ctx) => isTruthy(value(ctx));
      }
    }
  }

  compile(node: Node): Eval<C> {
    switch (node.kind) {
      case "literal": {
        const v = node.value;
        return () => v;
      }
      case "list": {
        const items = node.items.map((n) => this.compile(n));
        if (node.items.every((n) => n.kind === "literal")) {
          const constant = Object.freeze(items.map((f) => f(undefined as C)));
          return () => constant;
        }
        return (ctx) => items.map((f) => f(ctx));
      }
      case "field":
        return this.compileField(node.parts);
      case "variable": {
        const name = node.name;
        this.names.add(name);
        if (this.variables.has(name)) {
          const v = this.variables.get(name);
          return () => v;
        }
        return () => {
          throw new ExpressionEvalError(`Undefined variable '$${name}'`);
        };
      }
      case "not":
      case "and":
      case "or":
      case "compare":
        return this.compileTest(node);
    }
  }

  compileField(parts: readonly string[]): Eval<C> {
    const root = this.fields(parts[0]!);
    if (parts.length === 1) return (ctx) => root(ctx) ?? null;
    const rest = parts.slice(1);
    return (ctx) => {
      let current: unknown = root(ctx);
      for (const part of rest) {
        if (typeof current !== "object" || current === null || Array.isArray(current) || !Object.hasOwn(current, part)) return null;
        current = (current as Record<string, unknown>)[part];
      }
      return current ?? null;
    };
  }

  compileCompare(op: CompareOp, leftNode: Node, rightNode: Node, pos: number): (ctx: C) => boolean {
    if (op === "matches") {
      if (rightNode.kind !== "literal" || typeof rightNode.value !== "string") {
        throw new ExpressionSyntaxError("the right side of 'matches' must be a string literal (a regular expression)", this.source, pos);
      }
      const test = compileRegex(rightNode.value, this.source, pos);
      const left = this.compile(leftNode);
      return (ctx) => {
        const text = left(ctx);
        if (typeof text !== "string") {
          throw new ExpressionEvalError(`'matches' needs a string on the left, got ${text === null ? "null" : typeof text}`);
        }
        return test(text);
      };
    }
    const left = this.compile(leftNode);
    const right = this.compile(rightNode);
    // Equality against a string literal is plain string equality: nothing else equals a string.
    const literal = rightNode.kind === "literal" ? rightNode.value : leftNode.kind === "literal" ? leftNode.value : undefined;
    const other = rightNode.kind === "literal" ? left : right;
    switch (op) {
      case "==":
        if (typeof literal === "string") return (ctx) => other(ctx) === literal;
        return (ctx) => valuesEqual(left(ctx), right(ctx));
      case "!=":
        if (typeof literal === "string") return (ctx) => other(ctx) !== literal;
        return (ctx) => !valuesEqual(left(ctx), right(ctx));
      case "<":
        return (ctx) => compareOrdered(left(ctx), right(ctx), op) < 0;
      case ">":
        return (ctx) => compareOrdered(left(ctx), right(ctx), op) > 0;
      case "<=":
        return (ctx) => compareOrdered(left(ctx), right(ctx), op) <= 0;
      case ">=":
        return (ctx) => compareOrdered(left(ctx), right(ctx), op) >= 0;
      case "in":
        return (ctx) => contains(right(ctx), left(ctx));
      case "not in":
        return (ctx) => !contains(right(ctx), left(ctx));
      case "contains":
        return (ctx) => contains(left(ctx), right(ctx));
      case "starts_with":
        return (ctx) => {
          const a = left(ctx);
          const b = right(ctx);
          return typeof a === "string" && typeof b === "string" && a.startsWith(b);
        };
      case "ends_with":
        return (ctx) => {
          const a = left(ctx);
          const b = right(ctx);
          return typeof a === "string" && typeof b === "string" && a.endsWith(b);
        };
    }
  }
}

/**
 * `needle in haystack` / `haystack contains needle`: list membership, or a
 * substring of a string. For `in`, any other haystack holds nothing (so
 * `not in` is true); `contains` on a list is membership too (our addition).
 */
function contains(haystack: unknown, needle: unknown): boolean {
  if (Array.isArray(haystack)) return listIncludes(haystack, needle);
  if (typeof haystack === "string" && typeof needle === "string") return haystack.includes(needle);
  return false;
}
