import { defineCommand, outputOption } from "../command-spec.ts";

/** `agent-auth validate`. */
export const validateSpec = defineCommand({
  name: "validate",
  summary: "check the policy file and report every problem and warning",
  usage: ["agent-auth -c FILE validate [--strict] [-o json]", "agent-auth -c FILE --server H:P validate"],
  description: `Loads the policy and reports every problem with its line: YAML errors, unknown roles,
inheritance cycles, bad tiers, condition errors. Warnings (unknown keys, a bare word compared as a
field, unreachable profiles, shadowed approval policies) are shown too, even beside errors. Exit 1
on any error, and with --strict on any warning. With --server the server checks the file's text.`,
  options: {
    strict: { type: "boolean", default: false, help: "treat warnings as errors" },
    ...outputOption,
  },
  examples: ["agent-auth -c examples/agent_auth.yaml validate --strict"],
  load: async () => (await import("../commands/validate.ts")).validateCommand,
});
