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
import { createRedisStore, type RedisConnection, type RedisStore, type ReplicaInfo } from "../state/redis.ts";
import { hostname } from "node:os";
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
import { status } from "@grpc/grpc-js";
import { createJsonLogger, type Logger } from "./logger.ts";
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { ConfigLimits } from "../config/index.ts";
import { parseCursor } from "../audit/cursor.ts";
import { createCallerCheck, type Refusal } from "./callers.ts";
import { ServerMetrics, serveMetrics, type MetricsEndpoint } from "./metrics.ts";
import { PolicyReloader } from "./reload.ts";
import type { CallerConfig } from "./server-config.ts";

/** Options for {@link startAgentAuthServer}. */
export interface AgentAuthServerOptions {
  readonly config: AuthConfig;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 50051; 0 picks a free port. */
  readonly port?: number;
  readonly tls?: TlsFiles | undefined;
  /** Shared state in Redis; without it the embedded memory store is used. */
  readonly redis?:
    | {
        readonly connection: RedisConnection;
        readonly prefix?: string | undefined;
        /** A decision waiting longer than this on Redis denies. Default 1000 ms. */
        readonly commandTimeoutMs?: number | undefined;
      }
    | undefined;
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
  /**
   * Named callers and their RPC groups. When given (non-empty), every call
   * must identify a caller by bearer token or client certificate.
   */
  readonly callers?: readonly CallerConfig[] | undefined;
  /** Refused calls are appended here as JSON lines (besides the log). Default: none. */
  readonly refusalLog?: string | undefined;
  /** Serve Prometheus metrics at http://host:port/metrics. */
  readonly metrics?: { readonly host: string; readonly port: number } | undefined;
  /**
   * The file `config` was read from: enables PolicyService.ReloadPolicy and
   * (with `watch`) reloading when the file changes.
   */
  readonly policyFile?:
    | {
        readonly path: string;
        readonly watch?: boolean;
        readonly env?: Readonly<Record<string, string | undefined>>;
        readonly limits?: Partial<ConfigLimits>;
      }
    | undefined;
}

/** A running agent-auth server. */
export interface AgentAuthServer {
  readonly port: number;
  readonly address: string;
  readonly engine: AuthEngine;
  readonly hub: AuditHub;
  readonly store: StateStore;
  readonly grpc: RunningGrpcServer;
  readonly metrics: ServerMetrics;
  /** The Prometheus endpoint, when asked for. */
  readonly metricsEndpoint: MetricsEndpoint | undefined;
  /** Reloads the policy file, when the server was given one. */
  readonly reloader: PolicyReloader | undefined;
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
  const metrics = new ServerMetrics();

  let store: StateStore;
  let redis: RedisStore | undefined;
  if (options.redis !== undefined) {
    redis = createRedisStore({
      connection: options.redis.connection,
      prefix: options.redis.prefix,
      ...(options.redis.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: options.redis.commandTimeoutMs }),
      audit: auditOn ? { durability: config.audit.durability, streamMaxLength: config.audit.streamMaxLength } : undefined,
      onError: rateLimited(logger, "state store error"),
      onAuditDropped: (count, error) => {
        metrics.auditDropped.inc(count);
        logger.error("audit records dropped after retrying", { count, error: String(error) });
      },
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
    // Entries relayed from the shared stream arrive with a delay worth watching; local ones have none.
    ...(options.redis === undefined
      ? {}
      : {
          onPublish: (entry: { cursor: string }) => {
            const ms = parseCursor(entry.cursor)?.[0];
            if (ms !== undefined) metrics.auditLagSeconds.set(Math.max(0, Date.now() - ms) / 1000);
          },
        }),
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
    // Failures are counted before the engine denies.
    onStateRead: (ms, ok) => {
      if (!ok) metrics.storeErrors.inc();
      metrics.observeStateRead(ms / 1000);
    },
  });
  let relay: AuditRelay | undefined;
  if (redis !== undefined && auditOn) relay = await startAuditRelay(redis, hub, { onError: rateLimited(logger, "audit relay error") });

  let reloader: PolicyReloader | undefined;
  let announce: (() => void) | undefined;
  if (options.policyFile !== undefined) {
    const file = options.policyFile;
    reloader = new PolicyReloader({
      path: file.path,
      engine,
      logger,
      ...(file.env === undefined ? {} : { env: file.env }),
      ...(file.limits === undefined ? {} : { limits: file.limits }),
      onResult: (result) => {
        metrics.reloads.inc({ result: !result.ok ? "error" : result.changed ? "ok" : "unchanged" });
        metrics.reloadFailing.set(result.ok ? 0 : 1);
        const p = engine.policy;
        metrics.setPolicy(p.revision, p.config.metadata.name, p.config.version);
        grpc?.health.setExtra(POLICY_HEALTH, result.ok ? "SERVING" : "NOT_SERVING");
        announce?.();
      },
    });
  }
  metrics.setPolicy(engine.revision, config.metadata.name, config.version);
  metrics.reloadFailing.set(0);
  metrics.sources = { subscribers: () => hub.subscriberCount, storeUp: () => store.health().ok };

  let self: () => ReplicaInfo = () => ({ id: "", address: "", revision: engine.revision, reloadErrors: reloader?.errors ?? [], seen: Date.now() });
  const replicas = async (): Promise<ReplicaInfo[]> => {
    if (redis === undefined) return [self()];
    try {
      return await redis.listReplicas(REPLICA_MAX_AGE_MS);
    } catch {
      return [self()];
    }
  };
  const ctx: ServiceContext = { engine, hub, maxBatch: options.maxBatch ?? 1000, logger, metrics, reloader, replicas, configLimits: options.policyFile?.limits };
  const callerCheck =
    options.callers !== undefined && options.callers.length > 0 ? createCallerCheck(options.callers, refusalReporter(logger, metrics, options.refusalLog)) : undefined;
  const maxMessageBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
  const hooks: CallHooks = {
    maxRequestBytes: maxMessageBytes,
    ...(callerCheck === undefined ? {} : { before: (call, method) => callerCheck.check(call, method) }),
    onInternalError: (error, call) => logger.error("internal error", { method: call.method, peer: call.peer, error }),
    onDone: (call, code, durationMs) => {
      metrics.observeCall(call.method, STATUS_NAMES[code] ?? String(code), durationMs / 1000);
    },
  };
  let grpc: RunningGrpcServer | undefined;
  grpc = await startGrpcServer({
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    tls: options.tls,
    // grpc-js cuts off anything far over the limit; between the two, the adapter answers naming the limit.
    maxReceiveMessageBytes: 2 * maxMessageBytes + 64 * 1024,
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
  const running = grpc;

  // Health follows the store: NOT_SERVING while decisions that need state would be denied.
  const watch = setInterval(() => {
    const h = store.health();
    if ((running.health.status === "SERVING") !== h.ok) {
      running.health.set(h.ok ? "SERVING" : "NOT_SERVING");
      (h.ok ? logger.info : logger.warn)(h.ok ? "state store available" : "state store unavailable", { detail: h.detail });
    }
  }, 250);
  watch.unref();
  if (!store.health().ok) running.health.set("NOT_SERVING");
  running.health.setExtra(POLICY_HEALTH, "SERVING");
  if (options.policyFile?.watch === true) reloader?.watch();
  const metricsEndpoint = options.metrics === undefined ? undefined : await serveMetrics(metrics, options.metrics.host, options.metrics.port);

  // With Redis, each replica reports the revision it serves, so DescribePolicy shows whether they converged.
  const replicaId = `${hostname()}:${process.pid}:${running.port}`;
  self = () => ({ id: replicaId, address: running.address, revision: engine.revision, reloadErrors: reloader?.errors ?? [], seen: Date.now() });
  let announcer: NodeJS.Timeout | undefined;
  if (redis !== undefined) {
    const store = redis;
    announce = () => void store.announceReplica(replicaId, self()).catch(() => undefined);
    announce();
    announcer = setInterval(announce, REPLICA_INTERVAL_MS);
    announcer.unref();
  }

  let closing: Promise<void> | undefined;
  return {
    port: running.port,
    address: running.address,
    engine,
    hub,
    store,
    grpc: running,
    metrics,
    metricsEndpoint,
    reloader,
    close: (graceMs = 10_000) =>
      (closing ??= (async () => {
        clearInterval(watch);
        clearInterval(announcer);
        announce = undefined;
        await redis?.withdrawReplica(replicaId).catch(() => undefined);
        reloader?.close();
        const shutdown = running.shutdown(graceMs);
        // Open audit streams would otherwise hold the shutdown for the whole grace period.
        hub.closeAll();
        await shutdown;
        await relay?.stop();
        await engine.close();
        await hub.close();
        await store.close();
        await metricsEndpoint?.close();
      })()),
  };
}

const REPLICA_INTERVAL_MS = 2000;
const REPLICA_MAX_AGE_MS = 10_000;

/** Health service name that reports whether the policy file on disk is the one served. */
export const POLICY_HEALTH = "agentauth.policy";

const STATUS_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(status).filter(([, v]) => typeof v === "number").map(([k, v]) => [v, k]));

/** Every refused call goes to the log, the metrics and, when configured, a JSON-lines file. */
function refusalReporter(logger: Logger, metrics: ServerMetrics, path: string | undefined): (r: Refusal) => void {
  if (path !== undefined) mkdirSync(dirname(path), { recursive: true });
  return (r) => {
    metrics.refusals.inc({ group: r.group ?? "none", code: r.code });
    logger.warn("call refused", { method: r.method, caller: r.caller ?? null, code: r.code, reason: r.reason, peer: r.peer });
    if (path !== undefined) {
      try {
        appendFileSync(path, JSON.stringify({ timestamp: r.time, event: "call_refused", method: r.method, group: r.group ?? null, caller: r.caller ?? null, code: r.code, reason: r.reason, peer: r.peer }) + "\n");
      } catch (error) {
        logger.error("cannot write the refusal log", { path, error: String(error) });
      }
    }
  };
}

/** Logs an error at most once a second per kind, so an outage does not flood the log. */
function rateLimited(logger: Logger, message: string): (error: unknown, context?: string, decisionId?: string) => void {
  let last = 0;
  let suppressed = 0;
  return (error, context, decisionId) => {
    const now = Date.now();
    if (now - last < 1000) {
      suppressed++;
      return;
    }
    logger.error(message, {
      error: error instanceof Error ? error.message : String(error),
      ...(context === undefined ? {} : { component: context }),
      ...(decisionId === undefined ? {} : { decision_id: decisionId }),
      ...(suppressed > 0 ? { suppressed } : {}),
    });
    last = now;
    suppressed = 0;
  };
}
