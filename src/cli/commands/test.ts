import { writeFileSync } from "node:fs";
import { findTestFiles } from "../../conformance/find-test-files.ts";
import { toJunitXml } from "../../conformance/junit.ts";
import { runPolicyTestFile, type PolicyTestFileResult } from "../../conformance/run-policy-tests.ts";
import { outputMode, parseCommandArgs } from "../command-spec.ts";
import type { GlobalOptions } from "../global-options.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from "../io.ts";
import { testSpec } from "../specs/test.ts";
import { green, paint, red } from "../table.ts";

/**
 * `agent-auth test [PATH…] [--junit FILE] [-o json]`: runs policy test
 * files. Exit 0 when every test passes, 1 when one fails, 2 when a file or its
 * policy cannot be used (or none is found).
 */
export async function testCommand(io: CliIo, _g: GlobalOptions, args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(testSpec, args);
  const output = outputMode("test", values.output);
  let files: string[];
  try {
    files = findTestFiles(positionals.length === 0 ? ["."] : positionals);
  } catch (error) {
    io.stderr(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_USAGE;
  }
  if (files.length === 0) {
    io.stderr(`Error: no test files (*_test.yaml, *.test.yaml) under ${positionals.length === 0 ? "." : positionals.join(", ")}\n`);
    return EXIT_USAGE;
  }
  const results: PolicyTestFileResult[] = [];
  for (const file of files) results.push(await runPolicyTestFile(file));
  const passed = results.reduce((n, f) => n + f.results.filter((r) => r.passed).length, 0);
  const failed = results.reduce((n, f) => n + f.results.filter((r) => !r.passed).length, 0);
  const broken = results.filter((f) => f.error !== undefined);
  if (values.junit !== undefined) writeFileSync(values.junit, toJunitXml(results));
  if (output === "json") {
    const json = {
      passed,
      failed,
      errors: broken.map((f) => ({ file: f.file, line: f.error!.line ?? null, message: f.error!.problem })),
      files: results.map((f) => ({ file: f.file, policy: f.policy ?? null, tests: f.results.map((r) => ({ name: r.name, line: r.line, passed: r.passed, differences: r.differences })) })),
    };
    io.stdout(JSON.stringify(json, null, 2) + "\n");
  } else {
    for (const f of results) {
      if (f.error !== undefined) io.stderr(`${paint(io.color, red, "ERROR")} ${f.error.message}\n`);
      for (const r of f.results) if (!r.passed) io.stdout(`${paint(io.color, red, "FAIL")} ${f.file}:${r.line} ${r.name}: ${r.differences.join("; ")}\n`);
    }
    if (broken.length > 0) io.stdout(`${broken.length} test file${broken.length === 1 ? "" : "s"} could not be used\n`);
    io.stdout(`${paint(io.color, failed === 0 && broken.length === 0 ? green : red, `${passed} passed, ${failed} failed`)}\n`);
  }
  return broken.length > 0 ? EXIT_USAGE : failed > 0 ? EXIT_FAILURE : EXIT_OK;
}
