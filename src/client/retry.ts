import { setTimeout as sleep } from "node:timers/promises";
import { AgentAuthError, errorCodeOf } from "./agent-auth-error.ts";
import { Code } from "./code.ts";
import { isClientError } from "./client-error.ts";

/** When the client tries a call again. */
export interface RetryOptions {
  /** Attempts in all, the first included. Default 4; 1 turns retries off. */
  readonly maxAttempts?: number;
  /** Wait before the first retry (ms); it doubles for each further one. Default 50. */
  readonly initialBackoffMs?: number;
  /** Longest wait between two attempts (ms). Default 1000. */
  readonly maxBackoffMs?: number;
}

/** A retry policy with every value set. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

/** The retries a client makes unless told otherwise: 4 attempts, 50 ms backoff doubling to 1 s. */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ maxAttempts: 4, initialBackoffMs: 50, maxBackoffMs: 1000 });

/** The policy for `retry` (false: no retries), each value checked. */
export function retryPolicy(retry: RetryOptions | false | undefined): RetryPolicy {
  if (retry === false) return { ...DEFAULT_RETRY, maxAttempts: 1 };
  const policy = { ...DEFAULT_RETRY, ...definedOnly(retry ?? {}) };
  for (const [key, min] of [["maxAttempts", 1], ["initialBackoffMs", 0], ["maxBackoffMs", 0]] as const) {
    const v = policy[key];
    if (!Number.isInteger(v) || v < min) throw new AgentAuthError("INVALID_ARGUMENT", `retry.${key}: must be a whole number >= ${min}, got ${String(v)}`);
  }
  return policy;
}

/**
 * Runs `attempt` until it succeeds, and again only after an UNAVAILABLE that
 * provably never reached a server (no connection took the request), with
 * exponential backoff and jitter, all within one deadline: each attempt gets
 * what is left of `deadlineMs`. Any other failure — including UNAVAILABLE
 * after the request was sent, which the server may have acted on — is
 * returned at once. Failures come back as {@link AgentAuthError}.
 */
export async function withRetry<T>(
  attempt: (deadlineMs: number) => Promise<T>,
  options: { readonly policy: RetryPolicy; readonly deadlineMs: number; readonly signal?: AbortSignal | undefined },
): Promise<T> {
  const { policy, deadlineMs, signal } = options;
  const deadlineAt = deadlineMs === Infinity ? Infinity : Date.now() + deadlineMs;
  for (let n = 1; ; n++) {
    try {
      return await attempt(deadlineAt === Infinity ? Infinity : Math.max(1, deadlineAt - Date.now()));
    } catch (error) {
      const retryable = isClientError(error) && error.code === Code.UNAVAILABLE && error.sent === false && signal?.aborted !== true;
      const backoff = retryable ? backoffMs(policy, n) : 0;
      if (!retryable || n >= policy.maxAttempts || Date.now() + backoff >= deadlineAt) throw toAgentAuthError(error, n);
      try {
        await sleep(backoff, undefined, signal === undefined ? undefined : { signal });
      } catch {
        throw new AgentAuthError("CANCELLED", "the call was cancelled while waiting to retry", { attempts: n, cause: error });
      }
    }
  }
}

/** Equal jitter: between half and all of the exponential step. */
function backoffMs(policy: RetryPolicy, attempt: number): number {
  const step = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempt - 1));
  return Math.round(step / 2 + (Math.random() * step) / 2);
}

/** Any failure of a call as an AgentAuthError, keeping the server's details. */
export function toAgentAuthError(error: unknown, attempts = 1): AgentAuthError {
  if (isClientError(error)) {
    return new AgentAuthError(errorCodeOf(error.code), error.details, { fieldViolations: error.fieldViolations, errorInfo: error.errorInfo, attempts, cause: error });
  }
  if (error instanceof AgentAuthError) return error;
  return new AgentAuthError("INTERNAL", error instanceof Error ? error.message : String(error), { attempts, cause: error });
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
