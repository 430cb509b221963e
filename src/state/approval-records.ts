import type { ListPage, ListResult } from "./store.ts";

/**
 * Approval tasks as the state stores keep them. Times are milliseconds since
 * the epoch from the engine's clock. The stored status is `pending`,
 * `approved`, `denied`, `cancelled`, `used` or `expired`; a pending or
 * approved task read at or after `expiresAt` is expired, and the first read
 * that sees it so stores `expired` (reporting `expiredNow` once, for the
 * audit event). A task is kept until `keepUntil` (its history), then gone.
 */
export interface ApprovalRecord {
  readonly id: string;
  readonly status: StoredApprovalStatus;
  readonly agent: string;
  readonly user: string;
  readonly action: string;
  readonly resource: string;
  readonly scope: string;
  readonly sessionId: string;
  readonly metadataDigest: string;
  /** SHA-256 (hex) over every bound field: what a redemption compares. */
  readonly binding: string;
  readonly tier: "soft" | "strong";
  readonly approvalPolicy: string;
  readonly policyRevision: string;
  readonly justification: string;
  readonly requestedBy: string;
  readonly idempotencyKey: string;
  readonly callbackUrl: string;
  readonly requestDecisionId: string;
  readonly createdAt: number;
  /** End of the pending wait, then (approved) of the grant; for a finished task, when it finished. */
  readonly expiresAt: number;
  /** 0 until decided. */
  readonly decidedAt: number;
  readonly decidedBy: string;
  readonly comment: string;
  readonly maxUses: number;
  readonly usesLeft: number;
  /** How long a finished task is kept (`approvals.history_ttl`), ms. */
  readonly historyMs: number;
}

/** Statuses as stored. */
export type StoredApprovalStatus = "pending" | "approved" | "denied" | "cancelled" | "used" | "expired";

/** A task read from a store: as it stands now, and whether this read made it expire. */
export interface ApprovalRead {
  readonly record: ApprovalRecord;
  /** True for exactly one read: the one that found it past `expiresAt` and stored `expired`. */
  readonly expiredNow: boolean;
}

/** Outcome of {@link ApprovalTable.create}. */
export type ApprovalCreateOutcome =
  | { readonly kind: "created"; readonly record: ApprovalRecord }
  /** The idempotency key named a task already (returned as it stands now). */
  | { readonly kind: "existing"; readonly read: ApprovalRead }
  /** `maxPending` pending tasks exist already for this agent and user. */
  | { readonly kind: "limit"; readonly pending: number };

/** A decision on a pending task, or its cancellation. */
export interface ApprovalChange {
  readonly to: "approved" | "denied" | "cancelled";
  /** When (ms), from the engine's clock. */
  readonly at: number;
  readonly by: string;
  readonly comment: string;
  /** The grant's end when approving (`at` + grant TTL). */
  readonly expiresAt: number;
}

/** Outcome of {@link ApprovalTable.transition}. */
export type ApprovalChangeOutcome =
  | { readonly kind: "changed"; readonly record: ApprovalRecord }
  | { readonly kind: "not_found" }
  /** Not pending (any more): the task as it stands, and whether this call found it expired. */
  | { readonly kind: "terminal"; readonly read: ApprovalRead };

/** Which tasks a listing returns: absent fields match every task; `status` is the status now. */
export interface ApprovalListFilter {
  readonly status?: StoredApprovalStatus | undefined;
  readonly agent?: string | undefined;
  readonly user?: string | undefined;
}

/** A part of a listing, plus the tasks the listing found expired (each reported once). */
export interface ApprovalListResult extends ListResult<ApprovalRecord> {
  readonly expiredNow: ApprovalRecord[];
}

/**
 * The approval tasks of a state store. Every change is atomic: a task leaves
 * `pending` once (approve, deny, cancel or expire — whichever comes first),
 * and a redemption (in {@link StateStore.resolveOutcome}) spends one use.
 */
export interface ApprovalTable {
  /**
   * Stores a new pending task — unless its idempotency key (per agent and
   * user) already names one, or `maxPending` pending tasks of its agent and
   * user exist.
   */
  create(record: ApprovalRecord, maxPending: number): Promise<ApprovalCreateOutcome>;
  /** The task as it stands now, until its history ends. */
  get(id: string): Promise<ApprovalRead | undefined>;
  /** Moves a pending task (not yet expired) to `change.to`. */
  transition(id: string, change: ApprovalChange): Promise<ApprovalChangeOutcome>;
  /** Part of the tasks matching the filter, oldest first (creation time, then id). */
  list(filter: ApprovalListFilter, page: ListPage): Promise<ApprovalListResult>;
}

/** What a decision asks of the approval its request presented. */
export interface ApprovalRedemption {
  readonly id: string;
  /** The request's binding digest; the task's must be the same. */
  readonly binding: string;
  /**
   * The tier rank (1 soft, 2 strong) the decision would need approved when a
   * grant allows it, or -1 when that decision needs no approval (denied, or
   * autonomous): then the approval is not looked at.
   */
  readonly rankIfGrant: number;
  /** The same when no grant is needed or found. */
  readonly rankIfNoGrant: number;
}

/** What became of the approval a decision presented. */
export type ApprovalUse =
  /** Not looked at: the session check failed, or the decision needs no approval. */
  | { readonly kind: "skipped" }
  /** Redeemed: one use spent. */
  | { readonly kind: "redeemed"; readonly approvedBy: string; readonly usesLeft: number }
  /** Not usable: why, and whether this read made it expire. */
  | { readonly kind: "unusable"; readonly status: "unknown" | "pending" | "denied" | "expired" | "cancelled" | "used" | "mismatch"; readonly expiredNow: boolean };

export const APPROVAL_SKIPPED: ApprovalUse = Object.freeze({ kind: "skipped" });

/** Tier ranks as redemption compares them. */
export const APPROVAL_TIER_RANK: Readonly<Record<"soft" | "strong", number>> = Object.freeze({ soft: 1, strong: 2 });

/** The status of a stored task at `now`: pending or approved turn expired at `expiresAt`. */
export function approvalStatusAt(r: ApprovalRecord, now: number): StoredApprovalStatus {
  if ((r.status === "pending" || r.status === "approved") && now >= r.expiresAt) return "expired";
  return r.status;
}

/** Until when a task is kept: its history after it stopped being usable. */
export function approvalKeepUntil(r: ApprovalRecord): number {
  return r.expiresAt + r.historyMs;
}

/**
 * Whether a redemption may use this task at `now` (already known to exist
 * and not expired by the caller's bookkeeping): the memory store's copy of
 * the check the Redis script makes.
 */
export function redemptionCheck(r: ApprovalRecord | undefined, q: ApprovalRedemption, rank: number, now: number): ApprovalUse {
  if (rank < 0) return APPROVAL_SKIPPED;
  if (r === undefined) return { kind: "unusable", status: "unknown", expiredNow: false };
  const status = approvalStatusAt(r, now);
  if (status !== "approved") return { kind: "unusable", status, expiredNow: status === "expired" && r.status !== "expired" };
  if (r.binding !== q.binding || rank > APPROVAL_TIER_RANK[r.tier]) return { kind: "unusable", status: "mismatch", expiredNow: false };
  return { kind: "redeemed", approvedBy: r.decidedBy, usesLeft: r.usesLeft - 1 };
}
