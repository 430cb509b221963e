import { parseConfig, type AuthConfig } from "../../src/config/index.ts";

/** A small policy exercising every step of the pipeline, for unit tests. */
export const BASIC_POLICY = `
version: "1.0"
metadata: {name: unit-test, description: policy for unit tests}
variables: {limit: 1000}
roles:
  viewer: {actions: [read, "list:*"]}
  editor: {actions: [write], extends: viewer}
profiles:
  assistant:
    role: editor
    deny: [delete]
    scopes: ["project:*"]
  deployer:
    allow: [deploy, read]
    default_tier: soft
  pinned:
    allow: [read]
    max_session_duration: 120
approval_policies:
  - {name: big-payment, condition: "action == 'pay' and amount > $limit", tier: strong}
  - {name: deploys, condition: "action == 'deploy'", tier: soft}
  - {name: prod, condition: "resource starts_with '/prod'", tier: strong}
delegation:
  default_duration: 600
  max_duration: 3600
  rules:
    - {name: safe, allowed_actions: [read, pay, "write*"], max_duration: 1800}
a2a:
  default: deny
  policies:
    - {name: ask-reviewer, from_agent: assistant, to_agent: reviewer, action: read, effect: allow}
sessions: {default_duration: 300, max_duration: 3600}
audit: {enabled: false}
`;

export function basicConfig(): AuthConfig {
  return parseConfig(BASIC_POLICY, { env: {} });
}
