import type { ApprovalTable } from "./approval-records.ts";
import type { OutcomeQuery, StateOutcome } from "./outcome.ts";

/**
 * The contract every state backend (memory, Redis) implements: sessions and
 * delegations with clock-based expiry, and the one read a decision needs.
 *
 * Times are milliseconds since the epoch, read from the store's clock. A record
 * is expired once `now >= expiresAt`; from then on it is gone (not found, not
 * listed). A revoked record stays readable, marked revoked, until it would have
 * expired. Every backend passes the same suite (test/state/contract.ts).
 */

/** What every stored grant has: an id, a lifetime and, once revoked, when. */
export interface StoredRecord {
  readonly id: string;
  /** When it was created (sessions) or granted (delegations). */
  readonly createdAt: number;
  readonly expiresAt: number;
  /** When it was revoked; absent while it is active. */
  readonly revokedAt?: number | undefined;
}

/** A stored session. */
export interface SessionRecord extends StoredRecord {
  readonly agent: string;
  readonly user: string;
  readonly scope: string;
}

/** A stored delegation grant. */
export interface DelegationRecord extends StoredRecord {
  readonly fromUser: string;
  readonly toAgent: string;
  readonly actions: readonly string[];
  readonly reason: string;
}

/** Outcome of a revocation. */
export type RevokeOutcome<T> =
  | { readonly status: "revoked"; readonly record: T }
  | { readonly status: "already_revoked"; readonly record: T }
  | { readonly status: "not_found" };

/**
 * Filters for listings; an absent or empty field matches everything. For
 * sessions `agent` and `user` are the session's; for delegations `agent` is
 * the receiving agent and `user` the granting user.
 */
export interface ListFilter {
  readonly agent?: string | undefined;
  readonly user?: string | undefined;
  /** Include revoked (not yet expired) records. Default false. */
  readonly includeRevoked?: boolean | undefined;
}

/** Which part of a listing to read. */
export interface ListPage {
  /** Continue after this position (a `next` of an earlier page); absent or "" for the start. */
  readonly after?: string | undefined;
  /** Records to return at most (1 to {@link MAX_LIST_LIMIT}). */
  readonly limit: number;
}

/** A part of a listing. */
export interface ListResult<R> {
  /** Matching records, oldest first (by creation time, then id). */
  readonly records: R[];
  /** Where the next part starts; "" when the listing is complete. */
  readonly next: string;
}

/** Records one {@link RecordTable.list} call returns, at most. */
export const MAX_LIST_LIMIT = 1000;

/**
 * Records one {@link RecordTable.list} call looks at, at most, matching or
 * not: a listing whose filter matches few records costs this much per call
 * (and returns where to continue), never a pass over every record at once.
 */
export const LIST_SCAN_BUDGET = 1000;

/** A listing position: the record's creation time and id, the order listings follow. */
export function listPosition(createdAt: number, id: string): string {
  return `${createdAt}:${id}`;
}

/** The creation time and id of a listing position; undefined when malformed. */
export function parseListPosition(text: string): { readonly createdAt: number; readonly id: string } | undefined {
  const m = /^(-?\d{1,16}):/.exec(text);
  if (m === null) return undefined;
  return { createdAt: Number(m[1]), id: text.slice(m[0].length) };
}

/** Thrown for a listing position no listing returned. */
export class InvalidListPositionError extends Error {
  override readonly name = "InvalidListPositionError" as const;
  constructor(readonly position: string) {
    super(`'${position}' is not a listing position`);
  }
}

export function isInvalidListPositionError(e: unknown): e is InvalidListPositionError {
  return e instanceof Error && e.name === "InvalidListPositionError";
}

/** One kind of stored grant (sessions, delegations): the same four operations. */
export interface RecordTable<R extends StoredRecord> {
  /** Stores a new record (a record already expired at `now` is dropped). */
  create(record: R): Promise<void>;
  /** The record, revoked or not, until it expires. */
  get(id: string): Promise<R | undefined>;
  /**
   * Part of the unexpired records matching the filter, oldest first (by
   * creation time, then id): at most `page.limit` of them, after looking at
   * no more than {@link LIST_SCAN_BUDGET} records, with the position to
   * continue from. A part may hold fewer records than the limit (even none)
   * and still not be the last: only `next === ""` ends a listing.
   */
  list(filter: ListFilter, page: ListPage): Promise<ListResult<R>>;
  /** Marks it revoked; the change is stored before this resolves. */
  revoke(id: string): Promise<RevokeOutcome<R>>;
}

/** Health of a store, as reported to health checks and metrics. */
export interface StoreHealth {
  readonly ok: boolean;
  readonly detail: string;
}

/** A backend for sessions and delegations. */
export interface StateStore {
  /** "memory" or "redis". */
  readonly kind: string;
  readonly sessions: RecordTable<SessionRecord>;
  readonly delegations: RecordTable<DelegationRecord>;
  /** Approval tasks. */
  readonly approvals: ApprovalTable;

  /**
   * The state-dependent part of a decision (the session check and the grant
   * that allows the action, and the redemption of an approval the request
   * presented), in one read — one round trip for a remote store.
   */
  resolveOutcome(query: OutcomeQuery): Promise<StateOutcome>;

  health(): StoreHealth;
  close(): Promise<void>;
}
