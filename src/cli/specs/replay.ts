import { defineCommand, outputOption } from "../command-spec.ts";

/** `agent-auth replay`. */
export const replaySpec = defineCommand({
  name: "replay",
  summary: "re-decide recorded requests against another policy and report what would change",
  usage: ["agent-auth -c NEW.yaml replay --audit FILE [--fail-on loosened|changed]", "agent-auth -c NEW.yaml --server H:P replay [--since CURSOR] [--fail-on loosened|changed]"],
  description: `Reads recorded decisions (an audit file, or a server's audit history) and decides each
request again with the policy of -c, locally. Reports how many are unchanged, newly denied, newly
allowed, with a raised or a lowered tier, with examples of each. Sessions and delegations are taken
as valid as they were when recorded. Records whose decision could depend on request metadata are
counted as not replayable unless the audit log kept it (audit.include_metadata: true).`,
  options: {
    audit: { type: "string", value: "FILE", help: "the JSONL audit file to replay (default: the new policy's audit.path)" },
    since: { type: "string", value: "CURSOR", help: "with --server: replay the history after this cursor" },
    "fail-on": { type: "string", value: "loosened|changed", help: "exit 1 when a decision would be loosened (newly allowed, tier lowered) or changed at all" },
    examples: { type: "string", default: "3", value: "N", help: "examples shown per kind of change" },
    ...outputOption,
  },
  examples: ["agent-auth -c examples/agent_auth.yaml replay --audit examples/.agent_auth/audit.jsonl --fail-on loosened"],
  load: async () => (await import("../commands/replay.ts")).replayCommand,
});
