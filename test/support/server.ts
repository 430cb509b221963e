import { parseConfig } from "../../src/config/index.ts";
import { startAgentAuthServer, type AgentAuthServer, type AgentAuthServerOptions } from "../../src/server/app/start-server.ts";
import { silentLogger } from "../../src/server/logger.ts";
import { createAgentAuthClient, type AgentAuthClient, type ConnectOptions } from "../../src/client/index.ts";

/** The policy the server tests serve. */
export const SERVER_POLICY = `
version: "1.0"
metadata: {name: server-test}
variables: {limit: 1000}
roles:
  viewer: {actions: [read, list]}
  editor: {actions: [write], extends: viewer}
profiles:
  assistant: {role: editor, deny: [delete], scopes: ["project:*"]}
  deployer: {allow: [deploy, read], default_tier: soft}
  caller: {allow: ["*"]}
approval_policies:
  - {name: prod, condition: 'resource starts_with "/prod"', tier: strong}
  - {name: big, condition: 'action == "pay" and amount > $limit', tier: strong}
delegation:
  default_duration: 600
  rules: [{name: safe, allowed_actions: [read, write, pay], max_duration: 3600}]
a2a:
  default: deny
  policies: [{name: ask, from_agent: caller, to_agent: helper, action: "*", effect: allow}]
audit: {enabled: false}
`;

/** Starts a server on a free port with the test policy (audit stream on, no file). */
export async function startTestServer(
  over: Partial<AgentAuthServerOptions> = {},
  policy = SERVER_POLICY,
  clientOptions: ConnectOptions = {},
): Promise<{ server: AgentAuthServer; client: AgentAuthClient; connect: (o?: ConnectOptions) => AgentAuthClient }> {
  const config = parseConfig(policy.replace("audit: {enabled: false}", "audit: {enabled: true, path: /dev/null}"), { env: {} });
  const server = await startAgentAuthServer({ config, port: 0, logger: silentLogger, ...over });
  const connect = (o: ConnectOptions = {}): AgentAuthClient => createAgentAuthClient(`127.0.0.1:${server.port}`, { defaultDeadlineMs: 10_000, ...clientOptions, ...o });
  const client = connect();
  await client.ready(5000);
  return { server, client, connect };
}
