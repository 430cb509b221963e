/**
 * `agent-auth/testing`: what tests of code that uses agent-auth need — a
 * clock that moves only when told, an engine on a policy given as text, and
 * a real server on a free port.
 *
 *   import { ManualClock, testEngine } from "agent-auth/testing";
 *   const clock = new ManualClock();
 *   const engine = testEngine(`profiles: {bot: {allow: [read]}}`, { clock });
 *   const session = await engine.createSession({ agent: "bot", user: "alice", duration: 60 });
 *   clock.advance(61); // the session has expired
 */
import type { AuditSink } from "./audit/sink.ts";
import { parseConfig } from "./config/parse-config.ts";
import type { AuthConfig } from "./config/types.ts";
import { AuthEngine, type EmbeddedEngineOptions } from "./embedded-engine.ts";
import { ManualClock } from "./model/clock.ts";
import { startAgentAuthServer, type AgentAuthServer, type AgentAuthServerOptions } from "./server/app/start-server.ts";
import { silentLogger } from "./server/logger.ts";

export { ManualClock } from "./model/clock.ts";

/** Options of {@link testEngine}: the engine's, minus the audit file (tests record nothing unless given sinks). */
export interface TestEngineOptions extends Omit<EmbeddedEngineOptions, "audit"> {
  /** Sinks that see every decision. Default none. */
  readonly audit?: readonly AuditSink[] | undefined;
  /** `${NAME}` values for the policy text. Default none (the process environment is not read). */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
}

/**
 * An engine on a policy given as YAML text (or an already parsed config),
 * with the memory store on `options.clock` (a ManualClock by default) and no
 * audit file. Throws ConfigError for an invalid policy.
 */
export function testEngine(policy: string | AuthConfig, options: TestEngineOptions = {}): AuthEngine {
  const config = typeof policy === "string" ? parseConfig(policy, { env: options.env ?? {} }) : policy;
  return new AuthEngine(config, { ...options, clock: options.clock ?? new ManualClock(), audit: options.audit ?? false });
}

/** Options of {@link startTestServer}. */
export type TestServerOptions = Omit<AgentAuthServerOptions, "config" | "port"> & {
  /** `${NAME}` values for the policy text. Default none. */
  readonly env?: Readonly<Record<string, string | undefined>>;
};

/**
 * A real agent-auth server on 127.0.0.1 and a free port, with logging off
 * (unless a logger is given), for tests that talk to it over gRPC. Close it
 * with `server.close()`.
 */
export async function startTestServer(policy: string | AuthConfig, options: TestServerOptions = {}): Promise<AgentAuthServer> {
  const config = typeof policy === "string" ? parseConfig(policy, { env: options.env ?? {} }) : policy;
  return startAgentAuthServer({ logger: silentLogger, ...options, config, host: options.host ?? "127.0.0.1", port: 0 });
}
