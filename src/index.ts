/**
 * agent-auth as a library: the policy engine, its configuration, the state
 * stores, the audit sinks, the gRPC server and the typed client.
 *
 *   import { AuthEngine, loadConfig } from "agent-auth";
 *   const engine = new AuthEngine(loadConfig("agent_auth.yaml"));
 *   const decision = await engine.authorize({ agent: "copilot", user: "alice", action: "read" });
 */
export * from "./engine/index.ts";
export * from "./config/index.ts";
export * from "./state/index.ts";
export { createRedisStore, type RedisConnection, type RedisStore, type RedisStoreOptions } from "./state/redis.ts";
export { parseRedisTarget } from "./state/redis-target.ts";
export { createJsonlFileSink, teeSinks, type AuditEvent, type AuditSink, type JsonlFileSinkOptions } from "./audit/index.ts";
export {
  compileExpression,
  DEFAULT_EXPRESSION_LIMITS,
  MAX_EXPRESSION_DEPTH,
  ExpressionEvalError,
  ExpressionSyntaxError,
  type CompiledExpression,
  type ExpressionLimits,
} from "./expr/index.ts";
export { fnmatch, policyRevision } from "./policy/index.ts";
export { startAgentAuthServer, type AgentAuthServer, type AgentAuthServerOptions } from "./server/app.ts";
export { createAgentAuthClient, ClientError, isClientError, type AgentAuthClient, type ConnectOptions } from "./client/index.ts";
