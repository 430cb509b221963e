import type { AuthDecision } from "../../../model/types.ts";
import type { AuthZenEvaluation } from "./schemas.ts";

/** An AuthZEN Decision: `decision` and its `context`. */
export interface AuthZenDecision {
  readonly decision: boolean;
  readonly context: Record<string, unknown>;
}

/**
 * Adds members to the `context` of a decision (e.g. the approvals work's
 * requestable-deny `access_request`). Returns undefined to add nothing.
 * Members the core context already has are not replaced.
 */
export type DecisionContextExtension = (decision: AuthDecision, evaluation: AuthZenEvaluation) => Readonly<Record<string, unknown>> | undefined;

/** `reason_code` of a decision that an approval would turn into an allow. */
export const APPROVAL_REQUIRED = "approval_required";

/**
 * The AuthZEN answer for an engine decision. `decision` is true only for an
 * allow that needs no approval; one that needs approval is `false` with
 * `reason_code: "approval_required"` and its tier. The context always
 * carries the decision id, reason, tier (`autonomous` for a deny, as the
 * audit log says), requires_approval and policy revision; approval_policy
 * when a policy set the tier. Empty values are left out rather than sent as
 * null.
 */
export function decisionResponse(d: AuthDecision, evaluation: AuthZenEvaluation, extensions: readonly DecisionContextExtension[]): AuthZenDecision {
  const context: Record<string, unknown> = {
    decision_id: d.decisionId,
    reason: d.reason,
    ...(d.allowed && d.requiresApproval ? { reason_code: APPROVAL_REQUIRED } : {}),
    tier: d.tier,
    requires_approval: d.requiresApproval,
    ...(d.approvalPolicy === "" ? {} : { approval_policy: d.approvalPolicy }),
    policy_revision: d.policyRevision,
  };
  for (const extend of extensions) {
    const more = extend(d, evaluation);
    if (more === undefined) continue;
    for (const key of Object.keys(more)) if (!(key in context)) context[key] = more[key];
  }
  return { decision: d.allowed && !d.requiresApproval, context };
}

/** A batch item that could not be evaluated: closed, with the problem in `context.error`. */
export function itemError(status: number, message: string): AuthZenDecision {
  return { decision: false, context: { error: { status, message } } };
}
