import { defineCommand, outputOption } from "../command-spec.ts";

/** `agent-auth delegate`. */
export const delegateSpec = defineCommand({
  name: "delegate",
  summary: "grant actions from a user to an agent (with --server or --redis)",
  usage: ["agent-auth --server H:P delegate --from-user U --to-agent A --actions a,b [--duration SEC] [--reason R]"],
  description: "Creates a delegation. One that breaks a delegation rule of the policy is refused with the rule's message (exit 1).",
  options: {
    "from-user": { type: "string", value: "U", help: "the user granting (required)" },
    "to-agent": { type: "string", value: "A", help: "the agent receiving (required)" },
    actions: { type: "string", value: "a,b", help: "action patterns, comma-separated (required)" },
    duration: { type: "string", short: "d", value: "SEC", help: "lifetime in seconds" },
    reason: { type: "string", default: "", value: "R", help: "why" },
    ...outputOption,
  },
  examples: ["agent-auth --server 127.0.0.1:50051 delegate --from-user alice --to-agent copilot --actions read,comment --reason 'review week'"],
  load: async () => (await import("../commands/delegations.ts")).delegateCommand,
});

/** `agent-auth delegations`. */
export const delegationsSpec = defineCommand({
  name: "delegations",
  summary: "list or revoke delegations (with --server or --redis)",
  usage: ["agent-auth --server H:P delegations --list [--agent A] [--user U] [--all]", "agent-auth --server H:P delegations --revoke ID"],
  description: "Lists delegations (active ones; --all adds revoked and expired) or revokes one.",
  options: {
    list: { type: "boolean", default: false, help: "list delegations" },
    revoke: { type: "string", value: "ID", help: "revoke a delegation" },
    agent: { type: "string", short: "a", value: "A", help: "only those to this agent" },
    user: { type: "string", short: "u", value: "U", help: "only those from this user" },
    all: { type: "boolean", default: false, help: "include revoked and expired ones" },
    ...outputOption,
  },
  examples: ["agent-auth --server 127.0.0.1:50051 delegations --list --agent copilot"],
  load: async () => (await import("../commands/delegations.ts")).delegationsCommand,
});
