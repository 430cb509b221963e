import { parseCursor } from "../../audit/cursor.ts";
import { AuditHub } from "../../audit/hub.ts";
import { createJsonlFileSink } from "../../audit/jsonl-file-sink.ts";
import type { AuditSink, SinkCloseOptions, SinkHealth } from "../../audit/sink.ts";
import { startAuditRelay, streamHistory, type AuditRelay } from "../../audit/stream-relay.ts";
import type { AuthConfig } from "../../config/types.ts";
import type { Clock } from "../../model/clock.ts";
import { AuthEngine } from "../../engine/auth-engine.ts";
import type { RequestLimits } from "../../model/request.ts";
import { createMemoryStore } from "../../state/memory/memory-store.ts";
import { createRedisStore, type RedisConnection, type RedisStore } from "../../state/redis/index.ts";
import type { StateStore } from "../../state/store.ts";
import type { Logger } from "../logger.ts";
import type { ServerMetrics } from "../metrics.ts";
import { auditFileAlerts } from "./audit-file-alerts.ts";
import { rateLimited } from "./log-limit.ts";
import { within } from "./within.ts";

/** Shared state in Redis, as the server takes it. */
export interface RedisOptions {
  readonly connection: RedisConnection;
  readonly prefix?: string | undefined;
  /** A decision waiting longer than this on Redis denies. Default 1000 ms. */
  readonly commandTimeoutMs?: number | undefined;
}

/** What {@link openDecisionBackend} needs. */
export interface DecisionBackendOptions {
  readonly config: AuthConfig;
  readonly redis: RedisOptions | undefined;
  readonly limits: Partial<RequestLimits> | undefined;
  readonly maxSubscribers: number;
  readonly subscriberBuffer: number;
  readonly auditRetain: number | undefined;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  /** The engine's and memory store's clock (tests); default the system clock. */
  readonly clock?: Clock | undefined;
  /** Sinks that see this engine's own records whether audit is on or not (approval callbacks). */
  readonly extraSinks?: readonly AuditSink[] | undefined;
}

/** The engine with its store, its audit sinks and the audit hub its subscribers read. */
export interface DecisionBackend {
  readonly engine: AuthEngine;
  readonly store: StateStore;
  /** The Redis store, in Redis mode. */
  readonly redis: RedisStore | undefined;
  readonly hub: AuditHub;
  /**
   * The JSONL audit file's health, when audit is on; `isRecord` when it is
   * the audit record (memory store) rather than a copy of the Redis stream.
   */
  readonly auditFile: { readonly health: () => SinkHealth; readonly isRecord: boolean } | undefined;
  /**
   * Stops the relay, then closes the engine (its sinks), the hub and the
   * store — by `deadline` (ms since the epoch) whatever Redis or the disk do:
   * audit records not written by then are given up (counted as dropped or
   * not written, and logged) and Redis connections are cut.
   */
  close(deadline?: number): Promise<void>;
}

/**
 * Builds what decides and records: the memory store, or Redis (with its
 * shared audit stream, relayed into this process's hub); the JSONL file (the
 * record in memory mode, a convenience copy beside the stream in Redis mode);
 * and the engine over them.
 */
export async function openDecisionBackend(o: DecisionBackendOptions): Promise<DecisionBackend> {
  const { config, logger, metrics } = o;
  const auditOn = config.audit.enabled;
  let store: StateStore;
  let redis: RedisStore | undefined;
  if (o.redis !== undefined) {
    redis = createRedisStore({
      connection: o.redis.connection,
      prefix: o.redis.prefix,
      ...(o.redis.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: o.redis.commandTimeoutMs }),
      audit: auditOn ? { durability: config.audit.durability, streamMaxLength: config.audit.streamMaxLength } : undefined,
      onError: rateLimited(logger, "state store error"),
      onAuditDropped: (count, error) => {
        metrics.auditDropped.inc({ sink: "stream" }, count);
        logger.error("audit records dropped: Redis did not take them (retried until given up, or cut off by shutdown)", { count, error: String(error) });
      },
    });
    store = redis;
    if (auditOn) metrics.auditDropped.inc({ sink: "stream" }, 0);
    try {
      await redis.ready(5000);
    } catch (error) {
      // Serve anyway: decisions that need state deny until Redis answers, and health says so.
      logger.warn("Redis is not reachable yet; decisions that need state are denied until it is", { error: String(error) });
    }
  } else {
    store = createMemoryStore(o.clock === undefined ? {} : { clock: o.clock });
  }
  const stream = redis?.audit;

  const hub = new AuditHub({
    ...(stream !== undefined ? { history: streamHistory(stream, rateLimited(logger, "audit stream entry")) } : {}),
    maxSubscribers: o.maxSubscribers,
    subscriberBuffer: o.subscriberBuffer,
    ...(o.auditRetain === undefined ? {} : { retain: o.auditRetain }),
    // Entries relayed from the shared stream arrive with a delay worth watching; local ones have none.
    ...(stream === undefined
      ? {}
      : {
          onPublish: (entry: { cursor: string }) => {
            const ms = parseCursor(entry.cursor)?.[0];
            if (ms !== undefined) metrics.auditLagSeconds.set(Math.max(0, Date.now() - ms) / 1000);
          },
        }),
  });
  const sinks: AuditSink[] = [];
  let auditFile: DecisionBackend["auditFile"];
  if (auditOn) {
    // With Redis the stream is the record that durability governs; the local file is a copy that
    // must never hold a decision back or deny it. Without Redis the file is the record.
    const isRecord = redis === undefined;
    const file = createJsonlFileSink(config.audit.path, {
      durability: config.audit.durability,
      role: isRecord ? "record" : "copy",
      bufferBytes: config.audit.bufferBytes,
      ...auditFileAlerts(logger, metrics, config.audit.path),
    });
    sinks.push(file);
    auditFile = { health: () => file.health(), isRecord };
    metrics.watchAuditFile(auditFile.health);
    // In memory mode this process's decisions feed its subscribers directly; with Redis they come back through the stream.
    if (stream === undefined) sinks.push(hub);
    else sinks.push(stream);
  }
  sinks.push(...(o.extraSinks ?? []));
  const engine = new AuthEngine(config, {
    store,
    ...(o.clock === undefined ? {} : { clock: o.clock }),
    audit: sinks,
    // With sync durability a decision's state read and its record are one call.
    sameTripAudit: stream?.durability === "sync" ? stream : undefined,
    ...(o.limits === undefined ? {} : { limits: o.limits }),
    onError: rateLimited(logger, "decision failed closed"),
    // Failures are counted before the engine denies.
    onStateRead: (ms, ok) => {
      if (!ok) metrics.storeErrors.inc();
      metrics.observeStateRead(ms / 1000);
    },
  });
  let relay: AuditRelay | undefined;
  if (stream !== undefined) relay = await startAuditRelay(stream, hub, { onError: rateLimited(logger, "audit relay error") });
  return {
    engine,
    store,
    redis,
    hub,
    auditFile,
    async close(deadline = Infinity) {
      redis?.audit?.giveUpAt(deadline);
      // A blocked stream read ends when the store's connections close below.
      await within(relay?.stop(), deadline);
      await within(engine.close(deadline === Infinity ? {} : { timeoutMs: Math.max(0, deadline - Date.now()) }), deadline);
      await hub.close();
      if (!(await within(store.close(), deadline))) redis?.disconnect();
    },
  };
}
