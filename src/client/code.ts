/**
 * gRPC status codes by name, with the numbers every gRPC library uses, so
 * callers can compare `error.code` without depending on @grpc/grpc-js.
 */
export const Code = Object.freeze({
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
});

/** A gRPC status code (a value of {@link Code}). */
export type Code = (typeof Code)[keyof typeof Code];

const NAMES: readonly string[] = Object.keys(Code);

/** The name of a status code (`NOT_FOUND`), or its number as text when unknown. */
export function codeName(code: number): string {
  return NAMES[code] ?? String(code);
}
