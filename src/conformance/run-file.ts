import { readFileSync } from "node:fs";
import { isExpressionCase, type CaseResult, type ConformanceCase } from "./cases.ts";
import { runAuthzCase } from "./run-authz-case.ts";
import { runExpressionCase } from "./run-expression-case.ts";

/** A case's result with where it came from. */
export interface LocatedResult extends CaseResult {
  readonly file: string;
  readonly line: number;
}

/** Reads a JSON Lines file of cases (blank lines skipped). A malformed line is a failed case. */
export function readCases(file: string): { line: number; parsed: ConformanceCase | Error }[] {
  const out: { line: number; parsed: ConformanceCase | Error }[] = [];
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((text, i) => {
      if (text.trim() === "") return;
      try {
        out.push({ line: i + 1, parsed: JSON.parse(text) as ConformanceCase });
      } catch (error) {
        out.push({ line: i + 1, parsed: error instanceof Error ? error : new Error(String(error)) });
      }
    });
  return out;
}

/** Runs one case of either kind. */
export async function runCase(c: ConformanceCase): Promise<CaseResult> {
  return isExpressionCase(c) ? runExpressionCase(c) : runAuthzCase(c);
}

/** Runs every case of a file, in order. */
export async function runFile(file: string): Promise<LocatedResult[]> {
  const results: LocatedResult[] = [];
  for (const { line, parsed } of readCases(file)) {
    if (parsed instanceof Error) {
      results.push({ file, line, id: `line ${line}`, passed: false, differences: [`not a JSON case: ${parsed.message}`] });
      continue;
    }
    results.push({ file, line, ...(await runCase(parsed)) });
  }
  return results;
}
