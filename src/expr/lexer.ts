import { ExpressionSyntaxError } from "./errors.ts";
import { suggestionFor } from "./suggest.ts";

/** Token kinds. Keyword kinds are the lower-case keyword. */
export type TokenKind =
  | "string"
  | "number"
  | "bool"
  | "null"
  | "ident"
  | "$"
  | "."
  | "("
  | ")"
  | "["
  | "]"
  | ","
  | "=="
  | "!="
  | ">="
  | "<="
  | ">"
  | "<"
  | "and"
  | "or"
  | "not"
  | "in"
  | "matches"
  | "contains"
  | "starts_with"
  | "ends_with"
  | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** Source text (strings: without quotes; keywords: lower-case). */
  readonly text: string;
  /** Numbers: the value; booleans: 1 or 0. */
  readonly value: number;
  readonly pos: number;
}

/** Keywords are matched case-insensitively. */
const KEYWORDS: ReadonlyMap<string, TokenKind> = new Map<string, TokenKind>([
  ["and", "and"],
  ["or", "or"],
  ["not", "not"],
  ["in", "in"],
  ["matches", "matches"],
  ["contains", "contains"],
  ["starts_with", "starts_with"],
  ["ends_with", "ends_with"],
  ["true", "bool"],
  ["false", "bool"],
  ["null", "null"],
  ["none", "null"],
]);

// Python's `\s` for str patterns (note \x1c-\x1f and \x85; \ufeff is not whitespace).
const WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/y;
// Python's `\d` is any Unicode decimal digit.
const NUMBER = /\p{Nd}+(?:\.\p{Nd}+)?/uy;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const DIGIT = /\p{Nd}/u;
const OPERATORS = ["==", "!=", ">=", "<=", ">", "<", "$", ".", "(", ")", "[", "]", ","] as const;

/** Splits a source into tokens, ending with `eof`. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < source.length) {
    WHITESPACE.lastIndex = pos;
    if (WHITESPACE.test(source)) {
      pos = WHITESPACE.lastIndex;
      continue;
    }
    const c = source[pos]!;
    if (c === '"' || c === "'") {
      const end = source.indexOf(c, pos + 1);
      if (end < 0) throw new ExpressionSyntaxError(`unterminated string starting with ${c}`, source, pos);
      tokens.push({ kind: "string", text: source.slice(pos + 1, end), value: 0, pos });
      pos = end + 1;
      continue;
    }
    NUMBER.lastIndex = pos;
    const num = NUMBER.exec(source);
    if (num !== null) {
      tokens.push({ kind: "number", text: num[0], value: numberValue(num[0]), pos });
      pos = NUMBER.lastIndex;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, pos));
    if (op !== undefined) {
      tokens.push({ kind: op, text: op, value: 0, pos });
      pos += op.length;
      continue;
    }
    IDENT.lastIndex = pos;
    const ident = IDENT.exec(source);
    if (ident !== null) {
      const lower = ident[0].toLowerCase();
      const keyword = KEYWORDS.get(lower);
      if (keyword === undefined) tokens.push({ kind: "ident", text: ident[0], value: 0, pos });
      else tokens.push({ kind: keyword, text: lower, value: lower === "true" ? 1 : 0, pos });
      pos = IDENT.lastIndex;
      continue;
    }
    const bad = String.fromCodePoint(source.codePointAt(pos)!);
    const run = /^[&|!=]+/.exec(source.slice(pos))?.[0] ?? bad;
    throw new ExpressionSyntaxError(`unexpected character '${bad}'${suggestionFor(run)}`, source, pos);
  }
  tokens.push({ kind: "eof", text: "", value: 0, pos });
  return tokens;
}

/** The value of a number token whose digits may be any Unicode decimal digits. */
function numberValue(text: string): number {
  if (/^[0-9.]+$/.test(text)) return Number(text);
  let ascii = "";
  for (const ch of text) ascii += ch === "." ? "." : String(digitValue(ch.codePointAt(0)!));
  return Number(ascii);
}

/** Decimal digits come in runs of ten code points, 0 to 9. */
function digitValue(cp: number): number {
  let start = cp;
  while (start > 0 && DIGIT.test(String.fromCodePoint(start - 1))) start--;
  return (cp - start) % 10;
}
