import type { Node } from "./ast.ts";

interface Analysis {
  /** The field is one of these whenever the node is truthy or throws; undefined: unknown. */
  readonly values: ReadonlySet<string> | undefined;
  /** Whether evaluating the node can throw. */
  readonly mayThrow: boolean;
}

const UNKNOWN_SAFE: Analysis = { values: undefined, mayThrow: false };
const UNKNOWN_THROWING: Analysis = { values: undefined, mayThrow: true };

/**
 * Derives the values a field must hold for an expression to be truthy or to
 * throw (a throwing condition counts as matched, so it must be covered too).
 * Used to index approval policies by action; when in doubt it answers
 * "unknown", which only costs an evaluation, never a missed policy.
 */
export function requiredValues(ast: Node, field: string, variables: ReadonlyMap<string, unknown>): ReadonlySet<string> | undefined {
  return analyse(ast, field, variables, false).values;
}

/**
 * Like {@link requiredValues}, for prefixes: whenever the expression is truthy
 * or throws, the field starts with one of the returned strings. Equality and
 * list membership count too (a value is a prefix of itself).
 */
export function requiredPrefixes(ast: Node, field: string, variables: ReadonlyMap<string, unknown>): ReadonlySet<string> | undefined {
  return analyse(ast, field, variables, true).values;
}

function analyse(node: Node, field: string, variables: ReadonlyMap<string, unknown>, prefixes: boolean): Analysis {
  switch (node.kind) {
    case "literal":
    case "field":
      return UNKNOWN_SAFE;
    case "variable":
      return variables.has(node.name) ? UNKNOWN_SAFE : UNKNOWN_THROWING;
    case "list":
      return node.items.some((n) => analyse(n, field, variables, prefixes).mayThrow) ? UNKNOWN_THROWING : UNKNOWN_SAFE;
    case "not":
      return analyse(node.operand, field, variables, prefixes).mayThrow ? UNKNOWN_THROWING : UNKNOWN_SAFE;
    case "or": {
      const parts = node.operands.map((n) => analyse(n, field, variables, prefixes));
      const mayThrow = parts.some((p) => p.mayThrow);
      if (parts.some((p) => p.values === undefined)) return { values: undefined, mayThrow };
      const union = new Set<string>();
      for (const p of parts) for (const v of p.values!) union.add(v);
      return { values: union, mayThrow };
    }
    case "and": {
      // Truthy-or-throwing means: some operand threw (or was the last) and all
      // before it were truthy. So every operand up to the first that may throw
      // was truthy-or-threw: intersect their sets and stop after that operand.
      const parts = node.operands.map((n) => analyse(n, field, variables, prefixes));
      let values: Set<string> | undefined;
      for (const p of parts) {
        if (p.values !== undefined) values = values === undefined ? new Set(p.values) : intersect(values, p.values);
        if (p.mayThrow) break;
      }
      return { values, mayThrow: parts.some((p) => p.mayThrow) };
    }
    case "compare": {
      const sides = [analyse(node.left, field, variables, prefixes), analyse(node.right, field, variables, prefixes)];
      const sidesThrow = sides.some((s) => s.mayThrow);
      const ordering = node.op === "<" || node.op === ">" || node.op === "<=" || node.op === ">=" || node.op === "matches";
      const mayThrow = sidesThrow || ordering;
      if (mayThrow) return { values: undefined, mayThrow };
      const isField = (n: Node): boolean => n.kind === "field" && n.parts.length === 1 && n.parts[0] === field;
      const stringLiteral = (n: Node): string | undefined => (n.kind === "literal" && typeof n.value === "string" ? n.value : undefined);
      if (node.op === "==") {
        if (isField(node.left) && stringLiteral(node.right) !== undefined) return { values: new Set([stringLiteral(node.right)!]), mayThrow };
        if (isField(node.right) && stringLiteral(node.left) !== undefined) return { values: new Set([stringLiteral(node.left)!]), mayThrow };
      }
      if (prefixes && node.op === "starts_with" && isField(node.left) && stringLiteral(node.right) !== undefined) {
        return { values: new Set([stringLiteral(node.right)!]), mayThrow };
      }
      if (node.op === "in" && isField(node.left) && node.right.kind === "list") {
        const items = node.right.items.map(stringLiteral);
        if (items.every((v) => v !== undefined)) return { values: new Set(items as string[]), mayThrow };
      }
      return { values: undefined, mayThrow };
    }
  }
}

function intersect(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const v of a) if (b.has(v)) out.add(v);
  return out;
}
