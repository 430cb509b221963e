/**
 * `npm run conformance -- FILE.jsonl [FILE…]`: runs conformance cases and
 * prints one line per failing case, then `conformance: N passed, N failed`.
 * Exits 1 on any failure, 2 on a usage error.
 */
import { existsSync } from "node:fs";
import { runFile } from "./run-file.ts";

async function main(files: string[]): Promise<number> {
  if (files.length === 0) {
    process.stderr.write("usage: npm run conformance -- FILE.jsonl [FILE…]\n");
    return 2;
  }
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    if (!existsSync(file)) {
      process.stderr.write(`conformance: no such file: ${file}\n`);
      return 2;
    }
    for (const r of await runFile(file)) {
      if (r.passed) {
        passed++;
        continue;
      }
      failed++;
      process.stdout.write(`FAIL ${r.file}:${r.line} ${r.id}: ${r.differences.join("; ")}\n`);
    }
  }
  process.stdout.write(`conformance: ${passed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
