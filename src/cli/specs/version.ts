import { defineCommand, outputOption } from "../command-spec.ts";

/** `agent-auth version` (also `--version`, `-V`). */
export const versionSpec = defineCommand({
  name: "version",
  summary: "print the version",
  usage: ["agent-auth version [-o json]", "agent-auth --version"],
  description: "Prints the version of agent-auth.",
  options: { ...outputOption },
  examples: ["agent-auth version -o json"],
  load: async () => (await import("../commands/version.ts")).versionCommand,
});
