import type { AuthDecision } from "../model/types.ts";
import type { AuditEvent } from "./event.ts";

/**
 * A state-dependent decision's audit record for every outcome, prepared
 * before the state is known, for a store that appends the record in the same
 * round trip as the state read: `event` is the record when no grant is
 * needed or found; when a delegation grant allows, it is the same record with
 * `ifGrant` as its decision (undefined when no grant was looked for); after a
 * failed session check the store writes the denial's decision fields itself
 * (the fields of {@link decisionFieldsJson}, with the session reason).
 */
export interface OutcomeRecords {
  readonly event: AuditEvent;
  readonly ifGrant: AuthDecision | undefined;
  /** For a decision that presented an approval: what the store writes once it knows the approval's use. */
  readonly approval?: ApprovalOutcomeRecords | undefined;
}

/**
 * The records of a decision that presented an approval, prepared before the
 * store knows whether it redeems it. `event`'s decision then carries
 * {@link APPROVER_MARKER} as `approvedBy` and {@link APPROVAL_STATUS_MARKER}
 * as `approvalStatus`; the store replaces them (the approver when redeemed,
 * else ""; "" or why the approval could not be used).
 */
export interface ApprovalOutcomeRecords {
  /** The redeemed decision when a grant allows (its reason {@link REDEEMED_REASON_MARKER}); undefined when that decision cannot redeem. */
  readonly redeemedIfGrant: AuthDecision | undefined;
  /** The same when no grant is needed or found. */
  readonly redeemedIfNoGrant: AuthDecision | undefined;
  /** The `approval_redeemed` event, the approver and the task status as markers. */
  readonly redeemedEvent: AuditEvent;
  /** The `approval_expired` event, for a redemption that finds the grant just over. */
  readonly expiredEvent: AuditEvent;
}

/** Stands for the approver's name (JSON-escaped) in prepared record lines. */
export const APPROVER_MARKER = "@@approver-5e1c7b@@";
/** Stands for an approval status in prepared record lines. */
export const APPROVAL_STATUS_MARKER = "@@approval-status-5e1c7b@@";
/** Stands for the redeemed decision's reason (its JSON-escaped text) in prepared decision fields. */
export const REDEEMED_REASON_MARKER = "@@redeemed-reason-5e1c7b@@";
