import { expect } from "chai";
import { readFileSync } from "node:fs";
import { compileGlob, compilePatternSet, fnmatch, globSteps, parseGlob } from "../../src/policy/fnmatch.ts";

interface VectorFile {
  python: string;
  vectors: [string, string, boolean][];
}

const file = JSON.parse(readFileSync("test/fixtures/fnmatch-vectors.json", "utf8")) as VectorFile;
/** Vectors for the segment matcher, shared with the Redis store's Lua matcher (test/state/redis.test.ts). */
const globFile = JSON.parse(readFileSync("test/fixtures/glob-vectors.json", "utf8")) as VectorFile;

describe("fnmatch", () => {
  it(`agrees with Python ${file.python} fnmatch on ${file.vectors.length} recorded vectors`, () => {
    const wrong: string[] = [];
    for (const [pattern, name, expected] of file.vectors) {
      const results = [compileGlob(pattern)(name), compilePatternSet([pattern]).matches(name), fnmatch(name, pattern)];
      if (results.some((r) => r !== expected)) {
        wrong.push(`${JSON.stringify(pattern)} ~ ${JSON.stringify(name)}: python ${expected}, got ${results.join("/")}`);
      }
    }
    expect(wrong.slice(0, 25)).to.deep.equal([]);
  });

  it(`agrees with Python ${globFile.python} on ${globFile.vectors.length} segment-matcher vectors, fast paths and general matcher alike`, () => {
    const wrong: string[] = [];
    for (const [pattern, name, expected] of [...globFile.vectors, ...file.vectors]) {
      const results = [compileGlob(pattern)(name), globSteps(pattern, name).matched];
      if (results.some((r) => r !== expected)) {
        wrong.push(`${JSON.stringify(pattern)} ~ ${JSON.stringify(name)}: python ${expected}, got ${results.join("/")}`);
      }
    }
    expect(wrong.slice(0, 25)).to.deep.equal([]);
    expect(globFile.vectors.filter((v) => v[2]).length).to.be.greaterThan(500);
  });

  // The review's shape: a star, thousands of single-character wildcards and a
  // literal. The old matcher retried the whole tail at every position of the
  // name (4,096 × 4,094 steps); now the tail is anchored at the name's end.
  it("matches the review's attack shape in steps linear in the name", () => {
    const name = "a".repeat(4095) + "b";
    for (const pattern of ["*" + "?".repeat(4094) + "b", "*" + "?".repeat(4094) + "c", "*" + "?".repeat(14) + "b"]) {
      const { matched, steps } = globSteps(pattern, name);
      expect(matched, pattern.slice(-3)).to.equal(pattern.endsWith("b"));
      expect(steps).to.be.at.most(2 * (name.length + pattern.length));
    }
  });

  // Middle segments are the expensive part: every place of the name may be a
  // candidate and each is checked token by token. Within the default limits
  // (16 wildcards) the work per character of the name stays a small constant.
  it("bounds the steps of the worst middle segments by name length × segment tokens", () => {
    const shapes = [
      "*" + "a?".repeat(7) + "b*",
      "*" + "?".repeat(14) + "b*",
      "*" + "[ab]".repeat(14) + "c*",
      "*" + "a".repeat(200) + "b*",
      "*a?*a?*a?*a?*a?*a?*a?*b",
      "?*" + "a[!b]".repeat(7) + "*?",
    ];
    for (const fill of ["a", "é", "🙂"]) {
      const name = fill.repeat(4096);
      for (const pattern of shapes) {
        const tokens = parseGlob(pattern).length;
        const { matched, steps } = globSteps(pattern, name);
        expect(matched).to.equal(fnmatch(name, pattern));
        expect(steps, `${pattern} on ${fill}×4096`).to.be.at.most(2 * (name.length + tokens) * (tokens + 1));
        expect(steps, `${pattern} on ${fill}×4096`).to.be.at.most(40 * name.length);
      }
    }
  });

  const table: [string, string, boolean][] = [
    ["read:*", "read:docs", true],
    ["read:*", "read", false],
    ["*", "", true],
    ["*", "anything:at/all\nreally", true],
    ["*.csv", "/data/x.csv", true],
    ["doc*.md", "doc.md", true],
    ["doc*.md", "doc.m", false],
    ["READ", "read", false],
    ["log[^0-9]", "log7", true],
    ["x[!]", "x[!]", true],
    ["[!a]", "🙂", true],
    ["?", "🙂", true],
    ["??", "🙂", false],
    ["[z-a]", "a", false],
    ["a[", "a[", true],
  ];
  for (const [pattern, name, expected] of table) {
    it(`${JSON.stringify(pattern)} ${expected ? "matches" : "does not match"} ${JSON.stringify(name)}`, () => {
      expect(compileGlob(pattern)(name)).to.equal(expected);
    });
  }

  it("tests a pattern set through every fast path", () => {
    const set = compilePatternSet(["read", "write", "read", "list:*", "*.tmp", "a?c", "[xy]z"]);
    expect(set.size).to.equal(6);
    const results = ["read", "write", "list:all", "x.tmp", "abc", "yz", "delete", "list", "ab"].map((n) => set.matches(n));
    expect(results).to.deep.equal([true, true, true, true, true, true, false, false, false]);
    expect(compilePatternSet(["x", "*"]).matches("anything")).to.equal(true);
    expect(compilePatternSet([]).matches("")).to.equal(false);
  });

  it("parses patterns into tokens", () => {
    expect(parseGlob("a**b?[!x-z]")).to.deep.equal([
      { kind: "literal", text: "a" },
      { kind: "star" },
      { kind: "literal", text: "b" },
      { kind: "any" },
      { kind: "class", negated: true, ranges: [[120, 122]] },
    ]);
    expect(parseGlob("[z-a]")).to.deep.equal([{ kind: "never" }]);
    expect(parseGlob("[!z-a]")).to.deep.equal([{ kind: "any" }]);
    expect(parseGlob("x[")).to.deep.equal([{ kind: "literal", text: "x[" }]);
  });

  it("stays linear on patterns that make backtracking regexes explode", () => {
    const matcher = compileGlob("*a*a*a*a*a*a*a*b");
    const name = "a".repeat(10_000);
    expect(matcher(name)).to.equal(false);
  });
});
