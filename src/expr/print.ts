import type { Node } from "./ast.ts";

/** An expression tree back as text (canonical spacing, double quotes where the text allows). */
export function printExpression(node: Node): string {
  switch (node.kind) {
    case "literal":
      return literal(node.value);
    case "list":
      return `[${node.items.map(printExpression).join(", ")}]`;
    case "field":
      return node.parts.join(".");
    case "variable":
      return `$${node.name}`;
    case "not":
      return `not ${wrap(node.operand)}`;
    case "and":
    case "or":
      return node.operands.map((n) => (n.kind === "and" || n.kind === "or" ? `(${printExpression(n)})` : printExpression(n))).join(` ${node.kind} `);
    case "compare":
      return `${wrap(node.left)} ${node.op} ${wrap(node.right)}`;
  }
}

function wrap(node: Node): string {
  return node.kind === "and" || node.kind === "or" || node.kind === "compare" ? `(${printExpression(node)})` : printExpression(node);
}

function literal(v: null | boolean | number | string): string {
  if (v === null) return "null";
  if (typeof v === "string") return v.includes('"') ? `'${v}'` : `"${v}"`;
  return String(v);
}
