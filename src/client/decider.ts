import { pollApproval, type WaitForApprovalOptions } from "../approvals/wait.ts";
import type { ApprovalTier, AuthRequest } from "../model/types.ts";

export type { WaitForApprovalOptions } from "../approvals/wait.ts";

/**
 * One authorization question as a {@link Decider} takes it: the engine's
 * request, plus the approval to redeem.
 */
export interface DeciderRequest extends AuthRequest {
  /**
   * An approval to redeem with this request: the engine re-decides the
   * request and, when the approval binds exactly it and still covers the
   * tier, allows it without approval, spending one use (docs/approvals.md).
   */
  readonly approvalId?: string | undefined;
}

/** A request for approval as a {@link Decider} takes it. */
export interface DeciderApprovalRequest extends DeciderRequest {
  /** Why the approval is needed, shown to approvers. */
  readonly justification?: string | undefined;
  /** The same key for the same request returns the task already created instead of a new one. */
  readonly idempotencyKey?: string | undefined;
}

/** What every integration reads from a decision. */
export interface DeciderDecision {
  readonly allowed: boolean;
  /** `autonomous` for a deny, as the engine and the audit log report it. */
  readonly tier: ApprovalTier;
  /** True for an allow that must be approved (soft or strong tier) before the action runs. */
  readonly requiresApproval: boolean;
  readonly reason: string;
  readonly decisionId: string;
  /** The approval policy that set the tier; "" when none did. */
  readonly approvalPolicy: string;
  /** The approval the request presented; undefined when none was. */
  readonly approvalId?: string | undefined;
  /** Who approved it, when it was redeemed. */
  readonly approvedBy?: string | undefined;
  /** With an approval presented: "" when it was redeemed, else why it could not be used (`pending`, `used`, `mismatch`, …). */
  readonly approvalStatus?: string | undefined;
}

/**
 * An approval task, as far as integrations need to know it (the engine's and
 * the client's ApprovalTask has more).
 */
export interface ApprovalTicket {
  readonly id: string;
  readonly status: "pending" | "approved" | "denied" | "expired" | "cancelled" | "used";
  /** ISO 8601, UTC: when a pending task expires, or an approval stops being redeemable. */
  readonly expiresAt?: string | undefined;
  /** Who approved or denied it ("" or absent before). */
  readonly decidedBy?: string | undefined;
  /** The approver's comment. */
  readonly comment?: string | undefined;
}

/**
 * What decides for the integrations (`guard`, the HTTP middleware, the MCP
 * gateway): the gRPC client (`createAgentAuthClient`) and the embedded engine
 * (`new AuthEngine(config)`) both meet it, so every integration takes either.
 *
 * `authorize` resolves with the decision (a deny is a decision, not an
 * error) and rejects only when no decision could be had: a malformed request
 * (the engine's InvalidRequestError, the client's AgentAuthError
 * `INVALID_ARGUMENT`) or, for the client, a server out of reach
 * (AgentAuthError `UNAVAILABLE`, `DEADLINE_EXCEEDED`, …). Integrations treat
 * every rejection as "not allowed".
 *
 * The approval methods are optional: with a decider that lacks
 * `requestApproval`, integrations report "approval required" with the
 * decision alone; without `waitForApproval` they wait by reading
 * `getApproval` (see {@link waitForApproval}).
 */
export interface Decider {
  authorize(request: DeciderRequest): Promise<DeciderDecision>;
  /**
   * Opens an approval task for a request whose decision requires approval:
   * the decision and the task (the engine's `requestApproval` has this shape).
   */
  requestApproval?(request: DeciderApprovalRequest): Promise<{ readonly decision: DeciderDecision; readonly task: ApprovalTicket }>;
  /** The task as it now stands; undefined when unknown. */
  getApproval?(approvalId: string): Promise<ApprovalTicket | undefined>;
  /**
   * Resolves with the task once it is no longer `pending` (approved, denied,
   * expired, …), or as it stands when `timeoutMs` has passed; undefined when
   * unknown. Rejects with the signal's reason when `signal` aborts.
   */
  waitForApproval?(approvalId: string, options: WaitForApprovalOptions): Promise<ApprovalTicket | undefined>;
}

/**
 * Waits for an approver's answer with any decider: its own
 * `waitForApproval`, else reading `getApproval` with growing pauses. Rejects
 * with a TypeError for a decider that has neither.
 */
export function waitForApproval(decider: Decider, approvalId: string, options: WaitForApprovalOptions): Promise<ApprovalTicket | undefined> {
  if (decider.waitForApproval !== undefined) return decider.waitForApproval(approvalId, options);
  const get = decider.getApproval?.bind(decider);
  if (get === undefined) return Promise.reject(new TypeError("this decider cannot report approvals (it has neither waitForApproval nor getApproval)"));
  return pollApproval(get, approvalId, options);
}
