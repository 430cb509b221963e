/**
 * Public vocabulary of the decision engine: tiers, statuses, requests,
 * decisions, sessions and delegations.
 */

/** Approval tiers, from least to most restrictive. */
export const ApprovalTier = {
  Autonomous: "autonomous",
  Soft: "soft",
  Strong: "strong",
} as const;
export type ApprovalTier = (typeof ApprovalTier)[keyof typeof ApprovalTier];

/** Every valid tier name. */
export const VALID_TIERS: ReadonlySet<string> = new Set<string>(Object.values(ApprovalTier));

/** Rank of each tier: a higher rank is more restrictive; tiers only escalate. */
export const TIER_ORDER: Readonly<Record<ApprovalTier, number>> = Object.freeze({
  autonomous: 0,
  soft: 1,
  strong: 2,
});

/** The A2A default when no agent-to-agent rule matches. */
export const A2ADefault = { Allow: "allow", Deny: "deny" } as const;
export type A2ADefault = (typeof A2ADefault)[keyof typeof A2ADefault];
export const VALID_A2A_DEFAULTS: ReadonlySet<string> = new Set<string>(Object.values(A2ADefault));

/**
 * Lifecycle of a session or a delegation grant, as the library reports it
 * (the wire has its own enums, `SessionStatus` and `DelegationStatus`, in
 * `agent-auth/client`).
 */
export type GrantStatus = "active" | "expired" | "revoked";

/** Request metadata: extra fields conditions can read by name. JSON-like values. */
export type RequestMetadata = Readonly<Record<string, unknown>>;

/**
 * One authorization question: may `agent`, acting for `user`, do `action` on
 * `resource` (within `scope`, inside session `sessionId`, calling `targetAgent`)?
 */
export interface AuthRequest {
  readonly agent: string;
  readonly user: string;
  readonly action: string;
  readonly resource?: string | undefined;
  /** Empty, null or absent: no session check. */
  readonly sessionId?: string | null | undefined;
  /** Empty or absent: no scope check. */
  readonly scope?: string | undefined;
  /** Empty, null or absent: no agent-to-agent check. */
  readonly targetAgent?: string | null | undefined;
  readonly metadata?: RequestMetadata | undefined;
  /**
   * An approval to redeem: when the decision (on the current policy) still
   * allows with a tier no higher than the approved one and the approval binds
   * exactly this request, it is allowed without approval and one use is spent.
   */
  readonly approvalId?: string | null | undefined;
}

/**
 * Why an approval presented with an authorization request could not be used:
 * "" when none was presented (or it was redeemed), `unknown` (no such task),
 * a status that is not `approved`, or `mismatch` (it binds another request,
 * or the decision now demands a higher tier than was approved).
 */
export type ApprovalUseStatus = "" | "unknown" | "pending" | "denied" | "expired" | "cancelled" | "used" | "mismatch";

/** What a decision says about the approval presented with its request. */
export interface DecisionApproval {
  /** The approval presented. */
  readonly approvalId: string;
  /** Who approved it, when it was redeemed; "" otherwise. */
  readonly approvedBy: string;
  /** "" when redeemed, else why it could not be used. */
  readonly approvalStatus: ApprovalUseStatus;
}

/**
 * The answer to an {@link AuthRequest}.
 *
 * A denial always carries tier `autonomous`, `requiresApproval` false and an
 * empty `approvalPolicy`, as in the original library.
 */
export class AuthDecision {
  constructor(
    readonly allowed: boolean,
    readonly tier: ApprovalTier,
    readonly reason: string,
    readonly requiresApproval: boolean,
    readonly approvalPolicy: string,
    /** Wall time spent deciding, in milliseconds. */
    readonly evaluationTimeMs: number,
    /** Unique id of this decision (also the audit record's id). */
    readonly decisionId: string,
    /** Revision (content hash) of the policy that decided. */
    readonly policyRevision: string,
    /** Present when the request carried an approval id. */
    readonly approval?: DecisionApproval | undefined,
  ) {}

  /** The approval presented with the request; undefined when none was. */
  get approvalId(): string | undefined {
    return this.approval?.approvalId;
  }

  /** Who approved the request, when its approval was redeemed. */
  get approvedBy(): string | undefined {
    return this.approval?.approvedBy;
  }

  /** "" when no approval was presented or it was redeemed; else why it could not be used. */
  get approvalStatus(): ApprovalUseStatus {
    return this.approval?.approvalStatus ?? "";
  }

  /** True if the request was denied. */
  get isDenied(): boolean {
    return !this.allowed;
  }

  /** True if the action may proceed with no approval at all. */
  get isAutonomous(): boolean {
    return this.allowed && this.tier === "autonomous" && !this.requiresApproval;
  }

  /** The decision with the snake_case field names of the original's JSON output. */
  toJSON(): Record<string, unknown> {
    return {
      allowed: this.allowed,
      tier: this.tier,
      reason: this.reason,
      requires_approval: this.requiresApproval,
      approval_policy: this.approvalPolicy,
      evaluation_time_ms: Math.round(this.evaluationTimeMs * 1000) / 1000,
      decision_id: this.decisionId,
      policy_revision: this.policyRevision,
      ...(this.approval === undefined
        ? {}
        : { approval_id: this.approval.approvalId, approved_by: this.approval.approvedBy, approval_status: this.approval.approvalStatus }),
    };
  }
}

/** A session as callers see it; `status` is computed against the engine's clock. */
export interface Session {
  readonly sessionId: string;
  readonly agent: string;
  readonly user: string;
  /** fnmatch pattern requests in this session must fall within; "" for any. */
  readonly scope: string;
  /** ISO 8601, UTC. */
  readonly createdAt: string;
  /** ISO 8601, UTC. */
  readonly expiresAt: string;
  readonly status: GrantStatus;
}

/** A delegation of actions from a user to an agent, as callers see it. */
export interface DelegationGrant {
  readonly delegationId: string;
  readonly fromUser: string;
  readonly toAgent: string;
  /** fnmatch patterns. */
  readonly actions: readonly string[];
  /** ISO 8601, UTC. */
  readonly grantedAt: string;
  /** ISO 8601, UTC. */
  readonly expiresAt: string;
  readonly reason: string;
  readonly status: GrantStatus;
}
