/**
 * Typed errors of the engine. Each has a narrowed `name` and a guard that works
 * across copies of this module (it checks `name`, not `instanceof`).
 */

/** A request field is missing, of the wrong type, or over a limit. */
export class InvalidRequestError extends Error {
  override readonly name = "InvalidRequestError" as const;
  constructor(
    /** The offending field, e.g. `agent` or `metadata.amount`. */
    readonly field: string,
    /** What is wrong with it, without the field name. */
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** True for an {@link InvalidRequestError}, also one from another copy of this module. */
export function isInvalidRequestError(e: unknown): e is InvalidRequestError {
  return e instanceof Error && e.name === "InvalidRequestError";
}

/**
 * A delegation breaks the policy's delegation settings or rules. `errors` lists
 * every problem, in the original's order; the message is the original's text.
 */
export class DelegationValidationError extends Error {
  override readonly name = "DelegationValidationError" as const;
  constructor(readonly errors: readonly string[]) {
    super("Delegation validation failed:\n  " + errors.join("\n  "));
  }
}

/** True for a {@link DelegationValidationError}, also one from another copy of this module. */
export function isDelegationValidationError(e: unknown): e is DelegationValidationError {
  return e instanceof Error && e.name === "DelegationValidationError";
}

/**
 * The state store (sessions, delegations) cannot be reached. Decisions that need
 * state are denied instead of raising this; management calls raise it.
 */
export class StateUnavailableError extends Error {
  override readonly name = "StateUnavailableError" as const;
  constructor(message = "State store unavailable", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** True for a {@link StateUnavailableError}, also one from another copy of this module. */
export function isStateUnavailableError(e: unknown): e is StateUnavailableError {
  return e instanceof Error && e.name === "StateUnavailableError";
}

/**
 * Storing something would take a store past one of its limits (e.g. the
 * delegated actions one user grants one agent, `limits.max_delegated_patterns`).
 * Nothing was stored; the message names the limit.
 */
export class LimitExceededError extends Error {
  override readonly name = "LimitExceededError" as const;
  constructor(
    /** The limit's server-config name, e.g. `limits.max_delegated_patterns`. */
    readonly limit: string,
    message: string,
  ) {
    super(message);
  }
}

/** True for a {@link LimitExceededError}, also one from another copy of this module. */
export function isLimitExceededError(e: unknown): e is LimitExceededError {
  return e instanceof Error && e.name === "LimitExceededError";
}
