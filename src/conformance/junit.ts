import type { PolicyTestFileResult } from "./run-policy-tests.ts";

/** The results as JUnit XML (one suite per file; an unusable file is one errored case). */
export function toJunitXml(files: readonly PolicyTestFileResult[]): string {
  const esc = (s: string): string => s.replace(/[<>&"']/g, (c) => `&${{ "<": "lt", ">": "gt", "&": "amp", '"': "quot", "'": "apos" }[c]!};`).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "");
  let tests = 0;
  let failures = 0;
  let errors = 0;
  const suites = files.map((f) => {
    if (f.error !== undefined) {
      tests++;
      errors++;
      return `  <testsuite name="${esc(f.file)}" tests="1" failures="0" errors="1">\n    <testcase name="${esc(f.file)}" classname="${esc(f.file)}" file="${esc(f.file)}"${f.error.line === undefined ? "" : ` line="${f.error.line}"`}>\n      <error message="${esc(f.error.problem.split("\n")[0]!)}">${esc(f.error.message)}</error>\n    </testcase>\n  </testsuite>`;
    }
    const failed = f.results.filter((r) => !r.passed).length;
    tests += f.results.length;
    failures += failed;
    const cases = f.results.map((r) => {
      const head = `    <testcase name="${esc(r.name)}" classname="${esc(f.file)}" file="${esc(f.file)}" line="${r.line}"`;
      return r.passed ? `${head}/>` : `${head}>\n      <failure message="${esc(r.differences[0] ?? "")}">${esc(r.differences.join("\n"))}</failure>\n    </testcase>`;
    });
    return `  <testsuite name="${esc(f.file)}" tests="${f.results.length}" failures="${failed}" errors="0">\n${cases.join("\n")}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="agent-auth test" tests="${tests}" failures="${failures}" errors="${errors}">\n${suites.join("\n")}\n</testsuites>\n`;
}
