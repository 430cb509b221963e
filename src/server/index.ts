export { startAgentAuthServer, POLICY_HEALTH, type AgentAuthServer, type AgentAuthServerOptions } from "./app/start-server.ts";
export type { RedisOptions } from "./app/decision-backend.ts";
