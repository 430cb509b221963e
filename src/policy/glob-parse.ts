/**
 * Parsing of Python `fnmatch` patterns into tokens, following CPython 3.11's
 * `fnmatch.translate` and the regular-expression class syntax it targets, so
 * that every pattern means exactly what it meant to the original library.
 */

/** One token of a glob. Exposed so another matcher (the Redis Lua script) can run the same program. */
export type GlobToken =
  | { readonly kind: "literal"; readonly text: string }
  | { readonly kind: "any" }
  | { readonly kind: "star" }
  | { readonly kind: "class"; readonly negated: boolean; readonly ranges: readonly (readonly [number, number])[] }
  | { readonly kind: "never" };

const STAR: GlobToken = Object.freeze({ kind: "star" });
const ANY: GlobToken = Object.freeze({ kind: "any" });
const NEVER: GlobToken = Object.freeze({ kind: "never" });

/**
 * Parses a pattern. `*` (runs collapsed), `?`, `[seq]` and `[!seq]` are
 * special; everything else — backslashes included — is literal; a `[`
 * without a closing `]` is literal. Adjacent literal characters merge.
 */
export function parseGlob(pattern: string): readonly GlobToken[] {
  const p = Array.from(pattern); // code points, as Python indexes strings
  const n = p.length;
  const out: GlobToken[] = [];
  let literal = "";
  const flush = (): void => {
    if (literal !== "") out.push({ kind: "literal", text: literal });
    literal = "";
  };
  let i = 0;
  while (i < n) {
    const c = p[i++]!;
    if (c === "*") {
      flush();
      if (out[out.length - 1] !== STAR) out.push(STAR);
    } else if (c === "?") {
      flush();
      out.push(ANY);
    } else if (c === "[") {
      let j = i;
      if (j < n && p[j] === "!") j++;
      if (j < n && p[j] === "]") j++;
      while (j < n && p[j] !== "]") j++;
      if (j >= n) {
        literal += "[";
        continue;
      }
      flush();
      out.push(classToken(p, i, j));
      i = j + 1;
    } else {
      literal += c;
    }
  }
  flush();
  return Object.freeze(out);
}

/** The token for the class `p[i..j)` (between `[` and `]`). */
function classToken(p: readonly string[], start: number, j: number): GlobToken {
  // Build the class body the way translate() does (a list of regex atoms,
  // each one code point, escapes kept as "\\" + char), then read it back with
  // the regex class rules.
  let body: string[];
  const stuff = p.slice(start, j);
  if (!stuff.includes("-")) {
    body = stuff.flatMap((c) => (c === "\\" ? ["\\", "\\"] : [c]));
  } else {
    const chunks: string[][] = [];
    let i = start;
    let k = p[i] === "!" ? i + 2 : i + 1;
    for (;;) {
      k = indexOf(p, "-", k, j);
      if (k < 0) break;
      chunks.push(p.slice(i, k));
      i = k + 1;
      k = k + 3;
    }
    const last = p.slice(i, j);
    if (last.length > 0) chunks.push(last);
    else chunks[chunks.length - 1]!.push("-");
    // Drop empty ranges such as z-a (they would be invalid in a regex).
    for (let m = chunks.length - 1; m > 0; m--) {
      const prev = chunks[m - 1]!;
      const cur = chunks[m]!;
      if (prev.length === 0 || cur.length === 0) return NEVER; // Python fails here (IndexError); match nothing.
      if (compareCodePoints(prev[prev.length - 1]!, cur[0]!) > 0) {
        chunks[m - 1] = [...prev.slice(0, -1), ...cur.slice(1)];
        chunks.splice(m, 1);
      }
    }
    body = [];
    chunks.forEach((chunk, idx) => {
      if (idx > 0) body.push("-");
      for (const c of chunk) {
        if (c === "\\" || c === "-") body.push("\\", c);
        else body.push(c);
      }
    });
  }
  body = body.flatMap((c) => (c === "&" || c === "~" || c === "|" ? ["\\", c] : [c]));
  if (body.length === 0) return NEVER;
  if (body.length === 1 && body[0] === "!") return ANY;
  let negated = false;
  if (body[0] === "!") {
    negated = true;
    body = body.slice(1);
  } else if (body[0] === "^" || body[0] === "[") {
    body = ["\\", ...body];
  }
  const ranges = readClassBody(body);
  if (ranges === undefined) return NEVER; // an invalid regex class: Python raises; match nothing
  return { kind: "class", negated, ranges: Object.freeze(ranges.map((r) => Object.freeze(r))) };
}

/** Regex class body → inclusive code point ranges; undefined for a bad range. */
function readClassBody(body: readonly string[]): [number, number][] | undefined {
  const ranges: [number, number][] = [];
  let i = 0;
  const item = (): number => {
    let c = body[i++]!;
    if (c === "\\") c = body[i++] ?? "\\";
    return c.codePointAt(0)!;
  };
  while (i < body.length) {
    const lo = item();
    if (i < body.length && body[i] === "-") {
      i++;
      if (i >= body.length) {
        ranges.push([lo, lo], [45, 45]); // a trailing '-' is literal
        break;
      }
      const hi = item();
      if (hi < lo) return undefined;
      ranges.push([lo, hi]);
    } else {
      ranges.push([lo, lo]);
    }
  }
  return ranges;
}

function indexOf(p: readonly string[], c: string, from: number, to: number): number {
  for (let k = from; k < to; k++) if (p[k] === c) return k;
  return -1;
}

function compareCodePoints(a: string, b: string): number {
  return a.codePointAt(0)! - b.codePointAt(0)!;
}
