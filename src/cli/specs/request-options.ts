import { outputOption, type OptionSpec } from "../command-spec.ts";

/** The request options `check` and `explain` share. */
export const requestOptions = {
  agent: { type: "string", short: "a", value: "A", help: "the agent asking (required)" },
  user: { type: "string", short: "u", value: "U", help: "the user it acts for (required)" },
  action: { type: "string", value: "X", help: "the action (required)" },
  resource: { type: "string", short: "r", default: "", value: "R", help: "what the action applies to" },
  scope: { type: "string", short: "s", default: "", value: "S", help: "the request's scope" },
  "target-agent": { type: "string", value: "T", help: "the agent being called (agent-to-agent rules)" },
  session: { type: "string", value: "ID", help: "the session the request belongs to" },
  metadata: { type: "string", multiple: true, value: "KEY=VALUE", help: "a field conditions can read; VALUE as JSON when it parses" },
  ...outputOption,
} as const satisfies Record<string, OptionSpec>;
