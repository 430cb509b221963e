import { defineCommand, outputOption } from "../command-spec.ts";

/** `agent-auth test`. */
export const testSpec = defineCommand({
  name: "test",
  summary: "run policy test files (*_test.yaml, *.test.yaml)",
  usage: ["agent-auth test [PATH...] [--junit FILE] [-o json]"],
  description: `Runs the tests of policy test files: each names its policy, optional variables and
environment, and requests with the decision expected (docs/policy-tests.md). Prints one line per
failing test with what was expected and what came, then 'N passed, N failed'. Exit 0 when every
test passes, 1 when one fails, 2 when a test file or its policy cannot be used. Local only; nothing
is written to any audit log.`,
  options: {
    junit: { type: "string", value: "FILE", help: "also write the results as JUnit XML" },
    ...outputOption,
  },
  positionals: { name: "PATH...", help: "test files, or directories searched for them (default: .)" },
  examples: ["agent-auth test examples"],
  load: async () => (await import("../commands/test.ts")).testCommand,
});
