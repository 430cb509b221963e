import { randomUUID } from "node:crypto";
import type { Clock } from "../model/clock.ts";
import { DelegationValidationError, InvalidRequestError } from "../model/errors.ts";
import type { RequestLimits } from "../model/request.ts";
import type { DelegationGrant, Session } from "../model/types.ts";
import type { CompiledPolicy } from "../policy/index.ts";
import { MAX_LIST_LIMIT, type DelegationRecord, type ListFilter, type RecordTable, type RevokeOutcome, type SessionRecord, type StoredRecord } from "../state/store.ts";
import { toDelegationGrant, toSession } from "./records.ts";
import { checkDuration, checkName, checkOptionalText, checkPattern, checkPatterns } from "./validate-input.ts";

/** Input of {@link AuthEngine.createSession}. */
export interface CreateSessionInput {
  readonly agent: string;
  readonly user: string;
  /** fnmatch pattern later requests' scopes must match; "" for any. */
  readonly scope?: string | undefined;
  /** Seconds. Default: the agent profile's max_session_duration, else sessions.default_duration. */
  readonly duration?: number | null | undefined;
}

/** Input of {@link AuthEngine.createDelegation}. */
export interface CreateDelegationInput {
  readonly fromUser: string;
  readonly toAgent: string;
  /** fnmatch patterns of the delegated actions. */
  readonly actions: readonly string[];
  /** Seconds. Default: delegation.default_duration. */
  readonly duration?: number | null | undefined;
  readonly reason?: string | undefined;
}

/** Which part of a listing to read: after a `next` of an earlier page, at most `limit` items. */
export interface PageRequest {
  /** The `next` of the previous page; absent or "" for the first. */
  readonly after?: string | undefined;
  /** Items per page, 1 to 1000. Default 100. */
  readonly limit?: number | undefined;
}

/**
 * A page of a listing. It may hold fewer items than asked for, even none,
 * and still not be the last: each call looks at a bounded number of records.
 * The listing is complete when `next` is "".
 */
export interface Page<V> {
  readonly items: V[];
  readonly next: string;
}

/** Outcome of a revocation, with the record as it now stands. */
export type Revocation<T> =
  | { readonly status: "revoked" | "already_revoked"; readonly record: T }
  | { readonly status: "not_found" };

/** A new session record for `input` under `policy`, validated (InvalidRequestError naming the field). */
export function newSession(input: CreateSessionInput, policy: CompiledPolicy, limits: RequestLimits, now: number): SessionRecord {
  const agent = checkName(input.agent, "agent", limits);
  const user = checkName(input.user, "user", limits);
  const scope = checkPattern(checkOptionalText(input.scope, "scope", limits), "scope", limits);
  const sessions = policy.config.sessions;
  let duration = checkDuration(input.duration, "duration");
  if (duration === undefined) duration = policy.profiles.get(agent)?.maxSessionDuration ?? sessions.defaultDuration;
  duration = Math.min(duration, sessions.maxDuration);
  return { id: randomUUID(), agent, user, scope, createdAt: now, expiresAt: now + duration * 1000 };
}

/**
 * A new delegation record for `input` under `policy`, validated; throws
 * DelegationValidationError (the original's messages) when the delegation
 * settings or rules refuse it.
 */
export function newDelegation(input: CreateDelegationInput, policy: CompiledPolicy, limits: RequestLimits, now: number): DelegationRecord {
  const fromUser = checkName(input.fromUser, "from_user", limits);
  const toAgent = checkName(input.toAgent, "to_agent", limits);
  const actions = checkPatterns(input.actions, "actions", limits);
  const reason = checkOptionalText(input.reason, "reason", limits);
  const duration = checkDuration(input.duration, "duration") ?? policy.config.delegation.defaultDuration;
  const errors = policy.delegationRules.validate(actions, duration, reason);
  if (errors.length > 0) throw new DelegationValidationError(errors);
  return { id: randomUUID(), fromUser, toAgent, actions, createdAt: now, expiresAt: now + duration * 1000, reason };
}

/**
 * Reading and revoking one kind of grant (sessions, delegations) as callers
 * see it: ids checked, records turned into views with their status now.
 */
export class GrantBook<R extends StoredRecord, V> {
  readonly #table: () => RecordTable<R>;
  readonly #view: (record: R, now: number) => V;
  readonly #idField: string;
  readonly #limits: RequestLimits;
  readonly #clock: Clock;

  constructor(options: { table: () => RecordTable<R>; view: (record: R, now: number) => V; idField: string; limits: RequestLimits; clock: Clock }) {
    this.#table = options.table;
    this.#view = options.view;
    this.#idField = options.idField;
    this.#limits = options.limits;
    this.#clock = options.clock;
  }

  async create(record: R): Promise<V> {
    await this.#table().create(record);
    return this.#view(record, this.#clock.now());
  }

  /** Revoked or not, until it expires; undefined after. */
  async get(id: string): Promise<V | undefined> {
    const record = await this.#table().get(checkName(id, this.#idField, this.#limits));
    return record === undefined ? undefined : this.#view(record, this.#clock.now());
  }

  /** One page: a bounded step through the records, oldest first. */
  async page(filter: ListFilter, request: PageRequest = {}): Promise<Page<V>> {
    const limit = request.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new InvalidRequestError("limit", `must be an integer between 1 and ${MAX_LIST_LIMIT}, got ${limit}`);
    const { records, next } = await this.#table().list(filter, { after: request.after, limit });
    const now = this.#clock.now();
    return { items: records.map((r) => this.#view(r, now)), next };
  }

  /** Every matching record, read page by page (each read a bounded step for the store). */
  async list(filter: ListFilter): Promise<V[]> {
    const out: V[] = [];
    let after = "";
    do {
      const page = await this.page(filter, { after, limit: MAX_LIST_LIMIT });
      out.push(...page.items);
      after = page.next;
    } while (after !== "");
    return out;
  }

  /** Stored before this resolves. */
  async revoke(id: string): Promise<Revocation<V>> {
    const outcome: RevokeOutcome<R> = await this.#table().revoke(checkName(id, this.#idField, this.#limits));
    return outcome.status === "not_found" ? outcome : { status: outcome.status, record: this.#view(outcome.record, this.#clock.now()) };
  }
}

/** The two books an engine keeps. */
export function grantBooks(tables: () => { sessions: RecordTable<SessionRecord>; delegations: RecordTable<DelegationRecord> }, limits: RequestLimits, clock: Clock) {
  return {
    sessions: new GrantBook<SessionRecord, Session>({ table: () => tables().sessions, view: toSession, idField: "session_id", limits, clock }),
    delegations: new GrantBook<DelegationRecord, DelegationGrant>({ table: () => tables().delegations, view: toDelegationGrant, idField: "delegation_id", limits, clock }),
  };
}
