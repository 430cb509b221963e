import { startAgentAuthServer } from "../../server/app/start-server.ts";
import { parseRedisTarget } from "../../state/redis/redis-target.ts";
import { createJsonLogger } from "../../server/logger.ts";
import { intOption, parseCommandArgs } from "../args.ts";
import type { GlobalOptions } from "../main.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIo } from "../io.ts";
import { loadPolicyOrReport, printWarnings } from "../load-policy.ts";
import { dirname, join } from "node:path";
import { DEFAULT_SERVER_CONFIG, isServerConfigError, loadServerConfig, type ServerConfig } from "../../server/server-config.ts";

/**
 * `agent-auth -c FILE serve [--host H] [--port P] [--tls-cert F --tls-key F
 * [--tls-client-ca F]] [--redis URL] [--max-batch N] [--server-config F]`:
 * serves until SIGTERM or SIGINT, then stops gracefully (no new calls, calls
 * in flight finish, audit flushed) and exits 0. SIGHUP reloads the policy.
 */
export async function serveCommand(io: CliIo, g: GlobalOptions, args: readonly string[]): Promise<number> {
  const v = parseCommandArgs("serve", args, {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "50051" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    "tls-client-ca": { type: "string" },
    redis: { type: "string" },
    "redis-prefix": { type: "string" },
    "max-batch": { type: "string" },
    "grace-ms": { type: "string" },
    "server-config": { type: "string" },
  });
  const port = intOption("serve", "port", v.port) ?? 50051;
  if (port < 0 || port > 65535) throw new UsageError(`serve: --port must be between 0 and 65535, got ${port}`);
  if ((v["tls-cert"] === undefined) !== (v["tls-key"] === undefined)) throw new UsageError("serve: --tls-cert and --tls-key go together");
  if (v["tls-client-ca"] !== undefined && v["tls-cert"] === undefined) throw new UsageError("serve: --tls-client-ca needs --tls-cert and --tls-key");
  const serverConfigPath = v["server-config"] ?? (io.env["AGENT_AUTH_SERVER_CONFIG"] || undefined);
  let sc: ServerConfig = DEFAULT_SERVER_CONFIG;
  if (serverConfigPath !== undefined) {
    try {
      sc = loadServerConfig(serverConfigPath);
    } catch (error) {
      if (!isServerConfigError(error)) throw error;
      io.stderr(`${error.message}\n`);
      return EXIT_FAILURE;
    }
  }
  const maxBatch = intOption("serve", "max-batch", v["max-batch"]) ?? sc.limits.maxBatch;
  if (maxBatch < 1) throw new UsageError("serve: --max-batch must be >= 1");
  const grace = intOption("serve", "grace-ms", v["grace-ms"]) ?? 10_000;
  const redisUrl = v.redis ?? g.redis;

  const configLimits = { expression: sc.limits.expression };
  const loaded = loadPolicyOrReport(io, g.configPath, configLimits);
  if (loaded === undefined) return EXIT_FAILURE;
  printWarnings(io, loaded.warnings);
  const logger = createJsonLogger(io.stderr);
  const server = await startAgentAuthServer({
    config: loaded.config,
    host: v.host ?? "127.0.0.1",
    port,
    tls: v["tls-cert"] === undefined ? undefined : { cert: v["tls-cert"], key: v["tls-key"]!, clientCa: v["tls-client-ca"] },
    redis: redisUrl === undefined ? undefined : { connection: parseRedisTarget(redisUrl), prefix: v["redis-prefix"] ?? g.redisPrefix, commandTimeoutMs: sc.redis.commandTimeoutMs },
    maxBatch,
    maxMessageBytes: sc.limits.maxMessageBytes,
    limits: { maxStringLength: sc.limits.maxStringLength, maxMetadataEntries: sc.limits.maxMetadataEntries, maxMetadataDepth: sc.limits.maxMetadataDepth },
    maxSubscribers: sc.limits.maxSubscribers,
    subscriberBuffer: sc.limits.subscriberBuffer,
    callers: sc.callers,
    refusalLog: sc.callers.length === 0 ? undefined : (sc.refusalLog ?? join(dirname(loaded.config.audit.path), "refusals.jsonl")),
    metrics: sc.metrics,
    policyFile: { path: g.configPath, watch: sc.reload.watch, limits: configLimits },
    logger,
  });
  logger.info("serving", {
    address: server.address,
    config: g.configPath,
    revision: server.engine.revision,
    store: server.store.kind,
    tls: v["tls-cert"] === undefined ? "off" : v["tls-client-ca"] === undefined ? "tls" : "mutual",
    callers: sc.callers.length === 0 ? "any (no caller authentication)" : sc.callers.map((c) => c.name),
    ...(server.metricsEndpoint === undefined ? {} : { metrics: `http://${server.metricsEndpoint.address}/metrics` }),
    watch: sc.reload.watch,
  });
  const onHup = (): void => void server.reloader?.reload("SIGHUP");
  process.on("SIGHUP", onHup);
  await new Promise<void>((resolve) => {
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
  await server.close(grace);
  logger.info("stopped");
  return EXIT_OK;
}
