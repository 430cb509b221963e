import { defineCommand } from "../command-spec.ts";

/** `agent-auth help [COMMAND]`. */
export const helpSpec = defineCommand({
  name: "help",
  summary: "show this help, or a command's",
  usage: ["agent-auth help [COMMAND]", "agent-auth COMMAND --help"],
  description: "Prints the program's help, or a command's: every option and an example.",
  options: {},
  positionals: { name: "COMMAND", help: "the command to describe" },
  examples: ["agent-auth help check"],
  load: async () => (await import("../commands/help.ts")).helpCommand,
});
