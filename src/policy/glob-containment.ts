/**
 * Whether one glob's names are all matched by others: L(p) ⊆ L(q1) ∪ … ∪ L(qn)
 * for Python `fnmatch` patterns. Delegation rules use it, so a delegated
 * pattern is accepted only when every action it can match is one the rule
 * allows (`report*` is not inside `report?`).
 *
 * Both sides become small automata over an alphabet cut into intervals of code
 * points that no pattern tells apart (every literal character, every class
 * bound, and the gaps between them); the covering patterns are determinized
 * on the fly and walked together with the contained one. A name that the
 * first accepts and the second does not is a witness of non-containment.
 */
import { parseGlob, type GlobToken } from "./glob-parse.ts";

/** Work allowed for one check (pairs of states × letters); beyond it the answer is "not contained". */
export const CONTAINMENT_BUDGET = 200_000;

/** One step of a pattern's automaton: a star (loops on every letter) or a set of letters. */
type Step = { readonly star: true } | { readonly star: false; readonly letters: Uint8Array };

/** Code points a well-formed text can hold: surrogates never stand alone in one. */
const SURROGATES: readonly [number, number] = [0xd800, 0xe000];
const END = 0x110000;

/**
 * True when every name `pattern` matches is matched by at least one of
 * `cover`. A pattern that matches nothing (`[z-a]`) is contained in anything.
 * Answers false, never a guess, when the check would exceed `budget`.
 */
export function globContained(pattern: string, cover: readonly string[], budget = CONTAINMENT_BUDGET): boolean {
  if (cover.includes(pattern)) return true;
  const p = parseGlob(pattern);
  if (p.some((t) => t.kind === "never")) return true;
  const qs = cover.map(parseGlob);
  if (qs.some((q) => q.length > 0 && q.every((t) => t.kind === "star"))) return true;
  const alphabet = letters([p, ...qs]);
  const pSteps = steps(p, alphabet);
  const qAutomata = qs.map((q) => steps(q, alphabet));
  // The covering patterns side by side: global position = offset + position in its pattern.
  const offsets: number[] = [];
  const qAll: (Step | undefined)[] = [];
  for (const q of qAutomata) {
    offsets.push(qAll.length);
    qAll.push(...q, undefined); // undefined: the accepting end of that pattern
  }
  const qClose = (positions: Iterable<number>): number[] => {
    const out = new Set<number>();
    for (let i of positions) {
      out.add(i);
      while (qAll[i]?.star === true) out.add(++i);
    }
    return [...out].sort((a, b) => a - b);
  };
  const qSets: number[][] = [];
  const qIds = new Map<string, number>();
  const qAccepts: boolean[] = [];
  const qId = (set: number[]): number => {
    const key = set.join(",");
    let id = qIds.get(key);
    if (id === undefined) {
      id = qSets.length;
      qIds.set(key, id);
      qSets.push(set);
      qAccepts.push(set.some((i) => qAll[i] === undefined));
    }
    return id;
  };
  const qNext = new Map<number, number>();
  const qStep = (id: number, letter: number): number => {
    const key = id * alphabet.length + letter;
    let next = qNext.get(key);
    if (next === undefined) {
      const targets: number[] = [];
      for (const i of qSets[id]!) {
        const s = qAll[i];
        if (s === undefined) continue;
        if (s.star) targets.push(i);
        else if (s.letters[letter] === 1) targets.push(i + 1);
      }
      next = qId(qClose(targets));
      qNext.set(key, next);
    }
    return next;
  };
  const pClose = (i: number): number[] => {
    const out = [i];
    while (pSteps[i]?.star === true) out.push(++i);
    return out;
  };

  const seen = new Set<number>();
  const queue: [number, number][] = [];
  const visit = (pi: number, qi: number): void => {
    const key = qi * (pSteps.length + 1) + pi;
    if (seen.has(key)) return;
    seen.add(key);
    queue.push([pi, qi]);
  };
  const start = qId(qClose(offsets));
  for (const pi of pClose(0)) visit(pi, start);
  let work = 0;
  while (queue.length > 0) {
    const [pi, qi] = queue.pop()!;
    const s = pSteps[pi];
    if (s === undefined) {
      if (!qAccepts[qi]) return false; // a name p matches and no cover does
      continue;
    }
    for (let letter = 0; letter < alphabet.length; letter++) {
      if (++work > budget) return false;
      if (!s.star && s.letters[letter] !== 1) continue;
      const next = qStep(qi, letter);
      for (const pj of pClose(s.star ? pi : pi + 1)) visit(pj, next);
    }
  }
  return true;
}

/** The alphabet: intervals [lo, hi) of code points that every token treats alike. */
function letters(patterns: readonly (readonly GlobToken[])[]): readonly (readonly [number, number])[] {
  const cuts = new Set<number>([0, END, ...SURROGATES]);
  for (const tokens of patterns) {
    for (const t of tokens) {
      if (t.kind === "literal") {
        for (const c of t.text) {
          const cp = c.codePointAt(0)!;
          cuts.add(cp).add(cp + 1);
        }
      } else if (t.kind === "class") {
        for (const [lo, hi] of t.ranges) cuts.add(lo).add(Math.min(hi + 1, END));
      }
    }
  }
  const sorted = [...cuts].filter((c) => c <= END).sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const lo = sorted[i]!;
    if (lo >= SURROGATES[0] && lo < SURROGATES[1]) continue;
    out.push([lo, sorted[i + 1]!]);
  }
  return out;
}

/** A pattern's automaton: one step per character of a literal, per `?` or class, per star run. */
function steps(tokens: readonly GlobToken[], alphabet: readonly (readonly [number, number])[]): Step[] {
  const out: Step[] = [];
  const set = (test: (cp: number) => boolean): Step => ({ star: false, letters: Uint8Array.from(alphabet, ([lo]) => (test(lo) ? 1 : 0)) });
  for (const t of tokens) {
    switch (t.kind) {
      case "star":
        out.push({ star: true });
        break;
      case "any":
        out.push(set(() => true));
        break;
      case "never":
        out.push(set(() => false));
        break;
      case "class":
        out.push(set((cp) => t.ranges.some(([lo, hi]) => cp >= lo && cp <= hi) !== t.negated));
        break;
      case "literal":
        for (const c of t.text) {
          const cp = c.codePointAt(0)!;
          out.push(set((x) => x === cp));
        }
        break;
    }
  }
  return out;
}
