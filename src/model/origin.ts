/**
 * Where a request came from, as its audit record states it: the transport it
 * arrived by, the request id the caller gave, and the caller it authenticated
 * as. Every member is optional; a record carries only those present.
 */
export interface DecisionOrigin {
  /** `http` for the AuthZEN listener; absent for gRPC and in-process use. */
  readonly transport?: string | undefined;
  /** The caller's own id for the request (HTTP `X-Request-ID`). */
  readonly requestId?: string | undefined;
  /** The configured caller that made the request, when callers are configured. */
  readonly caller?: string | undefined;
}
