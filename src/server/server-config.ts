/**
 * The server's own configuration (`agent-auth serve --server-config FILE`):
 * who may call which RPCs, the limits on what they send, where metrics are
 * served and whether the policy file is watched. It is separate from the
 * policy file, which stays the original's format.
 *
 *   callers:
 *     orchestrator:
 *       tokens_sha256: [9f86d081884c7d65…]      # SHA-256 of the bearer token, hex
 *       groups: [authorize, sessions]
 *     auditor:
 *       certificates: ["CN=auditor", "URI:spiffe://acme/auditor"]
 *       groups: [audit]
 *   limits: {max_string_length: 4096, max_batch: 1000}
 *   metrics: {host: 127.0.0.1, port: 9464}
 *   http: {host: 127.0.0.1, port: 8080, policy_decision_point: https://pdp.example.com,
 *          signing_key: /etc/agent-auth/pdp-ed25519.pem, signing_key_id: pdp-2026-01,
 *          console: {enabled: true, session_minutes: 480, secure_cookies: false}}
 *   reload: {watch: true, settle_ms: 1000}
 *   refusal_log: /var/log/agent-auth/refusals.jsonl
 *   redis: {command_timeout_ms: 1000}
 *   approvals:
 *     callback_allow: ["https://hooks.example.com/agent-auth/*"]
 *     callback_secret_env: AGENT_AUTH_CALLBACK_SECRET   # or callback_secret: …
 */
import { readFileSync } from "node:fs";
import { load } from "js-yaml";
import { DEFAULT_REQUEST_LIMITS, MAX_METADATA_DEPTH, type RequestLimits } from "../model/request.ts";
import { DEFAULT_EXPRESSION_LIMITS, MAX_EXPRESSION_DEPTH, type ExpressionLimits } from "../expr/index.ts";
import { normalizePolicyDecisionPoint } from "./http/authzen/discovery-route.ts";
import { CALLBACK_DEFAULTS, callbackPatternProblem, type ApprovalCallbackConfig } from "./app/approval-callbacks.ts";

/**
 * What a caller may be granted: one group per service, and for approvals
 * three: `approvals` (request, read, list, watch, cancel), `approve` (decide
 * as oneself) and `approvals-relay` (decide naming the approver).
 */
export const RPC_GROUPS = ["authorize", "sessions", "delegations", "audit", "policy", "approvals", "approve", "approvals-relay"] as const;
/** One RPC group (see {@link RPC_GROUPS}). */
export type RpcGroup = (typeof RPC_GROUPS)[number];

/** A named caller, recognised by a bearer token or a client certificate. */
export interface CallerConfig {
  readonly name: string;
  /** Lower-case hex SHA-256 digests of the caller's bearer tokens. */
  readonly tokenHashes: readonly string[];
  /** `CN=name` or a subjectAltName entry as TLS reports it (`DNS:host`, `URI:spiffe://…`, `IP Address:10.0.0.1`, `email:…`). */
  readonly certificates: readonly string[];
  readonly groups: ReadonlySet<RpcGroup>;
}

/** Request limits plus the server's own: message size, batch size, subscribers, expressions. */
export interface ServerLimits extends RequestLimits {
  readonly maxMessageBytes: number;
  readonly maxBatch: number;
  readonly maxSubscribers: number;
  readonly subscriberBuffer: number;
  readonly expression: ExpressionLimits;
}

/** The server config file (`--server-config`), validated: callers, limits, Redis, metrics, reload. */
export interface ServerConfig {
  /** Empty: no caller authentication (anyone who reaches the port may call anything). */
  readonly callers: readonly CallerConfig[];
  readonly limits: ServerLimits;
  /** Prometheus endpoint; undefined: none. */
  readonly metrics: { readonly host: string; readonly port: number } | undefined;
  /** The AuthZEN HTTP listener; undefined: none (unless `serve --http-port` asks). */
  readonly http: HttpListenerConfig | undefined;
  /** `settleMs`: how long a changed file must stay unchanged before the watch reads it. */
  readonly reload: { readonly watch: boolean; readonly settleMs: number };
  /** JSON-lines file for refused calls; undefined: next to the policy's audit file. */
  readonly refusalLog: string | undefined;
  /** Longest a Redis command may take before the decision waiting on it denies. */
  readonly redis: { readonly commandTimeoutMs: number };
  /** Approval callbacks: allowed URLs, signing secret, retries; undefined: callbacks refused. */
  readonly approvals: ApprovalCallbackConfig | undefined;
}

/** The `http:` section: where the AuthZEN API listens and the base URL it publishes. */
export interface HttpListenerConfig {
  /** Undefined: the gRPC host. */
  readonly host: string | undefined;
  readonly port: number;
  /** Published as `policy_decision_point`; undefined: each request's scheme and Host. */
  readonly policyDecisionPoint: string | undefined;
  /**
   * The Ed25519 private key (PEM file) that signs access-request binding
   * tokens, and its `kid`; undefined: a key generated at start.
   */
  readonly signingKey?: { readonly path: string; readonly kid?: string | undefined } | undefined;
  /** The web console (`http.console`). */
  readonly console: ConsoleConfig;
}

/** The `http.console` section. */
export interface ConsoleConfig {
  /** Serve the console at /console/. Default true. */
  readonly enabled: boolean;
  /** How long a console sign-in lasts, in minutes (1 to 10080). Default 480. */
  readonly sessionMinutes: number;
  /** Mark console cookies Secure without TLS on this listener (a TLS proxy in front). Default false. */
  readonly secureCookies: boolean;
}

/** The console settings when the config gives none. */
export const DEFAULT_CONSOLE_CONFIG: ConsoleConfig = Object.freeze({ enabled: true, sessionMinutes: 480, secureCookies: false });

/** The limits a server applies when its config sets none. */
export const DEFAULT_SERVER_LIMITS: ServerLimits = Object.freeze({
  ...DEFAULT_REQUEST_LIMITS,
  maxMessageBytes: 4 * 1024 * 1024,
  maxBatch: 1000,
  maxSubscribers: 1000,
  subscriberBuffer: 4096,
  expression: DEFAULT_EXPRESSION_LIMITS,
});

/** The server config without a file: no callers (no authentication), default limits, reload on file change. */
export const DEFAULT_SERVER_CONFIG: ServerConfig = Object.freeze({
  callers: [],
  limits: DEFAULT_SERVER_LIMITS,
  metrics: undefined,
  http: undefined,
  reload: { watch: true, settleMs: 1000 },
  refusalLog: undefined,
  redis: { commandTimeoutMs: 1000 },
  approvals: undefined,
});

/** A server config with every problem found, each naming its field. */
export class ServerConfigError extends Error {
  override readonly name = "ServerConfigError" as const;
  constructor(
    readonly source: string,
    readonly errors: readonly string[],
  ) {
    super(`invalid server config ${source}:\n${errors.map((e) => `  - ${e}`).join("\n")}`);
  }
}

/** Each limit: its key, its field, its least and greatest allowed value. */
const LIMIT_FIELDS: ReadonlyArray<readonly [string, keyof Omit<ServerLimits, "expression">, number, number?]> = [
  ["max_string_length", "maxStringLength", 1],
  ["max_metadata_entries", "maxMetadataEntries", 0],
  ["max_metadata_depth", "maxMetadataDepth", 1, MAX_METADATA_DEPTH],
  ["max_pattern_length", "maxPatternLength", 1],
  ["max_pattern_wildcards", "maxPatternWildcards", 0],
  ["max_name_length", "maxNameLength", 1],
  ["max_delegated_patterns", "maxDelegatedPatterns", 1],
  ["max_message_bytes", "maxMessageBytes", 1024],
  ["max_batch", "maxBatch", 1],
  ["max_subscribers", "maxSubscribers", 0],
  ["subscriber_buffer", "subscriberBuffer", 1],
];

const EXPRESSION_FIELDS: ReadonlyArray<readonly [string, keyof ExpressionLimits, number?]> = [
  ["max_expression_length", "maxLength"],
  ["max_expression_depth", "maxDepth", MAX_EXPRESSION_DEPTH],
];

/** True for a {@link ServerConfigError}, also one from another copy of this module. */
export function isServerConfigError(e: unknown): e is ServerConfigError {
  return e instanceof Error && e.name === "ServerConfigError";
}

/** Reads and validates a server config file; a missing file names its path. */
export function loadServerConfig(path: string, env: Readonly<Record<string, string | undefined>> = process.env): ServerConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ServerConfigError(path, [`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
  return parseServerConfig(text, path, env);
}

/** Validates a server config document, collecting every problem. */
export function parseServerConfig(text: string, source = "<text>", env: Readonly<Record<string, string | undefined>> = process.env): ServerConfig {
  let doc: unknown;
  try {
    doc = load(text);
  } catch (error) {
    throw new ServerConfigError(source, [`not valid YAML: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`]);
  }
  if (doc === undefined || doc === null) return DEFAULT_SERVER_CONFIG;
  const errors: string[] = [];
  if (!isMap(doc)) throw new ServerConfigError(source, ["the document must be a mapping"]);
  unknownKeys(doc, ["callers", "limits", "metrics", "http", "reload", "refusal_log", "redis", "approvals"], "", errors);
  let commandTimeoutMs = 1000;
  const redis = doc["redis"];
  if (redis !== undefined && redis !== null) {
    if (!isMap(redis)) errors.push("redis: must be a mapping");
    else {
      unknownKeys(redis, ["command_timeout_ms"], "redis.", errors);
      commandTimeoutMs = integer(redis["command_timeout_ms"], "redis.command_timeout_ms", 10, errors) ?? commandTimeoutMs;
    }
  }
  const refusalLog = doc["refusal_log"];
  if (refusalLog !== undefined && refusalLog !== null && (typeof refusalLog !== "string" || refusalLog === "")) errors.push("refusal_log: must be a file path");

  const callers = readCallers(doc["callers"], errors);
  const limits = readLimits(doc["limits"], errors);
  const metrics = readMetrics(doc["metrics"], errors);
  const http = readHttp(doc["http"], errors);
  const approvals = readApprovals(doc["approvals"], env, errors);
  let watch = true;
  let settleMs = DEFAULT_SERVER_CONFIG.reload.settleMs;
  const reload = doc["reload"];
  if (reload !== undefined && reload !== null) {
    if (!isMap(reload)) errors.push("reload: must be a mapping");
    else {
      unknownKeys(reload, ["watch", "settle_ms"], "reload.", errors);
      if (reload["watch"] !== undefined) {
        if (typeof reload["watch"] !== "boolean") errors.push("reload.watch: must be true or false");
        else watch = reload["watch"];
      }
      settleMs = integer(reload["settle_ms"], "reload.settle_ms", 0, errors, 60_000) ?? settleMs;
    }
  }
  if (errors.length > 0) throw new ServerConfigError(source, errors);
  return Object.freeze({ callers, limits, metrics, http, reload: Object.freeze({ watch, settleMs }), refusalLog: typeof refusalLog === "string" ? refusalLog : undefined, redis: Object.freeze({ commandTimeoutMs }), approvals });
}

function readCallers(value: unknown, errors: string[]): readonly CallerConfig[] {
  if (value === undefined || value === null) return [];
  if (!isMap(value)) {
    errors.push("callers: must be a mapping of caller names");
    return [];
  }
  const out: CallerConfig[] = [];
  const tokenOwners = new Map<string, string>();
  const certOwners = new Map<string, string>();
  for (const [name, raw] of Object.entries(value)) {
    const at = `callers.${name}`;
    if (!isMap(raw)) {
      errors.push(`${at}: must be a mapping`);
      continue;
    }
    unknownKeys(raw, ["tokens_sha256", "certificates", "groups", "description"], `${at}.`, errors);
    const tokenHashes = stringList(raw["tokens_sha256"], `${at}.tokens_sha256`, errors).map((h, i) => {
      const hash = h.toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(hash)) errors.push(`${at}.tokens_sha256[${i}]: must be a SHA-256 digest in hex (64 characters), never the token itself`);
      const other = tokenOwners.get(hash);
      if (other !== undefined) errors.push(`${at}.tokens_sha256[${i}]: the same token is already given to caller '${other}'`);
      tokenOwners.set(hash, name);
      return hash;
    });
    const certificates = stringList(raw["certificates"], `${at}.certificates`, errors).map((c, i) => {
      if (!/^(CN=|DNS:|URI:|IP Address:|email:).+/.test(c)) {
        errors.push(`${at}.certificates[${i}]: '${c}' must start with CN=, DNS:, URI:, IP Address: or email:`);
      }
      const other = certOwners.get(c);
      if (other !== undefined) errors.push(`${at}.certificates[${i}]: '${c}' already identifies caller '${other}'`);
      certOwners.set(c, name);
      return c;
    });
    if (tokenHashes.length === 0 && certificates.length === 0) errors.push(`${at}: needs tokens_sha256 or certificates (or both)`);
    const groups = new Set<RpcGroup>();
    stringList(raw["groups"], `${at}.groups`, errors).forEach((g, i) => {
      if ((RPC_GROUPS as readonly string[]).includes(g)) groups.add(g as RpcGroup);
      else errors.push(`${at}.groups[${i}]: unknown group '${g}'; groups are ${RPC_GROUPS.join(", ")}`);
    });
    out.push(Object.freeze({ name, tokenHashes, certificates, groups }));
  }
  return Object.freeze(out);
}

function readLimits(value: unknown, errors: string[]): ServerLimits {
  if (value === undefined || value === null) return DEFAULT_SERVER_LIMITS;
  if (!isMap(value)) {
    errors.push("limits: must be a mapping");
    return DEFAULT_SERVER_LIMITS;
  }
  unknownKeys(value, [...LIMIT_FIELDS.map(([k]) => k), ...EXPRESSION_FIELDS.map(([k]) => k)], "limits.", errors);
  const limits: Record<string, unknown> = { ...DEFAULT_SERVER_LIMITS };
  for (const [key, field, min, max] of LIMIT_FIELDS) {
    const n = integer(value[key], `limits.${key}`, min, errors, max);
    if (n !== undefined) limits[field] = n;
  }
  const expression: Record<string, number> = { ...DEFAULT_EXPRESSION_LIMITS };
  for (const [key, field, max] of EXPRESSION_FIELDS) {
    const n = integer(value[key], `limits.${key}`, 1, errors, max);
    if (n !== undefined) expression[field] = n;
  }
  limits["expression"] = Object.freeze(expression);
  return Object.freeze(limits) as unknown as ServerLimits;
}

function readMetrics(value: unknown, errors: string[]): ServerConfig["metrics"] {
  if (value === undefined || value === null) return undefined;
  if (!isMap(value)) {
    errors.push("metrics: must be a mapping with port (and host)");
    return undefined;
  }
  unknownKeys(value, ["host", "port"], "metrics.", errors);
  const host = value["host"] ?? "127.0.0.1";
  if (typeof host !== "string" || host === "") errors.push("metrics.host: must be a host name or address");
  const port = integer(value["port"], "metrics.port", 0, errors);
  if (port === undefined) {
    if (value["port"] === undefined) errors.push("metrics.port: is required");
    return undefined;
  }
  if (port > 65535) errors.push("metrics.port: must be at most 65535");
  return Object.freeze({ host: String(host), port });
}

function readHttp(value: unknown, errors: string[]): HttpListenerConfig | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isMap(value)) {
    errors.push("http: must be a mapping with port (and host, policy_decision_point, signing_key, signing_key_id, console)");
    return undefined;
  }
  unknownKeys(value, ["host", "port", "policy_decision_point", "signing_key", "signing_key_id", "console"], "http.", errors);
  const keyPath = value["signing_key"];
  const kid = value["signing_key_id"];
  if (keyPath !== undefined && (typeof keyPath !== "string" || keyPath === "")) errors.push("http.signing_key: must be the path of a PEM file holding an Ed25519 private key");
  if (kid !== undefined && (typeof kid !== "string" || kid === "")) errors.push("http.signing_key_id: must be a non-empty string");
  if (kid !== undefined && keyPath === undefined) errors.push("http.signing_key_id: needs http.signing_key (the key it names)");
  const host = value["host"];
  if (host !== undefined && (typeof host !== "string" || host === "")) errors.push("http.host: must be a host name or address");
  let pdp: string | undefined;
  const rawPdp = value["policy_decision_point"];
  if (rawPdp !== undefined && rawPdp !== null) {
    const normalized = typeof rawPdp === "string" ? normalizePolicyDecisionPoint(rawPdp) : new Error("must be a URL");
    if (normalized instanceof Error) errors.push(`http.policy_decision_point: ${normalized.message}`);
    else pdp = normalized;
  }
  const port = integer(value["port"], "http.port", 0, errors, 65535);
  if (port === undefined) {
    if (value["port"] === undefined) errors.push("http.port: is required");
    return undefined;
  }
  const signingKey = typeof keyPath === "string" && keyPath !== "" ? Object.freeze({ path: keyPath, kid: typeof kid === "string" && kid !== "" ? kid : undefined }) : undefined;
  return Object.freeze({ host: typeof host === "string" && host !== "" ? host : undefined, port, policyDecisionPoint: pdp, signingKey, console: readConsole(value["console"], errors) });
}

function readConsole(value: unknown, errors: string[]): ConsoleConfig {
  if (value === undefined || value === null) return DEFAULT_CONSOLE_CONFIG;
  if (!isMap(value)) {
    errors.push("http.console: must be a mapping (enabled, session_minutes, secure_cookies)");
    return DEFAULT_CONSOLE_CONFIG;
  }
  unknownKeys(value, ["enabled", "session_minutes", "secure_cookies"], "http.console.", errors);
  const flag = (key: string, fallback: boolean): boolean => {
    const v = value[key];
    if (v === undefined) return fallback;
    if (typeof v !== "boolean") errors.push(`http.console.${key}: must be true or false`);
    return v === true;
  };
  return Object.freeze({
    enabled: flag("enabled", DEFAULT_CONSOLE_CONFIG.enabled),
    sessionMinutes: integer(value["session_minutes"], "http.console.session_minutes", 1, errors, 10_080) ?? DEFAULT_CONSOLE_CONFIG.sessionMinutes,
    secureCookies: flag("secure_cookies", DEFAULT_CONSOLE_CONFIG.secureCookies),
  });
}

/** Shortest callback secret accepted (bytes). */
const MIN_SECRET_LENGTH = 16;

function readApprovals(value: unknown, env: Readonly<Record<string, string | undefined>>, errors: string[]): ApprovalCallbackConfig | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isMap(value)) {
    errors.push("approvals: must be a mapping with callback_allow and callback_secret (or callback_secret_env)");
    return undefined;
  }
  unknownKeys(value, ["callback_allow", "callback_secret", "callback_secret_env", "callback_attempts", "callback_backoff_ms", "callback_timeout_ms"], "approvals.", errors);
  const allow = stringList(value["callback_allow"], "approvals.callback_allow", errors);
  allow.forEach((p, i) => {
    const problem = callbackPatternProblem(p);
    if (problem !== undefined) errors.push(`approvals.callback_allow[${i}]: '${p}' ${problem}`);
  });
  const literal = value["callback_secret"];
  const envName = value["callback_secret_env"];
  let secret: string | undefined;
  if (literal !== undefined && envName !== undefined) errors.push("approvals: give callback_secret or callback_secret_env, not both");
  else if (literal !== undefined) {
    if (typeof literal !== "string") errors.push("approvals.callback_secret: must be a string");
    else secret = literal;
  } else if (envName !== undefined) {
    if (typeof envName !== "string" || envName === "") errors.push("approvals.callback_secret_env: must be an environment variable name");
    else if (env[envName] === undefined || env[envName] === "") errors.push(`approvals.callback_secret_env: the environment variable ${envName} is not set`);
    else secret = env[envName];
  }
  // The secret itself is never echoed, only its problems.
  if (secret !== undefined && Buffer.byteLength(secret) < MIN_SECRET_LENGTH) errors.push(`approvals: the callback secret must be at least ${MIN_SECRET_LENGTH} bytes`);
  if (secret === undefined && literal === undefined && envName === undefined && allow.length > 0) errors.push("approvals: callback_allow needs callback_secret or callback_secret_env to sign callbacks with");
  const maxAttempts = integer(value["callback_attempts"], "approvals.callback_attempts", 1, errors, 20) ?? CALLBACK_DEFAULTS.maxAttempts;
  const backoffMs = integer(value["callback_backoff_ms"], "approvals.callback_backoff_ms", 1, errors, 600_000) ?? CALLBACK_DEFAULTS.backoffMs;
  const timeoutMs = integer(value["callback_timeout_ms"], "approvals.callback_timeout_ms", 1, errors, 600_000) ?? CALLBACK_DEFAULTS.timeoutMs;
  return secret === undefined ? undefined : Object.freeze({ allow: Object.freeze(allow), secret, maxAttempts, backoffMs, timeoutMs });
}

function integer(value: unknown, at: string, min: number, errors: string[], max?: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    errors.push(`${at}: must be an integer`);
    return undefined;
  }
  if (value < min) {
    errors.push(`${at}: must be at least ${min}, got ${value}`);
    return undefined;
  }
  if (max !== undefined && value > max) {
    errors.push(`${at}: must be at most ${max}, got ${value}`);
    return undefined;
  }
  return value;
}

function stringList(value: unknown, at: string, errors: string[]): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    errors.push(`${at}: must be a list`);
    return [];
  }
  const out: string[] = [];
  value.forEach((v, i) => {
    if (typeof v === "string" && v !== "") out.push(v);
    else errors.push(`${at}[${i}]: must be a non-empty string`);
  });
  return out;
}

function unknownKeys(map: Record<string, unknown>, known: readonly string[], at: string, errors: string[]): void {
  for (const key of Object.keys(map)) if (!known.includes(key)) errors.push(`${at}${key}: unknown key (known: ${known.join(", ")})`);
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
