import type { ApprovalTier, AuthRequest } from "../model/types.ts";

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
}

/**
 * An approval task, as far as integrations need to know it. Reserved for
 * approvals: its full shape comes with them.
 */
export interface ApprovalTicket {
  readonly id: string;
  readonly status: "pending" | "approved" | "denied" | "expired" | "cancelled" | "used";
  /** ISO 8601, UTC. */
  readonly expiresAt?: string | undefined;
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
 * `requestApproval` and `getApproval` are reserved for approvals: deciders
 * that do not have them make integrations report "approval required" with
 * the decision alone.
 */
export interface Decider {
  authorize(request: DeciderRequest): Promise<DeciderDecision>;
  /**
   * Opens an approval task for a request whose decision requires approval:
   * the decision and the task (the engine's `requestApproval` has this shape).
   */
  requestApproval?(request: DeciderRequest & { readonly justification?: string }): Promise<{ readonly decision: DeciderDecision; readonly task: ApprovalTicket }>;
  /** Reserved for approvals: the task as it now stands; undefined when unknown. */
  getApproval?(approvalId: string): Promise<ApprovalTicket | undefined>;
}
