import { defineCommand } from "../command-spec.ts";
import { requestOptions } from "./request-options.ts";

/** `agent-auth check`. */
export const checkSpec = defineCommand({
  name: "check",
  summary: "decide one request",
  usage: ["agent-auth -c FILE check --agent A --user U --action X [OPTIONS]", "agent-auth --server H:P check --agent A --user U --action X [OPTIONS]"],
  description: `Decides one request and prints the decision. Exit 0 when allowed (an allow that needs
approval says so, and exits 1 with --require-no-approval), 1 when denied. Locally the decision is
not written to the policy's audit log unless --audit is given.`,
  options: {
    ...requestOptions,
    explain: { type: "boolean", default: false, help: "also print the path of the decision (see 'agent-auth explain')" },
    audit: { type: "boolean", default: false, help: "locally: record the decision in the policy's audit log" },
    "require-no-approval": { type: "boolean", default: false, help: "exit 1 when the action needs soft or strong approval" },
  },
  examples: ["agent-auth -c examples/agent_auth.yaml check --agent copilot --user alice --action read --scope project:web"],
  load: async () => (await import("../commands/check.ts")).checkCommand,
});
