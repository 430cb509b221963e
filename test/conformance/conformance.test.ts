import { expect } from "chai";
import { readCases, runCase } from "../../src/conformance/run-file.ts";

const FILES = ["test/fixtures/conformance/authz.jsonl", "test/fixtures/conformance/expressions.jsonl"];

for (const file of FILES) {
  describe(`conformance: ${file}`, () => {
    for (const { line, parsed } of readCases(file)) {
      const title = parsed instanceof Error ? `line ${line}` : `${parsed.id} (line ${line})`;
      it(title, async () => {
        if (parsed instanceof Error) throw parsed;
        const result = await runCase(parsed);
        expect(result.differences, result.differences.join("\n")).to.deep.equal([]);
      });
    }
  });
}
