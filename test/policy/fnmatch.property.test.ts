import { expect } from "chai";
import fc from "fast-check";
import { compileGlob, globSteps, parseGlob, type GlobToken } from "../../src/policy/fnmatch.ts";
import { fuzzRuns, fuzzSeedOr } from "../support/fuzz.ts";

const RUNS = fuzzRuns(500);

/**
 * A deliberately plain reference: recursion over code points with memoisation,
 * interpreting the tokens one character at a time (a star tries every split).
 */
function reference(tokens: readonly GlobToken[], name: string): boolean {
  const s = Array.from(name);
  const expanded: GlobToken[] = tokens.flatMap((t): GlobToken[] => (t.kind === "literal" ? Array.from(t.text, (c) => ({ kind: "literal" as const, text: c })) : [t]));
  const memo = new Map<string, boolean>();
  const go = (ti: number, si: number): boolean => {
    const key = `${ti},${si}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let r: boolean;
    const t = expanded[ti];
    if (t === undefined) r = si === s.length;
    else if (t.kind === "star") r = go(ti + 1, si) || (si < s.length && go(ti, si + 1));
    else if (si >= s.length) r = false;
    else if (t.kind === "literal") r = t.text === s[si] && go(ti + 1, si + 1);
    else if (t.kind === "any") r = go(ti + 1, si + 1);
    else if (t.kind === "class") {
      const cp = s[si]!.codePointAt(0)!;
      const inside = t.ranges.some(([lo, hi]) => cp >= lo && cp <= hi);
      r = inside !== t.negated && go(ti + 1, si + 1);
    } else r = false;
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

describe("fnmatch (property)", () => {
  const alphabet = fc.constantFrom("a", "b", "z", ":", "-", "!", "^", "[", "]", "*", "?", "\\", "🙂", "\n");
  const text = (max: number) => fc.array(alphabet, { maxLength: max }).map((cs) => cs.join(""));

  it(`matches a plain reference matcher on random patterns (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(text(8), text(10), (pattern, name) => {
        expect(compileGlob(pattern)(name)).to.equal(reference(parseGlob(pattern), name));
      }),
      { numRuns: RUNS, seed: 42 },
    );
  });

  // The general (segment) matcher on its own, with multi-star patterns and
  // names of several code point sizes, against the plain reference; and its
  // work within len(name) × (tokens of a segment) steps.
  it(`runs the segment matcher exactly and within its step bound (${RUNS} runs)`, () => {
    const piece = fc.constantFrom("a", "b", "ab", "é", "🙂", "?", "*", "[ab]", "[!a]", "[a-b]", ":");
    const char = fc.constantFrom("a", "b", "é", "🙂", ":", "c");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 10 }), fc.array(char, { maxLength: 40 }), (pieces, chars) => {
        const pattern = pieces.join("");
        const name = chars.join("");
        const tokens = parseGlob(pattern);
        const { matched, steps } = globSteps(pattern, name);
        expect(matched).to.equal(reference(tokens, name));
        expect(steps).to.be.at.most(2 * (name.length + tokens.length + 1) * (tokens.length + 1));
      }),
      { numRuns: RUNS, seed: fuzzSeedOr(43) },
    );
  });
});
