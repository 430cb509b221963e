import type { Metadata } from "@grpc/grpc-js";
import { codeName, type Code } from "./code.ts";

/** One invalid field of a request, as the server names it. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

/**
 * A failed call, with the standard rich details (google.rpc BadRequest and
 * ErrorInfo) decoded. A denied request is not an error: it is a decision.
 */
export class ClientError extends Error {
  override readonly name = "ClientError" as const;
  constructor(
    /** The gRPC status code (see {@link Code}). */
    readonly code: Code,
    readonly details: string,
    readonly fieldViolations: readonly FieldViolation[],
    readonly errorInfo: { reason: string; metadata: Record<string, string> } | undefined,
    readonly metadata: Metadata | undefined,
    /**
     * Whether the request was handed to a connection: false when the call
     * failed before any connection took it (no server was reachable), so it
     * cannot have reached a server; undefined when unknown (streams).
     */
    readonly sent?: boolean | undefined,
  ) {
    super(`${codeName(code)}: ${details}`);
  }
}

/** True for a {@link ClientError}, also one from another copy of this module. */
export function isClientError(e: unknown): e is ClientError {
  return e instanceof Error && e.name === "ClientError";
}
