import type { ApprovalTicket, DeciderDecision, DeciderRequest } from "../../client/decider.ts";

/** A guarded call agent-auth denied; the guarded function did not run. */
export class AuthorizationDeniedError extends Error {
  override readonly name = "AuthorizationDeniedError" as const;
  constructor(
    /** The decision, with its reason and decision id. */
    readonly decision: DeciderDecision,
    /** The request that was decided. */
    readonly request: DeciderRequest,
  ) {
    super(`agent-auth denied '${request.action}' for agent '${request.agent}' acting for '${request.user}': ${decision.reason} (decision ${decision.decisionId})`);
  }
}

/** True for an {@link AuthorizationDeniedError}, also one from another copy of this module. */
export function isAuthorizationDeniedError(e: unknown): e is AuthorizationDeniedError {
  return e instanceof Error && e.name === "AuthorizationDeniedError";
}

/**
 * A guarded call that is allowed only once a human (soft or strong tier)
 * approves it; the guarded function did not run. `approval` is the task
 * requested for it — reserved for approvals: until they come, it is absent
 * and the decision alone says what is needed.
 */
export class ApprovalRequiredError extends Error {
  override readonly name = "ApprovalRequiredError" as const;
  constructor(
    readonly decision: DeciderDecision,
    readonly request: DeciderRequest,
    readonly approval?: ApprovalTicket | undefined,
  ) {
    super(`'${request.action}' for agent '${request.agent}' acting for '${request.user}' requires ${decision.tier} approval: ${decision.reason} (decision ${decision.decisionId})`);
  }
}

/** True for an {@link ApprovalRequiredError}, also one from another copy of this module. */
export function isApprovalRequiredError(e: unknown): e is ApprovalRequiredError {
  return e instanceof Error && e.name === "ApprovalRequiredError";
}
