import { status } from "@grpc/grpc-js";
import type { AuditHub } from "../../audit/hub.ts";
import type { AuthConfig, ConfigLimits } from "../../config/index.ts";
import type { AuthEngine } from "../../engine/auth-engine.ts";
import type { Clock } from "../../model/clock.ts";
import type { RequestLimits } from "../../model/request.ts";
import type { StateStore } from "../../state/store.ts";
import { createCallerCheck, type CallerCheck } from "../callers.ts";
import type { CallHooks } from "../grpc/adapter.ts";
import { grpcCallerHook } from "../grpc/caller-hook.ts";
import { startGrpcServer, type RunningGrpcServer } from "../grpc/server.ts";
import type { TlsFiles } from "../grpc/tls.ts";
import type { ServiceContext } from "../handlers/context.ts";
import { startHttpListener, type RunningHttpListener } from "../http/listener.ts";
import { ephemeralSigningKey, loadSigningKey, type SigningKeyConfig } from "../http/signing-key.ts";
import { createJsonLogger, type Logger } from "../logger.ts";
import { ServerMetrics, serveMetrics, type MetricsEndpoint } from "../metrics.ts";
import { PolicyReloader } from "../reload.ts";
import type { CallerConfig } from "../server-config.ts";
import { openDecisionBackend, type RedisOptions } from "./decision-backend.ts";
import { compileCallbackAllowList, CallbackDelivery, approvalCallbackSink, type ApprovalCallbackConfig } from "./approval-callbacks.ts";
import { hostedServices } from "./grpc-services.ts";
import { httpRouteGroups } from "./http-routes.ts";
import { watchHealth } from "./health-watch.ts";
import { createRefusalReporter, type RefusalReporter } from "./refusals.ts";
import { ReplicaAnnouncer } from "./replica-announcer.ts";
import { within } from "./within.ts";

/** Options for {@link startAgentAuthServer}. */
export interface AgentAuthServerOptions {
  readonly config: AuthConfig;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 50051; 0 picks a free port. */
  readonly port?: number;
  readonly tls?: TlsFiles | undefined;
  /** Shared state in Redis; without it the embedded memory store is used. */
  readonly redis?: RedisOptions | undefined;
  /** Largest AuthorizeBatch. Default 1000. */
  readonly maxBatch?: number;
  /** Largest request message. Default 4 MiB. */
  readonly maxMessageBytes?: number;
  readonly limits?: Partial<RequestLimits>;
  /** Live subscribers per process. Default 1000. */
  readonly maxSubscribers?: number;
  /** Events a subscriber may lag behind before its stream ends. Default 4096. */
  readonly subscriberBuffer?: number;
  /**
   * How long an ended audit stream may take to deliver its status behind
   * data its client has not read, before the stream is reset. Default 1000 ms.
   */
  readonly streamEndTimeoutMs?: number;
  /** Decisions kept for resuming subscribers and Query in memory mode. Default 10,000. */
  readonly auditRetain?: number;
  readonly logger?: Logger;
  /** The engine's clock, for tests and simulations with the memory store. Default: the system clock. */
  readonly clock?: Clock | undefined;
  /**
   * Named callers and their RPC groups. When given (non-empty), every call
   * must identify a caller by bearer token or client certificate.
   */
  readonly callers?: readonly CallerConfig[] | undefined;
  /** Refused calls are appended here as JSON lines (besides the log). Default: none. */
  readonly refusalLog?: string | undefined;
  /**
   * Serve the AuthZEN HTTP API (and later the console) on this address, with
   * the same engine, callers and TLS as gRPC. Off when absent.
   */
  readonly http?: HttpOptions | undefined;
  /**
   * Unauthenticated refusals after the first of a burst are written as one
   * summary line per this many ms (they are all counted in metrics). Default 10,000.
   */
  readonly refusalSummaryMs?: number;
  /**
   * Approval callbacks (the server config's `approvals:` section): allowed
   * URLs, signing secret, retries. Without it, RequestApproval refuses a
   * callback URL.
   */
  readonly approvalCallbacks?: ApprovalCallbackConfig | undefined;
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
        /** How long a changed file must stay unchanged before the watch reads it. Default 1000 ms. */
        readonly settleMs?: number;
        readonly env?: Readonly<Record<string, string | undefined>>;
        /** Variables that may be interpolated, by name prefix; undefined: all. */
        readonly envPrefixes?: readonly string[] | undefined;
        readonly limits?: Partial<ConfigLimits>;
      }
    | undefined;
}

/** The HTTP listener's address and how it is published. */
export interface HttpOptions {
  /** Default: the gRPC host. */
  readonly host?: string | undefined;
  /** 0 picks a free port. */
  readonly port: number;
  /**
   * The base URL clients reach the listener at (behind a proxy), published
   * as `policy_decision_point` in discovery. Default: each request's own
   * scheme and Host.
   */
  readonly policyDecisionPoint?: string | undefined;
  /**
   * The Ed25519 private key (PEM, PKCS #8) that signs access-request binding
   * tokens, and its `kid` (default: its JWK thumbprint). Without it a key is
   * generated at start, with a warning: tokens then die with the process and
   * other replicas cannot verify them.
   */
  readonly signingKey?: SigningKeyConfig | undefined;
  /** The web console at /console/ (on unless `enabled: false`; see docs/console.md). */
  readonly console?: ConsoleOptions | undefined;
}

/** How the web console is served. */
export interface ConsoleOptions {
  /** Default true. */
  readonly enabled?: boolean | undefined;
  /** How long a sign-in lasts. Default 480 (8 hours). */
  readonly sessionMinutes?: number | undefined;
  /** Mark cookies Secure even without TLS here (a proxy in front terminates TLS). Default: only with TLS. */
  readonly secureCookies?: boolean | undefined;
}

/** A running agent-auth server. */
export interface AgentAuthServer {
  readonly port: number;
  readonly address: string;
  readonly engine: AuthEngine;
  readonly hub: AuditHub;
  readonly store: StateStore;
  readonly grpc: RunningGrpcServer;
  /** The HTTP listener, when asked for. */
  readonly http: RunningHttpListener | undefined;
  readonly metrics: ServerMetrics;
  /** The Prometheus endpoint, when asked for. */
  readonly metricsEndpoint: MetricsEndpoint | undefined;
  /** Reloads the policy file, when the server was given one. */
  readonly reloader: PolicyReloader | undefined;
  /**
   * Replaces the callers (a server config reloaded on SIGHUP) for every call
   * checked from then on, on gRPC and HTTP alike. Refused — returning why,
   * the old callers staying — when it would turn caller authentication on or
   * off, which only a restart does.
   */
  replaceCallers(callers: readonly CallerConfig[]): { readonly ok: true } | { readonly ok: false; readonly reason: string };
  /**
   * Graceful stop: refuse new calls, end audit streams, let calls in flight
   * finish, flush audit records, close the store — all within `graceMs`,
   * whatever Redis or the disk do (records not written by then are counted
   * and logged).
   */
  close(graceMs?: number): Promise<void>;
}

/** Health service name that reports whether the policy file on disk is the one served. */
export const POLICY_HEALTH = "agentauth.policy";

/** Starts the decision service for a validated config: gRPC, and the AuthZEN HTTP API when `http` is given. */
export async function startAgentAuthServer(options: AgentAuthServerOptions): Promise<AgentAuthServer> {
  const logger = options.logger ?? createJsonLogger();
  const config = options.config;
  const metrics = new ServerMetrics();
  const callbackConfig = options.approvalCallbacks;
  const delivery = callbackConfig === undefined ? undefined : new CallbackDelivery({ config: callbackConfig, logger });
  let engineRef: AuthEngine | undefined;
  const backend = await openDecisionBackend({
    // The replica that makes an approval transition delivers its callback.
    extraSinks: delivery === undefined ? [] : [approvalCallbackSink((id) => engineRef!.getApproval(id), delivery, logger)],
    config,
    redis: options.redis,
    limits: options.limits,
    maxSubscribers: options.maxSubscribers ?? 1000,
    subscriberBuffer: options.subscriberBuffer ?? 4096,
    auditRetain: options.auditRetain,
    logger,
    metrics,
    clock: options.clock,
  });
  const { engine, store, hub } = backend;
  engineRef = engine;

  let grpc: RunningGrpcServer | undefined;
  let address = "";
  const reloader = options.policyFile === undefined ? undefined : policyReloader(options.policyFile, engine, logger, metrics, () => grpc, () => replicas.announce());
  const replicas = new ReplicaAnnouncer(backend.redis?.replicas, () => ({ address, revision: engine.revision, reloadErrors: reloader?.errors ?? [] }));
  metrics.setPolicy(engine.revision, config.metadata.name, config.version);
  metrics.reloadFailing.set(0);
  metrics.sources = { subscribers: () => hub.subscriberCount, storeUp: () => store.health().ok };

  const refusals = createRefusalReporter({
    logger,
    metrics,
    path: options.refusalLog,
    ...(options.refusalSummaryMs === undefined ? {} : { summaryMs: options.refusalSummaryMs }),
  });
  // One check for both transports: the same callers, groups and refusal reports.
  const callerCheck = options.callers !== undefined && options.callers.length > 0 ? createCallerCheck(options.callers, (r) => refusals.report(r)) : undefined;
  const ctx: ServiceContext = {
    engine,
    hub,
    maxBatch: options.maxBatch ?? 1000,
    logger,
    metrics,
    reloader,
    replicas: () => replicas.list(),
    configLimits: options.policyFile?.limits,
    callerCheck,
    callbacks: callbackConfig === undefined ? undefined : compileCallbackAllowList(callbackConfig.allow),
  };
  try {
    grpc = await startGrpcServer({
      ...(options.host === undefined ? {} : { host: options.host }),
      ...(options.port === undefined ? {} : { port: options.port }),
      tls: options.tls,
      // grpc-js cuts off anything far over the limit; between the two, the adapter answers naming the limit.
      maxReceiveMessageBytes: 2 * (options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES) + 64 * 1024,
      services: hostedServices(ctx, callHooks(options, logger, callerCheck, metrics)),
    });
  } catch (error) {
    // Nothing may stay open behind a server that never started (a taken port, a bad TLS file).
    reloader?.close();
    await backend.close();
    throw error;
  }
  const running = grpc;
  let http: RunningHttpListener | undefined;
  if (options.http !== undefined) {
    try {
      const configuredKey = options.http.signingKey;
      const signingKey = configuredKey === undefined ? ephemeralSigningKey() : loadSigningKey(configuredKey);
      if (signingKey.ephemeral) {
        logger.warn("http.signing_key is not set: access-request binding tokens are signed with a key generated at start; they stop verifying after a restart and on other replicas", { kid: signingKey.kid });
      }
      http = await startHttpListener({
        host: options.http.host ?? options.host,
        port: options.http.port,
        tls: options.tls,
        maxBodyBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
        maxRequestIdLength: engine.limits.maxStringLength,
        logger,
        onResponse: (route, status, seconds) => metrics.observeHttp(route, status, seconds),
        groups: httpRouteGroups({
          engine,
          maxBatch: ctx.maxBatch,
          metrics,
          callerCheck,
          policyDecisionPoint: options.http.policyDecisionPoint,
          scheme: options.tls === undefined ? "http" : "https",
          fallbackHost: () => http?.address ?? "localhost",
          signingKey,
          callbacks: ctx.callbacks,
          logger,
          maxBodyBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
          console:
            options.http.console?.enabled === false
              ? undefined
              : {
                  hub,
                  store,
                  reloader,
                  replicas: () => replicas.list(),
                  auditFile: backend.auditFile,
                  secure: options.tls !== undefined || options.http.console?.secureCookies === true,
                  sessionMinutes: options.http.console?.sessionMinutes,
                  logger,
                },
        }),
      });
    } catch (error) {
      // The gRPC port is bound already: release everything before reporting.
      await running.shutdown(0);
      reloader?.close();
      await backend.close();
      throw error;
    }
  }
  const httpListener = http;
  address = running.address;
  const stopWatching = watchHealth({ store, auditFile: backend.auditFile, health: running.health, logger });
  running.health.setExtra(POLICY_HEALTH, "SERVING");
  if (options.policyFile?.watch === true) reloader?.watch();
  const metricsEndpoint = options.metrics === undefined ? undefined : await serveMetrics(metrics, options.metrics.host, options.metrics.port);
  replicas.start(running.port);

  let closing: Promise<void> | undefined;
  return {
    port: running.port,
    address: running.address,
    engine,
    hub,
    store,
    grpc: running,
    http: httpListener,
    metrics,
    metricsEndpoint,
    reloader,
    replaceCallers: (callers) => {
      if (callerCheck === undefined) {
        return callers.length === 0 ? { ok: true } : { ok: false, reason: "the server was started without caller authentication; restart it to turn caller authentication on" };
      }
      if (callers.length === 0) return { ok: false, reason: "no callers: caller authentication cannot be turned off without a restart" };
      callerCheck.replace(callers);
      return { ok: true };
    },
    close: (graceMs = 10_000) =>
      (closing ??= (async () => {
        const deadline = Date.now() + graceMs;
        stopWatching();
        await within(replicas.stop(), deadline);
        reloader?.close();
        const left = Math.max(0, deadline - Date.now());
        const shutdown = Promise.all([running.shutdown(left), httpListener?.close(left)]);
        // Open audit streams would otherwise hold the shutdown for the whole grace period.
        hub.closeAll();
        await shutdown;
        await backend.close(deadline);
        refusals.close();
        await metricsEndpoint?.close();
      })()),
  };
}

const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Caller checks, size limit, logging and metrics around every call. */
function callHooks(options: AgentAuthServerOptions, logger: Logger, callerCheck: CallerCheck | undefined, metrics: ServerMetrics): CallHooks {
  return {
    maxRequestBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    ...(options.streamEndTimeoutMs === undefined ? {} : { streamEndTimeoutMs: options.streamEndTimeoutMs }),
    ...(callerCheck === undefined ? {} : { before: grpcCallerHook(callerCheck) }),
    onInternalError: (error, call) => logger.error("internal error", { method: call.method, peer: call.peer, error }),
    onDone: (call, code, durationMs) => metrics.observeCall(call.method, STATUS_NAMES[code] ?? String(code), durationMs / 1000),
  };
}

/** Reloads the policy file; each result updates metrics, the policy health entry and the replica registry. */
function policyReloader(
  file: NonNullable<AgentAuthServerOptions["policyFile"]>,
  engine: AuthEngine,
  logger: Logger,
  metrics: ServerMetrics,
  grpc: () => RunningGrpcServer | undefined,
  announce: () => void,
): PolicyReloader {
  return new PolicyReloader({
    path: file.path,
    engine,
    logger,
    ...(file.env === undefined ? {} : { env: file.env }),
    ...(file.envPrefixes === undefined ? {} : { envPrefixes: file.envPrefixes }),
    ...(file.limits === undefined ? {} : { limits: file.limits }),
    ...(file.settleMs === undefined ? {} : { settleMs: file.settleMs }),
    onResult: (result) => {
      metrics.reloads.inc({ result: !result.ok ? "error" : result.changed ? "ok" : "unchanged" });
      metrics.reloadFailing.set(result.ok ? 0 : 1);
      const p = engine.policy;
      metrics.setPolicy(p.revision, p.config.metadata.name, p.config.version);
      grpc()?.health.setExtra(POLICY_HEALTH, result.ok ? "SERVING" : "NOT_SERVING");
      announce();
    },
  });
}

const STATUS_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(status).filter(([, v]) => typeof v === "number").map(([k, v]) => [v, k]));
