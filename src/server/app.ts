import { AuditService } from "../../gen/agentauth/v1/audit_pb.ts";
import { AuthorizationService, AuthorizeResponseSchema } from "../../gen/agentauth/v1/authorization_pb.ts";
import { DelegationService } from "../../gen/agentauth/v1/delegation_pb.ts";
import { PolicyService } from "../../gen/agentauth/v1/policy_pb.ts";
import { SessionService } from "../../gen/agentauth/v1/session_pb.ts";
import { AuditHub } from "../audit/hub.ts";
import { createJsonlFileSink } from "../audit/jsonl-file-sink.ts";
import type { AuditSink } from "../audit/sink.ts";
import { startAuditRelay, streamHistory, type AuditRelay } from "../audit/stream-relay.ts";
import type { AuthConfig } from "../config/types.ts";
import { AuthEngine } from "../engine/engine.ts";
import type { RequestLimits } from "../engine/request.ts";
import { createMemoryStore } from "../state/memory.ts";
import { createRedisStore, type RedisConnection, type RedisStore } from "../state/redis.ts";
import type { StateStore } from "../state/store.ts";
import { createServiceDefinition, type CallHooks } from "./grpc/adapter.ts";
import { startGrpcServer, type RunningGrpcServer } from "./grpc/server.ts";
import type { TlsFiles } from "./grpc/tls.ts";
import { auditService } from "./handlers/audit.ts";
import { authorizationService } from "./handlers/authorization.ts";
import { encodeAuthorizeResponse } from "./handlers/encode-decision.ts";
import type { ServiceContext } from "./handlers/context.ts";
import { delegationService } from "./handlers/delegations.ts";
import { policyService } from "./handlers/policy.ts";
import { sessionService } from "./handlers/sessions.ts";
import { createJsonLogger, type Logger } from "./logger.ts";

/** Options for {@link startAgentAuthServer}. */
export interface AgentAuthServerOptions {
  readonly config: AuthConfig;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 50051; 0 picks a free port. */
  readonly port?: number;
  readonly tls?: TlsFiles | undefined;
  /** Shared state in Redis; without it the embedded memory store is used. */
  readonly redis?: { readonly connection: RedisConnection; readonly prefix?: string | undefined } | undefined;
  /** Largest AuthorizeBatch. Default 1000. */
  readonly maxBatch?: number;
  /** Largest request message. Default 4 MiB. */
  readonly maxMessageBytes?: number;
  readonly limits?: Partial<RequestLimits>;
  /** Live subscribers per process. Default 1000. */
  readonly maxSubscribers?: number;
  /** Events a subscriber may lag behind before its stream ends. Default 4096. */
  readonly subscriberBuffer?: number;
  /** Decisions kept for resuming subscribers and Query in memory mode. Default 10,000. */
  readonly auditRetain?: number;
  readonly logger?: Logger;
}

/** A running agent-auth server. */
export interface AgentAuthServer {
  readonly port: number;
  readonly address: string;
  readonly engine: AuthEngine;
  readonly hub: AuditHub;
  readonly store: StateStore;
  readonly grpc: RunningGrpcServer;
  /**
   * Graceful stop: refuse new calls, end audit streams, let calls in flight
   * finish (up to `graceMs`), flush audit records, close the store.
   */
  close(graceMs?: number): Promise<void>;
}

/** Starts the gRPC decision service for a validated config. */
export async function startAgentAuthServer(options: AgentAuthServerOptions): Promise<AgentAuthServer> {
  const logger = options.logger ?? createJsonLogger();
  const config = options.config;
  const auditOn = config.audit.enabled;

  let store: StateStore;
  let redis: RedisStore | undefined;
  if (options.redis !== undefined) {
    redis = createRedisStore({
      connection: options.redis.connection,
      prefix: options.redis.prefix,
      audit: auditOn ? { durability: config.audit.durability, streamMaxLength: config.audit.streamMaxLength } : undefined,
      onError: rateLimited(logger, "state store error"),
    });
    store = redis;
    try {
      await redis.ready(5000);
    } catch (error) {
      // Serve anyway: decisions that need state deny until Redis answers, and health says so.
      logger.warn("Redis is not reachable yet; decisions that need state are denied until it is", { error: String(error) });
    }
  } else {
    store = createMemoryStore();
  }

  const hub = new AuditHub({
    ...(redis !== undefined ? { history: streamHistory(redis, rateLimited(logger, "audit stream entry")) } : {}),
    maxSubscribers: options.maxSubscribers ?? 1000,
    subscriberBuffer: options.subscriberBuffer ?? 4096,
    ...(options.auditRetain === undefined ? {} : { retain: options.auditRetain }),
  });
  const sinks: AuditSink[] = [];
  if (auditOn) {
    // With Redis the stream is the record that durability governs; the local file is a convenience copy.
    const fileDurability = redis === undefined ? config.audit.durability : "async";
    sinks.push(createJsonlFileSink(config.audit.path, { durability: fileDurability, onError: rateLimited(logger, "audit file error") }));
    // In memory mode this process's decisions feed its subscribers directly; with Redis they come back through the stream.
    if (redis === undefined) sinks.push(hub);
  }
  const engine = new AuthEngine(config, {
    store,
    audit: sinks,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    onError: rateLimited(logger, "decision failed closed"),
  });
  let relay: AuditRelay | undefined;
  if (redis !== undefined && auditOn) relay = await startAuditRelay(redis, hub, { onError: rateLimited(logger, "audit relay error") });

  const ctx: ServiceContext = { engine, hub, maxBatch: options.maxBatch ?? 1000, logger };
  const hooks: CallHooks = {
    onInternalError: (error, call) => logger.error("internal error", { method: call.method, peer: call.peer, error }),
  };
  const grpc = await startGrpcServer({
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    tls: options.tls,
    ...(options.maxMessageBytes === undefined ? {} : { maxReceiveMessageBytes: options.maxMessageBytes }),
    services: [
      {
        service: AuthorizationService,
        ...createServiceDefinition(AuthorizationService, authorizationService(ctx), hooks, new Map([[AuthorizeResponseSchema.typeName, encodeAuthorizeResponse]])),
      },
      { service: SessionService, ...createServiceDefinition(SessionService, sessionService(ctx), hooks) },
      { service: DelegationService, ...createServiceDefinition(DelegationService, delegationService(ctx), hooks) },
      { service: AuditService, ...createServiceDefinition(AuditService, auditService(ctx), hooks) },
      { service: PolicyService, ...createServiceDefinition(PolicyService, policyService(ctx), hooks) },
    ],
  });

  // Health follows the store: NOT_SERVING while decisions that need state would be denied.
  const watch = setInterval(() => {
    const h = store.health();
    if ((grpc.health.status === "SERVING") !== h.ok) {
      grpc.health.set(h.ok ? "SERVING" : "NOT_SERVING");
      (h.ok ? logger.info : logger.warn)(h.ok ? "state store available" : "state store unavailable", { detail: h.detail });
    }
  }, 250);
  watch.unref();
  if (!store.health().ok) grpc.health.set("NOT_SERVING");

  let closing: Promise<void> | undefined;
  return {
    port: grpc.port,
    address: grpc.address,
    engine,
    hub,
    store,
    grpc,
    close: (graceMs = 10_000) =>
      (closing ??= (async () => {
        clearInterval(watch);
        const shutdown = grpc.shutdown(graceMs);
        // Open audit streams would otherwise hold the shutdown for the whole grace period.
        hub.closeAll();
        await shutdown;
        await relay?.stop();
        await engine.close();
        await hub.close();
        await store.close();
      })()),
  };
}

/** Logs an error at most once a second per kind, so an outage does not flood the log. */
function rateLimited(logger: Logger, message: string): (error: unknown) => void {
  let last = 0;
  let suppressed = 0;
  return (error) => {
    const now = Date.now();
    if (now - last < 1000) {
      suppressed++;
      return;
    }
    logger.error(message, { error: error instanceof Error ? error.message : String(error), ...(suppressed > 0 ? { suppressed } : {}) });
    last = now;
    suppressed = 0;
  };
}
