import type { AuthDecision } from "../../../model/types.ts";
import type { AuthZenEvaluation } from "./schemas.ts";

/** An AuthZEN Decision: `decision` and its `context`. */
export interface AuthZenDecision {
  readonly decision: boolean;
  readonly context: Record<string, unknown>;
}

/** What an extension may know of the HTTP request it answers. */
export interface DecisionRequestInfo {
  /** The PDP's base URL as this client reaches it (as discovery publishes it). */
  readonly baseUrl: string;
}

/** Members an extension adds (undefined: none), now or once signed. */
export type ContextMembers = Readonly<Record<string, unknown>> | undefined;

/**
 * Adds members to the `context` of a decision (e.g. the requestable deny's
 * `access_request`). Returns undefined to add nothing, or a promise of the
 * members when it has to wait (signing). Members the core context already
 * has are not replaced.
 */
export type DecisionContextExtension = (decision: AuthDecision, evaluation: AuthZenEvaluation, info: DecisionRequestInfo) => ContextMembers | Promise<ContextMembers>;

/** `reason_code` of a decision that an approval would turn into an allow. */
export const APPROVAL_REQUIRED = "approval_required";

/**
 * The AuthZEN answer for an engine decision. `decision` is true only for an
 * allow that needs no approval; one that needs approval is `false` with
 * `reason_code: "approval_required"` and its tier. The context always
 * carries the decision id, reason, tier (`autonomous` for a deny, as the
 * audit log says), requires_approval and policy revision; approval_policy
 * when a policy set the tier. Empty values are left out rather than sent as
 * null. The answer is a promise only when an extension had to wait.
 */
export function decisionResponse(d: AuthDecision, evaluation: AuthZenEvaluation, extensions: readonly DecisionContextExtension[], info: DecisionRequestInfo): AuthZenDecision | Promise<AuthZenDecision> {
  // Members set one by one, in one order: no object spread per optional member.
  const context: Record<string, unknown> = { decision_id: d.decisionId, reason: d.reason };
  if (d.allowed && d.requiresApproval) context["reason_code"] = APPROVAL_REQUIRED;
  context["tier"] = d.tier;
  context["requires_approval"] = d.requiresApproval;
  if (d.approvalPolicy !== "") context["approval_policy"] = d.approvalPolicy;
  context["policy_revision"] = d.policyRevision;
  const answer: AuthZenDecision = { decision: d.allowed && !d.requiresApproval, context };
  // Members are added in the extensions' order, whichever finished first: from the first one that has to wait, the rest wait with it.
  let waiting: Array<ContextMembers | Promise<ContextMembers>> | undefined;
  for (const extend of extensions) {
    const members = extend(d, evaluation, info);
    if (waiting === undefined && !(members instanceof Promise)) addMembers(context, members);
    else (waiting ??= []).push(members);
  }
  if (waiting === undefined) return answer;
  return Promise.all(waiting).then((all) => {
    for (const members of all) addMembers(context, members);
    return answer;
  });
}

/** An extension's members, but none the context already has. */
function addMembers(context: Record<string, unknown>, members: ContextMembers): void {
  if (members === undefined) return;
  for (const key of Object.keys(members)) if (!(key in context)) context[key] = members[key];
}

/** A batch item that could not be evaluated: closed, with the problem in `context.error`. */
export function itemError(status: number, message: string): AuthZenDecision {
  return { decision: false, context: { error: { status, message } } };
}
