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

/** One kind of stored grant (sessions, delegations): the same four operations. */
export interface RecordTable<R extends StoredRecord> {
  /** Stores a new record (a record already expired at `now` is dropped). */
  create(record: R): Promise<void>;
  /** The record, revoked or not, until it expires. */
  get(id: string): Promise<R | undefined>;
  /** Unexpired records matching the filter, oldest first. */
  list(filter?: ListFilter): Promise<R[]>;
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

  /**
   * The state-dependent part of a decision (the session check and the grant
   * that allows the action), in one read — one round trip for a remote store.
   */
  resolveOutcome(query: OutcomeQuery): Promise<StateOutcome>;

  health(): StoreHealth;
  close(): Promise<void>;
}
