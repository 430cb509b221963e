import type { CompareOp, Node } from "./ast.ts";
import { ExpressionSyntaxError } from "./errors.ts";
import { tokenize, type Token, type TokenKind } from "./lexer.ts";
import { suggestionFor } from "./suggest.ts";

const COMPARE_OPS: ReadonlySet<TokenKind> = new Set<TokenKind>([
  "==",
  "!=",
  ">",
  "<",
  ">=",
  "<=",
  "matches",
  "contains",
  "starts_with",
  "ends_with",
  "in",
]);

/**
 * Parses a source into a tree. Grammar (lowest precedence first):
 * `or` < `and` < `not` < one optional comparison; primaries are literals,
 * `$variables`, dotted fields, `( … )` and `[ … ]`. `maxDepth` bounds the
 * nesting of parentheses, lists and `not`, so no input can exhaust the stack.
 */
export function parse(source: string, maxDepth: number): Node {
  return new Parser(source, tokenize(source), maxDepth).parseAll();
}

class Parser {
  #i = 0;
  #depth = 0;

  constructor(
    readonly source: string,
    readonly tokens: readonly Token[],
    readonly maxDepth: number,
  ) {}

  parseAll(): Node {
    const node = this.#or();
    const t = this.#peek();
    if (t.kind !== "eof") throw this.#unexpected(t);
    return node;
  }

  #peek(offset = 0): Token {
    return this.tokens[Math.min(this.#i + offset, this.tokens.length - 1)]!;
  }

  #next(): Token {
    return this.tokens[this.#i++]!;
  }

  #expect(kind: TokenKind, what: string): Token {
    const t = this.#peek();
    if (t.kind !== kind) {
      throw new ExpressionSyntaxError(`expected ${what}, got ${describe(t)}`, this.source, t.pos);
    }
    return this.#next();
  }

  #unexpected(t: Token): ExpressionSyntaxError {
    return new ExpressionSyntaxError(t.kind === "eof" ? "unexpected end of expression" : `unexpected ${describe(t)}${t.kind === "ident" ? suggestionFor(t.text) : ""}`, this.source, t.pos);
  }

  #enter(t: Token): void {
    if (++this.#depth > this.maxDepth) {
      throw new ExpressionSyntaxError(`expression nesting exceeds the limit of ${this.maxDepth} levels`, this.source, t.pos);
    }
  }

  #or(): Node {
    const first = this.#and();
    if (this.#peek().kind !== "or") return first;
    const operands = [first];
    while (this.#peek().kind === "or") {
      this.#next();
      operands.push(this.#and());
    }
    return { kind: "or", operands };
  }

  #and(): Node {
    const first = this.#not();
    if (this.#peek().kind !== "and") return first;
    const operands = [first];
    while (this.#peek().kind === "and") {
      this.#next();
      operands.push(this.#not());
    }
    return { kind: "and", operands };
  }

  #not(): Node {
    const t = this.#peek();
    if (t.kind !== "not") return this.#comparison();
    // `not in` cannot start an expression: it needs a left operand.
    if (this.#peek(1).kind === "in") throw this.#unexpected(t);
    this.#next();
    this.#enter(t);
    const operand = this.#not();
    this.#depth--;
    return { kind: "not", operand };
  }

  #comparison(): Node {
    const left = this.#primary();
    const t = this.#peek();
    let op: CompareOp | undefined;
    if (COMPARE_OPS.has(t.kind)) {
      this.#next();
      op = t.kind as CompareOp;
    } else if (t.kind === "not" && this.#peek(1).kind === "in") {
      this.#next();
      this.#next();
      op = "not in";
    }
    if (op === undefined) return left;
    const right = this.#primary();
    return { kind: "compare", op, left, right, pos: t.pos };
  }

  #primary(): Node {
    const t = this.#peek();
    switch (t.kind) {
      case "string":
        this.#next();
        return { kind: "literal", value: t.text };
      case "number":
        this.#next();
        return { kind: "literal", value: t.value };
      case "bool":
        this.#next();
        return { kind: "literal", value: t.value === 1 };
      case "null":
        this.#next();
        return { kind: "literal", value: null };
      case "$": {
        this.#next();
        const name = this.#expect("ident", "a variable name after '$'");
        return { kind: "variable", name: name.text };
      }
      case "ident": {
        const parts = [this.#next().text];
        while (this.#peek().kind === ".") {
          this.#next();
          parts.push(this.#expect("ident", "a field name after '.'").text);
        }
        return { kind: "field", parts };
      }
      case "(": {
        this.#next();
        this.#enter(t);
        const inner = this.#or();
        this.#expect(")", "')'");
        this.#depth--;
        return inner;
      }
      case "[": {
        this.#next();
        this.#enter(t);
        const items: Node[] = [];
        if (this.#peek().kind !== "]") {
          items.push(this.#or());
          while (this.#peek().kind === ",") {
            this.#next();
            items.push(this.#or());
          }
        }
        this.#expect("]", "',' or ']'");
        this.#depth--;
        return { kind: "list", items };
      }
      default:
        throw this.#unexpected(t);
    }
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case "eof":
      return "end of expression";
    case "string":
      return `string '${t.text}'`;
    case "number":
    case "ident":
      return `'${t.text}'`;
    default:
      return `'${t.text}'`;
  }
}
