import { expect } from "chai";
import fc from "fast-check";
import { compileGlob } from "../../src/policy/fnmatch.ts";
import { globContained } from "../../src/policy/glob-containment.ts";
import { fuzzRuns, fuzzSeedOr } from "../support/fuzz.ts";

const RUNS = fuzzRuns(400);

/** Every text over `chars` of up to `max` characters. */
function texts(chars: readonly string[], max: number): string[] {
  const out = [""];
  let layer = [""];
  for (let n = 1; n <= max; n++) {
    layer = layer.flatMap((t) => chars.map((c) => t + c));
    out.push(...layer);
  }
  return out;
}

describe("glob containment", () => {
  const cases: [string, string[], boolean][] = [
    ["report*", ["report?"], false],
    ["report?", ["report?"], true],
    ["report1", ["report?"], true],
    ["invoice:*", ["invoice:[!0-9]"], false],
    ["invoice:[a-f]", ["invoice:[!0-9]"], true],
    ["invoice:[!a-f]", ["invoice:[!0-9]"], false],
    ["pr:12*", ["pr:*"], true],
    ["pr:?", ["pr:*"], true],
    ["pr:[0-9]", ["pr:*"], true],
    ["pr*", ["pr:*"], false],
    ["*", ["*"], true],
    ["report-annual-*-[!x]?", ["*"], true],
    ["pr:[ab]", ["pr:a", "pr:b"], true],
    ["pr:[abc]", ["pr:a", "pr:b"], false],
    ["*", ["read"], false],
    ["a*b*c", ["a*c"], true],
    ["a*c", ["a*b*c"], false],
    ["?*", ["[!a]*", "a*"], true],
    ["*", ["[!a]*", "a*"], false],
    ["[z-a]", ["read"], true],
    ["🙂*", ["?*"], true],
    ["?", ["[!🙂]"], false],
    ["[\ud7ff-\ue000]", ["[\ud7ff\ue000]"], true],
  ];
  for (const [p, cover, expected] of cases) {
    it(`${JSON.stringify(p)} ${expected ? "is" : "is not"} inside ${JSON.stringify(cover)}`, () => {
      expect(globContained(p, cover)).to.equal(expected);
    });
  }

  it("answers not contained, never a guess, when the check would exceed its budget", () => {
    const hard = "*a" + "?".repeat(8);
    expect(globContained(hard + "b", [hard + "?"])).to.equal(true);
    expect(globContained(hard + "b", [hard + "?"], 1000)).to.equal(false);
  });

  // Checked against brute force: every text of up to 6 characters over a, b, c
  // (which patterns name) and d (which no pattern names: "any other character").
  it(`agrees with brute force over short texts (${RUNS} runs)`, () => {
    const all = texts(["a", "b", "c", "d"], 6);
    const piece = fc.constantFrom("a", "b", "c", "?", "*", "[ab]", "[!a]", "[a-c]", "[!bc]");
    const pattern = fc.array(piece, { maxLength: 4 }).map((ps) => ps.join(""));
    fc.assert(
      fc.property(pattern, fc.array(pattern, { minLength: 1, maxLength: 2 }), (p, cover) => {
        const inP = compileGlob(p);
        const inCover = cover.map(compileGlob);
        const witness = all.find((t) => inP(t) && !inCover.some((q) => q(t)));
        expect(globContained(p, cover), `${p} in ${cover.join(", ")}; witness ${JSON.stringify(witness)}`).to.equal(witness === undefined);
      }),
      { numRuns: RUNS, seed: fuzzSeedOr(11) },
    );
  });
});
