import { dirname, join } from "node:path";
import { isConfigError, loadConfigWithWarnings, type ConfigIssue } from "../../config/index.ts";
import { startAgentAuthServer, type AgentAuthServer } from "../../server/app/start-server.ts";
import { routeGrpcLogs } from "../../server/grpc/route-logs.ts";
import { createLogger, type LogFormat, type Logger } from "../../server/logger.ts";
import { DEFAULT_SERVER_CONFIG, isServerConfigError, loadServerConfig, type ServerConfig } from "../../server/server-config.ts";
import { parseRedisTarget } from "../../state/redis/redis-target.ts";
import { intOption } from "../args.ts";
import { parseCommandArgs } from "../command-spec.ts";
import type { GlobalOptions } from "../global-options.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, isUsageError, UsageError, type CliIo } from "../io.ts";
import { formatIssue, policyEnv } from "../load-policy.ts";
import { serveSpec } from "../specs/serve.ts";

/**
 * `agent-auth -c FILE serve [--host H] [--port P] [--http-port P] [--tls-cert F --tls-key F
 * [--tls-client-ca F]] [--redis URL] [--max-batch N] [--server-config F]
 * [--log-format pretty|json]`: serves until SIGTERM or SIGINT, then stops
 * gracefully (no new calls, calls in flight finish, audit flushed) and exits
 * 0. SIGHUP reloads the policy and the server config's callers. Every line it writes goes through its logger,
 * so a JSON log is one object per line, errors included.
 */
export async function serveCommand(io: CliIo, g: GlobalOptions, args: readonly string[]): Promise<number> {
  const { values: v } = parseCommandArgs(serveSpec, args);
  const format = v["log-format"] ?? (io.interactive === true ? "pretty" : "json");
  if (format !== "pretty" && format !== "json") throw new UsageError(`serve: --log-format must be 'pretty' or 'json', got '${format}'`, "serve");
  const logger = createLogger(format as LogFormat, io.stderr, { color: io.interactive === true && io.env["NO_COLOR"] === undefined });
  routeGrpcLogs(logger);
  // Node's own warnings (deprecations and the like) go through the logger too: one format per line.
  process.removeAllListeners("warning");
  process.on("warning", (w) => logger.warn("node warning", { name: w.name, message: w.message }));
  try {
    return await serve(io, g, v, logger);
  } catch (error) {
    if (isUsageError(error)) {
      logger.error(error.message, { hint: "run 'agent-auth serve --help' for usage" });
      return EXIT_USAGE;
    }
    const friendly = startFailure(error, v.host ?? "127.0.0.1", v.port ?? "50051");
    logger.error(friendly?.message ?? (error instanceof Error ? error.message : String(error)), friendly === undefined ? {} : { hint: friendly.hint });
    return EXIT_FAILURE;
  }
}

type ServeValues = ReturnType<typeof parseCommandArgs<(typeof serveSpec)["options"]>>["values"];

async function serve(io: CliIo, g: GlobalOptions, v: ServeValues, logger: Logger): Promise<number> {
  const port = intOption("serve", "port", v.port) ?? 50051;
  if (port < 0 || port > 65535) throw new UsageError(`serve: --port must be between 0 and 65535, got ${port}`, "serve");
  if ((v["tls-cert"] === undefined) !== (v["tls-key"] === undefined)) throw new UsageError("serve: --tls-cert and --tls-key go together", "serve");
  if (v["tls-client-ca"] !== undefined && v["tls-cert"] === undefined) throw new UsageError("serve: --tls-client-ca needs --tls-cert and --tls-key", "serve");
  const serverConfigPath = v["server-config"] ?? (io.env["AGENT_AUTH_SERVER_CONFIG"] || undefined);
  let sc: ServerConfig = DEFAULT_SERVER_CONFIG;
  if (serverConfigPath !== undefined) {
    try {
      sc = loadServerConfig(serverConfigPath, io.env);
    } catch (error) {
      if (!isServerConfigError(error)) throw error;
      logger.error("invalid server config", { file: serverConfigPath, problems: error.message.split("\n").map((l) => l.trim()).filter(Boolean) });
      return EXIT_FAILURE;
    }
  }
  const httpPort = intOption("serve", "http-port", v["http-port"]);
  if (httpPort !== undefined && (httpPort < 0 || httpPort > 65535)) throw new UsageError(`serve: --http-port must be between 0 and 65535, got ${httpPort}`, "serve");
  // --http-port turns the listener on (or moves it); the server config's http section gives the rest.
  const http = httpPort !== undefined ? { host: sc.http?.host, port: httpPort, policyDecisionPoint: sc.http?.policyDecisionPoint, signingKey: sc.http?.signingKey, console: sc.http?.console } : sc.http;
  const maxBatch = intOption("serve", "max-batch", v["max-batch"]) ?? sc.limits.maxBatch;
  if (maxBatch < 1) throw new UsageError("serve: --max-batch must be >= 1", "serve");
  const grace = intOption("serve", "grace-ms", v["grace-ms"]) ?? 10_000;
  const redisUrl = v.redis ?? g.redis;

  const configLimits = { expression: sc.limits.expression };
  let loaded;
  try {
    loaded = loadConfigWithWarnings(g.configPath, { limits: configLimits, ...policyEnv(io) });
  } catch (error) {
    if (!isConfigError(error)) throw error;
    logWarnings(logger, g.configPath, error.warnings);
    for (const issue of error.issues) logger.error("policy error", { file: g.configPath, problem: formatIssue(issue), ...(issue.line === undefined ? {} : { line: issue.line }) });
    logger.error("the policy file is invalid; not serving", { file: g.configPath, problems: error.issues.length });
    return EXIT_FAILURE;
  }
  logWarnings(logger, g.configPath, loaded.warnings);
  const server = await startAgentAuthServer({
    config: loaded.config,
    host: v.host ?? "127.0.0.1",
    port,
    tls: v["tls-cert"] === undefined ? undefined : { cert: v["tls-cert"], key: v["tls-key"]!, clientCa: v["tls-client-ca"] },
    redis: redisUrl === undefined ? undefined : { connection: parseRedisTarget(redisUrl), prefix: v["redis-prefix"] ?? g.redisPrefix, commandTimeoutMs: sc.redis.commandTimeoutMs },
    maxBatch,
    maxMessageBytes: sc.limits.maxMessageBytes,
    limits: {
      maxStringLength: sc.limits.maxStringLength,
      maxMetadataEntries: sc.limits.maxMetadataEntries,
      maxMetadataDepth: sc.limits.maxMetadataDepth,
      maxPatternLength: sc.limits.maxPatternLength,
      maxPatternWildcards: sc.limits.maxPatternWildcards,
      maxNameLength: sc.limits.maxNameLength,
      maxDelegatedPatterns: sc.limits.maxDelegatedPatterns,
    },
    maxSubscribers: sc.limits.maxSubscribers,
    subscriberBuffer: sc.limits.subscriberBuffer,
    callers: sc.callers,
    refusalLog: sc.callers.length === 0 ? undefined : (sc.refusalLog ?? join(dirname(loaded.config.audit.path), "refusals.jsonl")),
    metrics: sc.metrics,
    http,
    approvalCallbacks: sc.approvals,
    policyFile: { path: g.configPath, watch: sc.reload.watch, settleMs: sc.reload.settleMs, limits: configLimits, ...policyEnv(io) },
    logger,
  });
  // Signals are taken before "serving" is announced: whoever waits for that line may signal at once.
  const onHup = (): void => {
    server.reloader?.reload("SIGHUP");
    if (serverConfigPath !== undefined) reloadCallers(server, serverConfigPath, io.env, logger);
  };
  process.on("SIGHUP", onHup);
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info("shutting down", { signal });
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
      process.off("SIGHUP", onHup);
      resolve();
    };
    const onTerm = (): void => stop("SIGTERM");
    const onInt = (): void => stop("SIGINT");
    process.on("SIGTERM", onTerm);
    process.on("SIGINT", onInt);
  });
  logger.info("serving", {
    address: server.address,
    config: g.configPath,
    revision: server.engine.revision,
    store: server.store.kind,
    tls: v["tls-cert"] === undefined ? "off" : v["tls-client-ca"] === undefined ? "tls" : "mutual",
    callers: sc.callers.length === 0 ? "any (no caller authentication)" : sc.callers.map((c) => c.name),
    ...(server.http === undefined ? {} : { http: server.http.url }),
    ...(server.metricsEndpoint === undefined ? {} : { metrics: `http://${server.metricsEndpoint.address}/metrics` }),
    watch: sc.reload.watch,
  });
  await stopped;
  await server.close(grace);
  logger.info("stopped");
  return EXIT_OK;
}

/**
 * Reads the server config file again and installs its callers (SIGHUP); the
 * rest of the file is read only at start. An invalid file, or callers that
 * would turn caller authentication on or off, keep the old callers and are
 * logged as errors.
 */
function reloadCallers(server: AgentAuthServer, path: string, env: Readonly<Record<string, string | undefined>>, logger: Logger): void {
  let sc: ServerConfig;
  try {
    sc = loadServerConfig(path, env);
  } catch (error) {
    if (!isServerConfigError(error)) {
      logger.error("cannot reload the server config; callers unchanged", { file: path, error: error instanceof Error ? error.message : String(error) });
      return;
    }
    logger.error("invalid server config; callers unchanged", { file: path, problems: error.message.split("\n").map((l) => l.trim()).filter(Boolean) });
    return;
  }
  const result = server.replaceCallers(sc.callers);
  if (!result.ok) {
    logger.error("callers not reloaded; callers unchanged", { file: path, reason: result.reason });
    return;
  }
  logger.info("callers reloaded", { file: path, trigger: "SIGHUP", callers: sc.callers.map((c) => c.name) });
}

function logWarnings(logger: Logger, file: string, warnings: readonly ConfigIssue[]): void {
  for (const w of warnings) logger.warn("policy warning", { file, problem: formatIssue(w), ...(w.line === undefined ? {} : { line: w.line }) });
}

/** A failure to start said plainly: the port is taken, or a TLS file is wrong. */
function startFailure(error: unknown, host: string, port: string): { message: string; hint: string } | undefined {
  const text = error instanceof Error ? error.message : String(error);
  if (/EADDRINUSE/.test(text)) return { message: `port ${port} on ${host} is already in use`, hint: "another server (perhaps another agent-auth serve) listens there: stop it or choose another --port" };
  if (/EACCES/.test(text)) return { message: `not allowed to listen on ${host}:${port}`, hint: "ports below 1024 need privileges: choose another --port" };
  if (/EADDRNOTAVAIL|ENOTFOUND/.test(text)) return { message: `cannot listen on ${host}: no such local address`, hint: "give --host an address of this machine (127.0.0.1, 0.0.0.0, ::)" };
  if (/^the TLS |TLS private key/.test(text) || /cannot read the TLS/.test(text)) return { message: text, hint: "--tls-cert and --tls-key take PEM files (certificate, unencrypted private key)" };
  return undefined;
}
