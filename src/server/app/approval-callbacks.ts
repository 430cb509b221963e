/**
 * Approval callbacks: on every transition of a task that names a callback
 * URL, the server POSTs the task as JSON, signed with HMAC-SHA256 of the body
 * (`X-Agent-Auth-Signature: sha256=<hex>`), retrying with exponential backoff
 * a bounded number of times. Only URLs the server config allows are accepted
 * (`approvals.callback_allow`), and they are matched by their parsed parts —
 * scheme, host, port, path — never as raw text, so `http://127.0.0.1:*` does
 * not let `http://127.0.0.1:1@elsewhere/` through. Redirects are not followed.
 *
 * The replica that makes a transition delivers it (the engine hands its own
 * approval events to {@link approvalCallbackSink}), so each transition is
 * POSTed by one replica, at least once while the receiver answers in time.
 */
import { createHmac } from "node:crypto";
import type { ApprovalTask } from "../../approvals/types.ts";
import type { AuditEvent } from "../../audit/event.ts";
import type { AuditSink } from "../../audit/sink.ts";
import { compileGlob, type GlobMatcher } from "../../policy/fnmatch.ts";
import type { Logger } from "../logger.ts";

/** The `approvals:` section of the server config, validated. */
export interface ApprovalCallbackConfig {
  /** URL patterns callbacks may go to: `scheme://host[:port][/path]`, `*` in host, port and path. */
  readonly allow: readonly string[];
  /** The HMAC-SHA256 key. */
  readonly secret: string;
  /** Deliveries tried per transition, the first included. */
  readonly maxAttempts: number;
  /** Wait before the first retry; each later retry waits twice as long. */
  readonly backoffMs: number;
  /** How long one attempt may take. */
  readonly timeoutMs: number;
}

/** Defaults of the optional `approvals:` settings. */
export const CALLBACK_DEFAULTS = Object.freeze({ maxAttempts: 5, backoffMs: 1000, timeoutMs: 5000 });

/** The header carrying the body's signature. */
export const SIGNATURE_HEADER = "X-Agent-Auth-Signature";

/** `sha256=<hex HMAC-SHA256 of body>`, as sent in {@link SIGNATURE_HEADER}. */
export function signCallback(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

interface CompiledPattern {
  readonly scheme: string;
  readonly host: GlobMatcher;
  /** undefined: any port. */
  readonly port: string | undefined;
  readonly path: GlobMatcher;
}

const PATTERN = /^(https?):\/\/([^/:@?#\s]+|\[[0-9a-fA-F:.]+\])(?::(\*|\d{1,5}))?(\/[^?#\s]*)?$/;

/**
 * The problem with an allow-list pattern, or undefined when it is valid.
 * A pattern is `http(s)://host[:port][/path]`: `host` may hold `*` (never
 * `/`, `@` or `:`), `port` is a number or `*` (absent: the scheme's default),
 * `path` is an fnmatch pattern (absent: any path).
 */
export function callbackPatternProblem(pattern: string): string | undefined {
  return PATTERN.test(pattern) ? undefined : "must look like http(s)://host[:port][/path], with * allowed in host, port and path";
}

function compilePattern(pattern: string): CompiledPattern {
  const m = PATTERN.exec(pattern);
  if (m === null) throw new Error(`callback pattern '${pattern}' ${callbackPatternProblem(pattern) ?? ""}`);
  const scheme = m[1]!;
  const port = m[3] === undefined ? (scheme === "https" ? "443" : "80") : m[3] === "*" ? undefined : String(Number(m[3]));
  return { scheme: `${scheme}:`, host: compileGlob(m[2]!.toLowerCase()), port, path: compileGlob(m[4] ?? "*") };
}

/** Which callback URLs are allowed: `refusal(url)` says why a URL is not, undefined when it is. */
export interface CallbackAllowList {
  refusal(url: string): string | undefined;
}

/** Compiles the allow-list (patterns validated by {@link callbackPatternProblem}). */
export function compileCallbackAllowList(patterns: readonly string[]): CallbackAllowList {
  const compiled = patterns.map(compilePattern);
  return {
    refusal(url) {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        return "is not a URL";
      }
      if (u.protocol !== "http:" && u.protocol !== "https:") return "must be an http or https URL";
      if (u.username !== "" || u.password !== "") return "must not carry credentials";
      if (u.hash !== "") return "must not have a fragment";
      const port = u.port === "" ? (u.protocol === "https:" ? "443" : "80") : u.port;
      const host = u.hostname.toLowerCase();
      for (const p of compiled) {
        if (p.scheme === u.protocol && p.host(host) && (p.port === undefined || p.port === port) && p.path(u.pathname)) return undefined;
      }
      return `is not allowed by the server config's approvals.callback_allow (${patterns.length === 0 ? "empty" : patterns.join(", ")})`;
    },
  };
}

/** The JSON body of a callback: which transition, when, and the task. */
export function callbackBody(kind: string, time: number, task: ApprovalTask): string {
  return JSON.stringify({
    event: kind,
    time: new Date(time).toISOString(),
    approval: {
      id: task.id,
      status: task.status,
      agent: task.agent,
      user: task.user,
      action: task.action,
      resource: task.resource,
      scope: task.scope,
      session_id: task.sessionId,
      metadata_digest: task.metadataDigest,
      tier: task.tier,
      approval_policy: task.approvalPolicy,
      policy_revision: task.policyRevision,
      justification: task.justification,
      requested_by: task.requestedBy,
      idempotency_key: task.idempotencyKey,
      callback_url: task.callbackUrl,
      created_at: task.createdAt,
      expires_at: task.expiresAt,
      decided_at: task.decidedAt,
      decided_by: task.decidedBy,
      comment: task.comment,
      max_uses: task.maxUses,
      uses_left: task.usesLeft,
      request_decision_id: task.requestDecisionId,
    },
  });
}

/** What happened to one delivery, for logs, metrics and tests. */
export interface DeliveryOutcome {
  readonly url: string;
  readonly taskId: string;
  readonly event: string;
  readonly delivered: boolean;
  readonly attempts: number;
  /** The last failure ("HTTP 500", a network error, a timeout); "" when delivered. */
  readonly error: string;
}

/** Options of {@link CallbackDelivery}. */
export interface CallbackDeliveryOptions {
  readonly config: ApprovalCallbackConfig;
  readonly logger: Logger;
  /** Every finished delivery (delivered or given up). */
  readonly onOutcome?: ((outcome: DeliveryOutcome) => void) | undefined;
  /** Deliveries waiting or in flight at most; more are dropped and logged. Default 10,000. */
  readonly maxQueued?: number;
}

/** Sends callbacks with retries; `close` gives up what has not been delivered. */
export class CallbackDelivery {
  readonly #config: ApprovalCallbackConfig;
  readonly #logger: Logger;
  readonly #onOutcome: ((outcome: DeliveryOutcome) => void) | undefined;
  readonly #maxQueued: number;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #inFlight = new Set<AbortController>();
  #queued = 0;
  #closed = false;

  constructor(options: CallbackDeliveryOptions) {
    this.#config = options.config;
    this.#logger = options.logger;
    this.#onOutcome = options.onOutcome;
    this.#maxQueued = options.maxQueued ?? 10_000;
  }

  /** Deliveries not yet finished. */
  get pending(): number {
    return this.#queued;
  }

  /** Starts delivering `body` to `url` (in the background). */
  send(url: string, body: string, about: { readonly taskId: string; readonly event: string }): void {
    if (this.#closed) return;
    if (this.#queued >= this.#maxQueued) {
      this.#logger.error("approval callback dropped: too many deliveries waiting", { url, task: about.taskId, event: about.event, limit: this.#maxQueued });
      this.#onOutcome?.({ url, ...about, delivered: false, attempts: 0, error: "queue full" });
      return;
    }
    this.#queued++;
    const signature = signCallback(this.#config.secret, body);
    const attempt = (n: number): void => {
      void this.#post(url, body, signature).then((error) => {
        if (error === "" || this.#closed || n >= this.#config.maxAttempts) {
          this.#queued--;
          const outcome = { url, ...about, delivered: error === "", attempts: n, error };
          if (error !== "") this.#logger.warn("approval callback not delivered", { ...outcome });
          this.#onOutcome?.(outcome);
          return;
        }
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          attempt(n + 1);
        }, this.#config.backoffMs * 2 ** (n - 1));
        timer.unref();
        this.#timers.add(timer);
      });
    };
    attempt(1);
  }

  /** One POST; resolves to "" when the receiver answered 2xx, else what went wrong. */
  async #post(url: string, body: string, signature: string): Promise<string> {
    const controller = new AbortController();
    this.#inFlight.add(controller);
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${this.#config.timeoutMs} ms`)), this.#config.timeoutMs);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", [SIGNATURE_HEADER]: signature },
        body,
        redirect: "manual",
        signal: controller.signal,
      });
      await response.body?.cancel();
      return response.status >= 200 && response.status < 300 ? "" : `HTTP ${response.status}`;
    } catch (error) {
      const reason = controller.signal.aborted ? controller.signal.reason : error;
      return reason instanceof Error ? reason.message : String(reason);
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(controller);
    }
  }

  /** Stops: no more attempts; deliveries in flight are cut off. */
  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const c of this.#inFlight) c.abort(new Error("the server is stopping"));
  }
}

/**
 * An audit sink for the engine that turns its own approval events into
 * callbacks: decisions pass through untouched (one property read); for an
 * approval event the task is read (for its callback URL) and, when it has
 * one, its transition is delivered.
 */
export function approvalCallbackSink(getApproval: (id: string) => Promise<ApprovalTask | undefined>, delivery: CallbackDelivery, logger: Logger): AuditSink {
  const deliver = async (event: AuditEvent): Promise<void> => {
    const detail = event.approval!;
    const task = await getApproval(detail.taskId);
    if (task === undefined || task.callbackUrl === "") return;
    // The task may have moved on since; the callback reports the status this transition left.
    const status = detail.status === "" ? task.status : (detail.status as ApprovalTask["status"]);
    delivery.send(task.callbackUrl, callbackBody(event.kind!, event.time, { ...task, status }), { taskId: task.id, event: event.kind! });
  };
  return {
    write(event) {
      if (event.kind === undefined || event.approval === undefined) return;
      deliver(event).catch((error: unknown) => logger.warn("approval callback not sent: the task could not be read", { task: event.approval?.taskId, error: String(error) }));
    },
    // Delivery never holds a decision back.
    canDefer: () => true,
    flush: () => Promise.resolve(),
    close: () => {
      delivery.close();
      return Promise.resolve();
    },
  };
}
