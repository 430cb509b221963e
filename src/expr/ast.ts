/** The expression syntax tree. `and` / `or` chains are n-ary (flattened). */
export type Node =
  | { readonly kind: "literal"; readonly value: null | boolean | number | string }
  | { readonly kind: "list"; readonly items: readonly Node[] }
  | { readonly kind: "field"; readonly parts: readonly string[] }
  | { readonly kind: "variable"; readonly name: string }
  | { readonly kind: "not"; readonly operand: Node }
  | { readonly kind: "and" | "or"; readonly operands: readonly Node[] }
  | { readonly kind: "compare"; readonly op: CompareOp; readonly left: Node; readonly right: Node; readonly pos: number };

export type CompareOp =
  | "=="
  | "!="
  | "<"
  | ">"
  | "<="
  | ">="
  | "in"
  | "not in"
  | "contains"
  | "starts_with"
  | "ends_with"
  | "matches";
