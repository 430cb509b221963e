import type { AuditEvent } from "../audit/event.ts";
import type { AuthDecision } from "../engine/types.ts";
import type { OutcomeQuery, StateOutcome } from "./outcome.ts";

/**
 * The contract every state backend (memory, Redis) implements: sessions and
 * delegations with clock-based expiry, and the single read a decision needs.
 *
 * Times are milliseconds since the epoch, read from the store's clock. A record
 * is expired once `now >= expiresAt`; from then on it is gone (not found, not
 * listed). A revoked record stays readable, marked revoked, until it would have
 * expired. Every backend passes the same suite (test/state/contract.ts).
 */

/** A stored session. */
export interface SessionRecord {
  readonly id: string;
  readonly agent: string;
  readonly user: string;
  readonly scope: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** When it was revoked; absent while it is active. */
  readonly revokedAt?: number | undefined;
}

/** A stored delegation grant. */
export interface DelegationRecord {
  readonly id: string;
  readonly fromUser: string;
  readonly toAgent: string;
  readonly actions: readonly string[];
  readonly grantedAt: number;
  readonly expiresAt: number;
  readonly reason: string;
  readonly revokedAt?: number | undefined;
}

/** What a decision may need from the store, fetched in one read. */
export interface DecisionStateQuery {
  /** "" when the request names no session. */
  readonly sessionId: string;
  readonly agent: string;
  readonly user: string;
  /** Whether the agent's delegations from this user are needed. */
  readonly delegations: boolean;
}

/** The answer to a {@link DecisionStateQuery}. */
export interface DecisionState {
  /** The named session if it exists and has not expired (it may be revoked). */
  readonly session: SessionRecord | undefined;
  /** Active (unrevoked, unexpired) grants from `user` to `agent`, oldest first; empty when not asked. */
  readonly delegations: readonly DelegationRecord[];
}

/** Outcome of a revocation. */
export type RevokeOutcome<T> =
  | { readonly status: "revoked"; readonly record: T }
  | { readonly status: "already_revoked"; readonly record: T }
  | { readonly status: "not_found" };

/** Filters for listings; an absent or empty field matches everything. */
export interface ListFilter {
  readonly agent?: string | undefined;
  readonly user?: string | undefined;
  /** Include revoked (not yet expired) records. Default false. */
  readonly includeRevoked?: boolean | undefined;
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

  createSession(record: SessionRecord): Promise<void>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  /** Unexpired sessions matching the filter (agent, user), oldest first. */
  listSessions(filter?: ListFilter): Promise<SessionRecord[]>;
  revokeSession(id: string): Promise<RevokeOutcome<SessionRecord>>;

  createDelegation(record: DelegationRecord): Promise<void>;
  getDelegation(id: string): Promise<DelegationRecord | undefined>;
  /** Unexpired delegations matching the filter (agent = to_agent, user = from_user), oldest first. */
  listDelegations(filter?: ListFilter): Promise<DelegationRecord[]>;
  revokeDelegation(id: string): Promise<RevokeOutcome<DelegationRecord>>;

  /** The session and delegations a decision needs, in a single read (one round trip). */
  fetchDecisionState(query: DecisionStateQuery): Promise<DecisionState>;

  /**
   * The state-dependent part of a decision, in one round trip. When the store
   * keeps the audit stream with sync durability, `record` carries the
   * decision's audit line for each possible outcome and the store appends the
   * matching one in the same round trip.
   */
  resolveOutcome(query: OutcomeQuery, record?: OutcomeRecord): Promise<StateOutcome>;

  /**
   * Set when the store also keeps the shared audit stream: `sync` — a
   * decision's record is appended before the decision is returned (in the same
   * round trip as its state read, via `resolveOutcome`'s `record`); `async` —
   * records are batched. Undefined: the store keeps no audit stream.
   */
  readonly auditDurability: "sync" | "async" | undefined;

  /**
   * Appends a decision that needed no state read to the shared audit stream
   * (only when `auditDurability` is set). Returns a promise when the caller
   * must wait (sync durability, backpressure). A `background` record — a
   * fail-closed deny given because a read or a record failed — is retried
   * until the store takes it and never makes the caller wait for that.
   */
  appendAudit?(event: AuditEvent, background?: boolean): void | Promise<void>;

  health(): StoreHealth;
  close(): Promise<void>;
}

/**
 * A decision's audit record for each outcome, prepared by the engine before
 * the state is known: `event` is the record if no grant is needed or found;
 * when a delegation allows, the record is the same with `ifGrant` as its
 * decision (undefined when no grant was looked for); after a failed session
 * check, the store writes the denial itself, shaped as the decision fields
 * of audit/record-bytes.ts.
 */
export interface OutcomeRecord {
  readonly event: AuditEvent;
  readonly ifGrant: AuthDecision | undefined;
}
