import { defineCommand } from "../command-spec.ts";
import { requestOptions } from "./request-options.ts";

/** `agent-auth check`. */
export const checkSpec = defineCommand({
  name: "check",
  summary: "decide one request",
  usage: [
    "agent-auth -c FILE check --agent A --user U --action X [OPTIONS]",
    "agent-auth --server H:P check --agent A --user U --action X [OPTIONS]",
    "agent-auth --server H:P check … --request-approval [--justification T] [--callback-url URL]",
    "agent-auth --server H:P check … --approval ID",
  ],
  description: `Decides one request and prints the decision. Exit 0 when allowed (an allow that needs
approval says so, and exits 1 with --require-no-approval), 1 when denied. Locally the decision is
not written to the policy's audit log unless --audit is given.
With --server, --request-approval asks for an approval when the decision needs one: the task is
created and printed with the decision ("approval": {"id", "status", "expires_at"}). --approval ID
redeems an approval: allowed without approval when it binds this exact request, else the normal
decision with approval_status saying why, and exit 1 while approval is still needed.`,
  options: {
    ...requestOptions,
    explain: { type: "boolean", default: false, help: "also print the path of the decision (see 'agent-auth explain')" },
    audit: { type: "boolean", default: false, help: "locally: record the decision in the policy's audit log" },
    "require-no-approval": { type: "boolean", default: false, help: "exit 1 when the action needs soft or strong approval" },
    "request-approval": { type: "boolean", default: false, help: "with --server: when approval is needed, request it (creates a pending task)" },
    justification: { type: "string", value: "T", help: "with --request-approval: why, shown to approvers" },
    "callback-url": { type: "string", value: "URL", help: "with --request-approval: where the server POSTs the task on each transition" },
    approval: { type: "string", value: "ID", help: "with --server: redeem this approval" },
  },
  examples: [
    "agent-auth -c examples/agent_auth.yaml check --agent copilot --user alice --action read --scope project:web",
    "agent-auth --server 127.0.0.1:50051 check --agent deploy-bot --user bob --action deploy --scope service:api --request-approval --justification 'release 1.4' -o json",
  ],
  load: async () => (await import("../commands/check.ts")).checkCommand,
});
