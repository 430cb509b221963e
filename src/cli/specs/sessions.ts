import { defineCommand, outputOption } from "../command-spec.ts";

/** `agent-auth sessions`. */
export const sessionsSpec = defineCommand({
  name: "sessions",
  summary: "create, list or revoke sessions (with --server or --redis)",
  usage: [
    "agent-auth --server H:P sessions --create --agent A --user U [--scope S] [--duration SEC]",
    "agent-auth --server H:P sessions --list [--agent A] [--user U] [--all]",
    "agent-auth --server H:P sessions --revoke ID",
  ],
  description: `Manages sessions on a running server (--server) or on the shared state in Redis (--redis,
with -c for the policy's durations). Creating a session for an agent without a profile is allowed,
as in the original, with a warning.`,
  options: {
    create: { type: "boolean", default: false, help: "open a session" },
    list: { type: "boolean", default: false, help: "list sessions" },
    revoke: { type: "string", value: "ID", help: "revoke a session" },
    agent: { type: "string", short: "a", value: "A", help: "the session's agent (filter with --list)" },
    user: { type: "string", short: "u", value: "U", help: "the session's user (filter with --list)" },
    scope: { type: "string", short: "s", default: "", value: "S", help: "scope pattern requests must fall within" },
    duration: { type: "string", short: "d", value: "SEC", help: "lifetime in seconds" },
    all: { type: "boolean", default: false, help: "with --list: include revoked and expired sessions" },
    ...outputOption,
  },
  examples: ["agent-auth --server 127.0.0.1:50051 sessions --create --agent copilot --user alice --scope 'project:*'"],
  load: async () => (await import("../commands/sessions.ts")).sessionsCommand,
});
