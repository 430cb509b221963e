import { defineCommand, outputOption } from "../command-spec.ts";

/** `agent-auth audit`. */
export const auditSpec = defineCommand({
  name: "audit",
  summary: "show recorded decisions, or follow them live",
  usage: [
    "agent-auth -c FILE audit [--last N | --limit N] [--since ISO] [--until ISO] [FILTERS] [-o json | --output-file F]",
    "agent-auth --server H:P audit [--last N] [...]",
    "agent-auth --server H:P audit --follow [FILTERS] [--after CURSOR]",
  ],
  description: `Without --server it reads the audit file named by the policy (audit.path, relative to the
policy file). With --server it queries the server's audit history; --follow streams decisions as
they are made, resuming by cursor when the stream breaks. The table shows time, agent, user,
action, resource, scope, the decision, tier, reason and decision id.`,
  options: {
    last: { type: "string", value: "N", help: "the newest N matching decisions" },
    limit: { type: "string", default: "1000", value: "N", help: "at most N decisions, oldest first" },
    since: { type: "string", value: "ISO", help: "only decisions at or after this time" },
    until: { type: "string", value: "ISO", help: "only decisions at or before this time" },
    agent: { type: "string", value: "A", help: "only this agent" },
    user: { type: "string", value: "U", help: "only this user" },
    action: { type: "string", value: "X", help: "only this action" },
    effect: { type: "string", value: "allow|deny", help: "only allows or only denials" },
    "output-file": { type: "string", value: "F", help: "write the decisions to F as JSON" },
    follow: { type: "boolean", default: false, help: "with --server: stream decisions live until Ctrl-C" },
    after: { type: "string", value: "CURSOR", help: "with --follow: resume after this cursor" },
    ...outputOption,
  },
  examples: ["agent-auth -c examples/agent_auth.yaml audit --last 20"],
  load: async () => (await import("../commands/audit.ts")).auditCommand,
});
