import { codeName, type Code } from "./code.ts";
import type { FieldViolation } from "./client-error.ts";

/** The gRPC status names an {@link AgentAuthError} can carry. */
export type AgentAuthErrorCode = Exclude<keyof typeof Code, "OK">;

/** What an {@link AgentAuthError} may say beyond its code and message. */
export interface AgentAuthErrorDetails {
  /** Fields the server named as invalid (google.rpc.BadRequest). */
  readonly fieldViolations?: readonly FieldViolation[] | undefined;
  /** The server's google.rpc.ErrorInfo, when it sent one. */
  readonly errorInfo?: { readonly reason: string; readonly metadata: Readonly<Record<string, string>> } | undefined;
  /** How many times the request was tried. Default 1. */
  readonly attempts?: number | undefined;
  readonly cause?: unknown;
}

/**
 * A call of the client's API that failed: the server could not be reached in
 * time, refused the caller, or rejected the request's shape. A denied request
 * is not an error: it is a decision with `allowed: false`.
 *
 * `code` is the gRPC status name (`"UNAVAILABLE"`, `"INVALID_ARGUMENT"`, …);
 * `attempts` says how often the request was tried (a retry happens only while
 * the request provably never left the client).
 */
export class AgentAuthError extends Error {
  override readonly name = "AgentAuthError" as const;
  /** Fields the server named as invalid, e.g. `metadata.amount`. */
  readonly fieldViolations: readonly FieldViolation[];
  readonly errorInfo: { readonly reason: string; readonly metadata: Readonly<Record<string, string>> } | undefined;
  /** How many times the request was tried (1 when it was not retried). */
  readonly attempts: number;

  constructor(
    readonly code: AgentAuthErrorCode,
    /** The server's (or the transport's) message, without the code. */
    readonly details: string,
    extra: AgentAuthErrorDetails = {},
  ) {
    super(`${code}: ${details}`, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.fieldViolations = extra.fieldViolations ?? [];
    this.errorInfo = extra.errorInfo;
    this.attempts = extra.attempts ?? 1;
  }
}

/** True for an {@link AgentAuthError}, also one from another copy of this module. */
export function isAgentAuthError(e: unknown): e is AgentAuthError {
  return e instanceof Error && e.name === "AgentAuthError";
}

/** The status name of a numeric gRPC code; `UNKNOWN` for OK or a number gRPC does not define. */
export function errorCodeOf(code: number): AgentAuthErrorCode {
  const name = codeName(code);
  return name === "OK" || /^\d+$/.test(name) ? "UNKNOWN" : (name as AgentAuthErrorCode);
}
