/**
 * `agent-auth/server`: start the decision service in your own process.
 *
 *   import { loadConfig } from "agent-auth";
 *   import { startAgentAuthServer } from "agent-auth/server";
 *   const server = await startAgentAuthServer({ config: loadConfig("agent_auth.yaml"), port: 50051 });
 *   // …
 *   await server.close();
 */
export { startAgentAuthServer, POLICY_HEALTH, type AgentAuthServer, type AgentAuthServerOptions, type ConsoleOptions, type HttpOptions } from "./app/start-server.ts";
export type { RedisOptions } from "./app/decision-backend.ts";
export { AUDIT_FILE_HEALTH } from "./app/health-watch.ts";
export type { TlsFiles } from "./grpc/tls.ts";
export { createJsonLogger, createLogger, createPrettyLogger, silentLogger, type LogFormat, type Logger } from "./logger.ts";
export {
  DEFAULT_CONSOLE_CONFIG,
  DEFAULT_SERVER_CONFIG,
  DEFAULT_SERVER_LIMITS,
  RPC_GROUPS,
  ServerConfigError,
  isServerConfigError,
  loadServerConfig,
  parseServerConfig,
  type CallerConfig,
  type ConsoleConfig,
  type HttpListenerConfig,
  type RpcGroup,
  type ServerConfig,
  type ServerLimits,
} from "./server-config.ts";
export type { ServerMetrics, MetricsEndpoint } from "./metrics.ts";
export type { PolicyReloader, ReloadResult, ReloadTrigger } from "./reload.ts";
export type { RunningGrpcServer } from "./grpc/server.ts";
export type { RunningHttpListener } from "./http/listener.ts";
