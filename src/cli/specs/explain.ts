import { defineCommand } from "../command-spec.ts";
import { requestOptions } from "./request-options.ts";

/** `agent-auth explain`. */
export const explainSpec = defineCommand({
  name: "explain",
  summary: "show why a request is decided as it is, step by step",
  usage: ["agent-auth -c FILE explain --agent A --user U --action X [OPTIONS]", "agent-auth --server H:P explain --agent A --user U --action X [OPTIONS]"],
  description: `Prints the path of the decision: the profile found (or not), the deny and allow patterns
and the role that granted the action, delegations and sessions, each approval policy with its
condition's value (and why it did not hold), agent-to-agent rules, and the final tier and who set
it. Nothing is recorded in the audit log. With --server the server explains (PolicyService.Explain,
which needs the policy right). Exit 0 when the request would be allowed, 1 when denied.`,
  options: { ...requestOptions },
  examples: ["agent-auth -c examples/agent_auth.yaml explain --agent deploy-bot --user bob --action deploy --resource /prod/api --scope service:api"],
  load: async () => (await import("../commands/explain.ts")).explainCommand,
});
