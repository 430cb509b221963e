import { parseGlob, type GlobToken } from "./glob-parse.ts";

export { parseGlob, type GlobToken } from "./glob-parse.ts";

/** A test of a whole string against one pattern. */
export type GlobMatcher = (name: string) => boolean;

/**
 * Compiles one pattern (Python `fnmatch` semantics) to a predicate on whole
 * strings. Common shapes get fast paths — exact text, `prefix*`, `*suffix`,
 * `prefix*suffix`, `*` — and everything else runs a matcher that is linear in
 * the name per pattern token (never exponential, whatever the stars).
 */
export function compileGlob(pattern: string): GlobMatcher {
  const tokens = parseGlob(pattern);
  const shape = tokens.map((t) => (t.kind === "literal" ? "L" : t.kind === "star" ? "S" : "X")).join("");
  const lit = (i: number): string => (tokens[i] as { text: string }).text;
  switch (shape) {
    case "":
      return (name) => name === "";
    case "L": {
      const text = lit(0);
      return (name) => name === text;
    }
    case "S":
      return () => true;
    case "LS": {
      const prefix = lit(0);
      return (name) => name.startsWith(prefix);
    }
    case "SL": {
      const suffix = lit(1);
      return (name) => name.endsWith(suffix);
    }
    case "LSL": {
      const prefix = lit(0);
      const suffix = lit(2);
      const min = prefix.length + suffix.length;
      return (name) => name.length >= min && name.startsWith(prefix) && name.endsWith(suffix);
    }
    default:
      return (name) => matchTokens(tokens, name);
  }
}

/**
 * Greedy matching with backtracking to the most recent star. Every non-star
 * token matches text of a fixed length, which makes this exact and bounds it
 * by O(len(name) × tokens).
 */
function matchTokens(tokens: readonly GlobToken[], s: string): boolean {
  const m = tokens.length;
  const n = s.length;
  let ti = 0;
  let si = 0;
  let starTi = -1;
  let starSi = 0;
  for (;;) {
    const t = tokens[ti];
    if (t !== undefined && t.kind === "star") {
      starTi = ti++;
      starSi = si;
      continue;
    }
    const used = t === undefined ? -1 : step(t, s, si, n);
    if (used >= 0) {
      si += used;
      ti++;
      continue;
    }
    if (t === undefined && si >= n) return true;
    if (starTi < 0 || starSi >= n) return false;
    starSi += width(s, starSi);
    si = starSi;
    ti = starTi + 1;
  }
}

/** UTF-16 units token `t` consumes at `i`, or -1. */
function step(t: GlobToken, s: string, i: number, n: number): number {
  switch (t.kind) {
    case "literal":
      return s.startsWith(t.text, i) ? t.text.length : -1;
    case "any":
      return i < n ? width(s, i) : -1;
    case "class": {
      if (i >= n) return -1;
      const cp = s.codePointAt(i)!;
      let hit = false;
      for (const [lo, hi] of t.ranges) {
        if (cp >= lo && cp <= hi) {
          hit = true;
          break;
        }
      }
      return hit !== t.negated ? (cp > 0xffff ? 2 : 1) : -1;
    }
    default:
      return -1;
  }
}

/** Length in UTF-16 units of the code point at `i` (Python's `?` is one code point). */
function width(s: string, i: number): number {
  return s.codePointAt(i)! > 0xffff ? 2 : 1;
}

const cache = new Map<string, GlobMatcher>();
const CACHE_LIMIT = 4096;

/** `fnmatch(name, pattern)`: compiles (with a small bounded cache) and tests. */
export function fnmatch(name: string, pattern: string): boolean {
  let matcher = cache.get(pattern);
  if (matcher === undefined) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    matcher = compileGlob(pattern);
    cache.set(pattern, matcher);
  }
  return matcher(name);
}

/** A compiled list of patterns: `matches(name)` is true when any pattern matches. */
export interface PatternSet {
  readonly patterns: readonly string[];
  readonly size: number;
  matches(name: string): boolean;
}

/**
 * Compiles a list of patterns for repeated tests: exact names in one hash
 * set, `prefix*` and `*suffix` as plain string checks, the rest compiled.
 */
export function compilePatternSet(patterns: Iterable<string>): PatternSet {
  const unique = [...new Set(patterns)];
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const suffixes: string[] = [];
  const others: GlobMatcher[] = [];
  let any = false;
  for (const pattern of unique) {
    const tokens = parseGlob(pattern);
    const [first, second] = tokens;
    if (first === undefined) exact.add("");
    else if (tokens.length === 1 && first.kind === "literal") exact.add(first.text);
    else if (tokens.length === 1 && first.kind === "star") any = true;
    else if (tokens.length === 2 && first.kind === "literal" && second?.kind === "star") prefixes.push(first.text);
    else if (tokens.length === 2 && first.kind === "star" && second?.kind === "literal") suffixes.push(second.text);
    else others.push(compileGlob(pattern));
  }
  const frozen = Object.freeze(unique);
  if (any) return { patterns: frozen, size: unique.length, matches: () => true };
  return {
    patterns: frozen,
    size: unique.length,
    matches(name: string): boolean {
      if (exact.has(name)) return true;
      for (let i = 0; i < prefixes.length; i++) if (name.startsWith(prefixes[i]!)) return true;
      for (let i = 0; i < suffixes.length; i++) if (name.endsWith(suffixes[i]!)) return true;
      for (let i = 0; i < others.length; i++) if (others[i]!(name)) return true;
      return false;
    },
  };
}
