/**
 * The vocabulary of approvals: a task asking a human to let one exact request
 * through, its statuses, and the errors of the approval operations.
 */
import type { AuthRequest } from "../model/types.ts";

export type { ApprovalUseStatus } from "../model/types.ts";
export type { ApprovalEventKind, AuditKind } from "../audit/event.ts";

/**
 * Where an approval task stands. `pending` waits for an answer; `approved`
 * may be redeemed until its grant expires or its uses are spent (`used`);
 * `denied`, `expired`, `cancelled` and `used` are terminal and never change.
 */
export type ApprovalStatus = "pending" | "approved" | "denied" | "expired" | "cancelled" | "used";

/** Every status, in lifecycle order. */
export const APPROVAL_STATUSES: readonly ApprovalStatus[] = Object.freeze(["pending", "approved", "denied", "expired", "cancelled", "used"]);

/** Statuses a task never leaves. */
export const TERMINAL_STATUSES: ReadonlySet<ApprovalStatus> = new Set<ApprovalStatus>(["denied", "expired", "cancelled", "used"]);

/** The tiers that need an approval. */
export type ApprovalTaskTier = "soft" | "strong";

/**
 * A request for a human's approval of one exact authorization request, as
 * callers see it. Times are ISO 8601, UTC; a field that does not apply yet
 * is "" (e.g. `decidedAt` while pending).
 */
export interface ApprovalTask {
  readonly id: string;
  /** Computed against the engine's clock: a task past `expiresAt` reads `expired`. */
  readonly status: ApprovalStatus;
  readonly agent: string;
  readonly user: string;
  readonly action: string;
  readonly resource: string;
  readonly scope: string;
  readonly sessionId: string;
  /** SHA-256 (hex) of the request metadata's canonical JSON: the approval binds these exact values. */
  readonly metadataDigest: string;
  /** The tier the decision demanded; the approval redeems decisions up to this tier. */
  readonly tier: ApprovalTaskTier;
  /** The approval policy that demanded it ("" when the profile's default tier did). */
  readonly approvalPolicy: string;
  /** Revision of the policy that decided the request. */
  readonly policyRevision: string;
  readonly justification: string;
  /** Who asked for the approval (the caller's identity, or the request's agent). */
  readonly requestedBy: string;
  /** The client's idempotency key ("" for none). */
  readonly idempotencyKey: string;
  /** Where the server reports transitions ("" for nowhere); stored, not called, by the engine. */
  readonly callbackUrl: string;
  readonly createdAt: string;
  /**
   * Pending: creation + `approvals.pending_ttl`; approved: decision +
   * `approvals.grant_ttl`; terminal: when it stopped being usable.
   */
  readonly expiresAt: string;
  readonly decidedAt: string;
  /** The approver who approved or denied it ("" before; the requester for a cancellation). */
  readonly decidedBy: string;
  readonly comment: string;
  /** Redemptions the approval allows in all (`approvals.max_uses` at request time). */
  readonly maxUses: number;
  /** Redemptions left. */
  readonly usesLeft: number;
  /** The decision that demanded the approval. */
  readonly requestDecisionId: string;
}

/** A request for approval: the authorization request itself plus why and who asks. */
export interface ApprovalRequestInput extends AuthRequest {
  readonly justification?: string | undefined;
  /** The same key for the same request returns the task already created instead of a new one. */
  readonly idempotencyKey?: string | undefined;
  /** Who asks; default the request's agent. */
  readonly requestedBy?: string | undefined;
  readonly callbackUrl?: string | undefined;
}

/** An approver's answer to a task. */
export interface DecideApprovalInput {
  readonly id: string;
  /** True approves, false denies. */
  readonly approve: boolean;
  /** The approver's identity, checked against `approvals.approvers` and the four-eyes rule. */
  readonly approver: string;
  readonly comment?: string | undefined;
}

/** Which tasks a listing returns; an absent field matches every task. */
export interface ApprovalFilter {
  readonly status?: ApprovalStatus | undefined;
  readonly agent?: string | undefined;
  readonly user?: string | undefined;
}

/** Which part of a listing to read. */
export interface ApprovalPageRequest {
  /** Continue after this position (a `next` of an earlier page); absent or "" for the start. */
  readonly after?: string | undefined;
  /** Tasks to return at most (1 to 1000). */
  readonly limit: number;
}

/** A part of a listing, oldest first; `next` is "" when the listing is complete. */
export interface ApprovalPage {
  readonly tasks: ApprovalTask[];
  readonly next: string;
}

/** What went wrong in an approval operation. */
export type ApprovalErrorCode = "not_found" | "not_allowed" | "terminal" | "not_requestable" | "invalid" | "limit";

/**
 * Thrown by the approval operations: `not_found` (no such task),
 * `not_allowed` (this approver may not decide it; the message says why, e.g.
 * the four-eyes rule), `terminal` (the task can no longer change),
 * `not_requestable` (the decision is denied or needs no approval), `invalid`
 * (bad input, or an idempotency key reused for another request), `limit`
 * (`approvals.max_pending` reached for this agent and user).
 */
export class ApprovalError extends Error {
  override readonly name = "ApprovalError" as const;
  constructor(
    readonly code: ApprovalErrorCode,
    message: string,
    /** The task, when there is one (e.g. the terminal task). */
    readonly task?: ApprovalTask | undefined,
  ) {
    super(message);
  }
}

/** True for an {@link ApprovalError} (also across module copies). */
export function isApprovalError(e: unknown): e is ApprovalError {
  return e instanceof Error && e.name === "ApprovalError";
}

