import type { ApprovalTicket, DeciderDecision, DeciderRequest } from "../../client/decider.ts";

/**
 * A guarded call agent-auth denied, or whose approval an approver denied (or
 * that expired or was cancelled before anyone approved it: then `approval`
 * is that task); the guarded function did not run.
 */
export class AuthorizationDeniedError extends Error {
  override readonly name = "AuthorizationDeniedError" as const;
  constructor(
    /** The decision, with its reason and decision id. */
    readonly decision: DeciderDecision,
    /** The request that was decided. */
    readonly request: DeciderRequest,
    /** The approval task that was not granted, when one was asked for. */
    readonly approval?: ApprovalTicket | undefined,
  ) {
    super(
      approval === undefined
        ? `agent-auth denied '${request.action}' for agent '${request.agent}' acting for '${request.user}': ${decision.reason} (decision ${decision.decisionId})`
        : `'${request.action}' for agent '${request.agent}' acting for '${request.user}' was not approved: approval ${approval.id} is ${approval.status}${approval.decidedBy ? ` (by '${approval.decidedBy}'${approval.comment ? `: ${approval.comment}` : ""})` : ""}`,
    );
  }
}

/** True for an {@link AuthorizationDeniedError}, also one from another copy of this module. */
export function isAuthorizationDeniedError(e: unknown): e is AuthorizationDeniedError {
  return e instanceof Error && e.name === "AuthorizationDeniedError";
}

/**
 * A guarded call that is allowed only once a human (soft or strong tier)
 * approves it; the guarded function did not run. `approval` is the pending
 * task requested for it (absent when the decider cannot request one, or the
 * guard was told not to): once it is approved, the same call goes through.
 */
export class ApprovalRequiredError extends Error {
  override readonly name = "ApprovalRequiredError" as const;
  constructor(
    readonly decision: DeciderDecision,
    readonly request: DeciderRequest,
    readonly approval?: ApprovalTicket | undefined,
  ) {
    super(
      `'${request.action}' for agent '${request.agent}' acting for '${request.user}' requires ${decision.tier} approval: ${decision.reason} (decision ${decision.decisionId})` +
        (approval === undefined ? "" : `; approval ${approval.id} is ${approval.status}`),
    );
  }
}

/** True for an {@link ApprovalRequiredError}, also one from another copy of this module. */
export function isApprovalRequiredError(e: unknown): e is ApprovalRequiredError {
  return e instanceof Error && e.name === "ApprovalRequiredError";
}
