import { defineCommand, outputOption } from "../command-spec.ts";

/** `agent-auth inspect`. */
export const inspectSpec = defineCommand({
  name: "inspect",
  summary: "show roles, profiles, policies and rules",
  usage: ["agent-auth -c FILE inspect [-o json]", "agent-auth --server H:P inspect"],
  description: `Prints the policy as tables: metadata, variables, roles with inherited actions, profiles,
approval policies, delegation rules, A2A rules, sessions, audit. With --server: what the server
decides with, its policy file's problems while that file is invalid, and every replica's revision.`,
  options: { ...outputOption },
  examples: ["agent-auth -c examples/agent_auth.yaml inspect"],
  load: async () => (await import("../commands/inspect.ts")).inspectCommand,
});
