import { parseGlob, type GlobToken } from "./glob-parse.ts";

export { parseGlob, type GlobToken } from "./glob-parse.ts";

/** A test of a whole string against one pattern. */
export type GlobMatcher = (name: string) => boolean;

/**
 * Compiles one pattern (Python `fnmatch` semantics) to a predicate on whole
 * strings. Common shapes get fast paths — exact text, `prefix*`, `*suffix`,
 * `prefix*suffix`, `*` — and everything else runs {@link compileSegments}'
 * matcher, whose cost is linear in the name (see there for the bound).
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
      return compileSegments(tokens);
  }
}

/** A run of tokens between two stars: each token matches a fixed number of code points. */
interface Segment {
  readonly tokens: readonly GlobToken[];
  /** Code points the segment matches. */
  readonly width: number;
  /** The segment as a regular expression without quantifiers (`gsu`), for middle segments. */
  readonly search: RegExp;
}

/** Token steps taken by the general matcher since the module loaded (read by {@link globSteps}). */
let steps = 0;

/**
 * The general matcher. The pattern is cut at its stars into segments; the
 * first must match at the start of the name, the last at its end (its width
 * in code points is fixed, so its place is known), and each middle one is
 * placed at its leftmost match after the previous one — leftmost placement
 * leaves the most room for the rest, so no choice is ever revisited.
 * A middle segment is found by the engine's regular-expression search for
 * the segment as a fixed sequence of atoms (no quantifier, so no
 * backtracking beyond the segment): native code trying each start place
 * once. The places tried for successive segments do not overlap, so a match
 * costs at most len(name) × (code points of the longest segment) native
 * comparisons, and a few token steps for the first and last segments; with
 * `limits.max_pattern_length` that is bounded for every caller-supplied
 * pattern.
 */
function compileSegments(tokens: readonly GlobToken[]): GlobMatcher {
  if (tokens.some((t) => t.kind === "never")) return () => false;
  const segments: Segment[] = [];
  let run: GlobToken[] = [];
  const close = (): void => {
    const width = run.reduce((w, t) => w + (t.kind === "literal" ? codePoints(t.text) : 1), 0);
    segments.push({ tokens: run, width, search: new RegExp(run.map(regexAtom).join(""), "gsu") });
    run = [];
  };
  for (const t of tokens) {
    if (t.kind === "star") close();
    else run.push(t);
  }
  close();
  const first = segments[0]!;
  if (segments.length === 1) return (name) => verify(first, name, 0, name.length) === name.length;
  const last = segments[segments.length - 1]!;
  const middle = segments.slice(1, -1);
  return (name) => {
    const n = name.length;
    let at = verify(first, name, 0, n);
    if (at < 0) return false;
    const tail = back(name, n, last.width, at);
    if (tail < 0 || verify(last, name, tail, n) !== n) return false;
    for (const segment of middle) {
      at = find(segment, name, at, tail);
      if (at < 0) return false;
    }
    return true;
  };
}

/** Where `segment` matching at `i` ends (not beyond `end`), or -1. */
function verify(segment: Segment, s: string, i: number, end: number): number {
  for (const t of segment.tokens) {
    steps++;
    if (t.kind === "literal") {
      if (i + t.text.length > end || !s.startsWith(t.text, i)) return -1;
      i += t.text.length;
      continue;
    }
    if (i >= end) return -1;
    const cp = s.codePointAt(i)!;
    if (t.kind === "class" && !inClass(t, cp)) return -1;
    i += cp > 0xffff ? 2 : 1;
  }
  return i;
}

/**
 * Where the leftmost match of `segment` in `s[from, end)` ends, or -1. A
 * later match ends later (the segment's width in code points is fixed), so
 * when the leftmost ends beyond `end` every other does too.
 */
function find(segment: Segment, s: string, from: number, end: number): number {
  steps++;
  if (segment.tokens.length === 0) return from;
  const re = segment.search;
  re.lastIndex = from;
  const m = re.exec(s);
  if (m === null) return -1;
  const e = m.index + m[0].length;
  return e <= end ? e : -1;
}

/** One token as a regular-expression atom (`u` and `s` flags: `.` is any code point). */
function regexAtom(t: GlobToken): string {
  switch (t.kind) {
    case "literal":
      return t.text.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
    case "any":
      return ".";
    case "class":
      return `[${t.negated ? "^" : ""}${t.ranges.map(([lo, hi]) => (lo === hi ? codeEscape(lo) : `${codeEscape(lo)}-${codeEscape(hi)}`)).join("")}]`;
    default:
      return "[]"; // matches nothing; patterns holding such a token never reach a search
  }
}

function codeEscape(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

/** The index `count` code points before `j`, or -1 when that is before `floor`. */
function back(s: string, j: number, count: number, floor: number): number {
  for (let k = 0; k < count; k++) {
    steps++;
    if (j <= floor) return -1;
    const c = s.charCodeAt(j - 1);
    j -= c >= 0xdc00 && c <= 0xdfff && j - 2 >= floor && isHigh(s.charCodeAt(j - 2)) ? 2 : 1;
  }
  return j;
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function inClass(t: Extract<GlobToken, { kind: "class" }>, cp: number): boolean {
  let hit = false;
  for (const [lo, hi] of t.ranges) {
    if (cp >= lo && cp <= hi) {
      hit = true;
      break;
    }
  }
  return hit !== t.negated;
}

function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i += width(text, i)) n++;
  return n;
}

/** Length in UTF-16 units of the code point at `i` (Python's `?` is one code point). */
function width(s: string, i: number): number {
  return s.codePointAt(i)! > 0xffff ? 2 : 1;
}

/**
 * Runs the general matcher (never a fast path) and counts its token steps:
 * the measure of matching work that tests hold to the linear bound.
 */
export function globSteps(pattern: string, name: string): { readonly matched: boolean; readonly steps: number } {
  const matcher = compileSegments(parseGlob(pattern));
  const before = steps;
  const matched = matcher(name);
  return { matched, steps: steps - before };
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
