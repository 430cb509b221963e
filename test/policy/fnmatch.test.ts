import { expect } from "chai";
import { readFileSync } from "node:fs";
import { compileGlob, compilePatternSet, fnmatch, parseGlob } from "../../src/policy/fnmatch.ts";

interface VectorFile {
  python: string;
  vectors: [string, string, boolean][];
}

const file = JSON.parse(readFileSync("test/fixtures/fnmatch-vectors.json", "utf8")) as VectorFile;

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
