import { systemClock, type Clock } from "../../model/clock.ts";
import { APPROVAL_SKIPPED } from "../approval-records.ts";
import { resolveOutcome, type OutcomeQuery, type StateOutcome } from "../outcome.ts";
import type { DelegationRecord, SessionRecord, StateStore, StoreHealth } from "../store.ts";
import { MemoryApprovals } from "./memory-approvals.ts";
import { MemoryTable } from "./memory-table.ts";

/** Options for {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Time source for expiry; the engine's own when it builds the store. */
  readonly clock?: Clock;
}

const NO_DELEGATIONS: readonly DelegationRecord[] = Object.freeze([]);

/**
 * The embedded state store: everything in this process, nothing shared.
 * Expired records are dropped lazily on every operation, earliest first.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): StateStore {
  return new MemoryStore(options.clock ?? systemClock);
}

class MemoryStore implements StateStore {
  readonly kind = "memory";
  readonly sessions: MemoryTable<SessionRecord>;
  readonly delegations: MemoryTable<DelegationRecord>;
  readonly approvals: MemoryApprovals;
  readonly #clock: Clock;
  /** `${toAgent}\0${fromUser}` → active grants in creation order: what decisions read. */
  readonly #grantsByPair = new Map<string, DelegationRecord[]>();

  constructor(clock: Clock) {
    this.#clock = clock;
    const now = (): number => this.#purge();
    this.sessions = new MemoryTable<SessionRecord>({ agentOf: (s) => s.agent, userOf: (s) => s.user, now });
    this.delegations = new MemoryTable<DelegationRecord>({
      agentOf: (d) => d.toAgent,
      userOf: (d) => d.fromUser,
      now,
      onActive: (d) => this.#index(d),
      onInactive: (d) => this.#unindex(d),
    });
    this.approvals = new MemoryApprovals(now);
  }

  resolveOutcome(query: OutcomeQuery): Promise<StateOutcome> {
    const now = this.#purge();
    const session = query.sessionId === "" ? undefined : this.sessions.peek(query.sessionId);
    const delegations = query.delegations ? (this.#grantsByPair.get(pairKey(query.agent, query.user)) ?? NO_DELEGATIONS) : NO_DELEGATIONS;
    const outcome = resolveOutcome({ session, delegations }, query, now);
    const approval = query.approval;
    if (approval === undefined) return Promise.resolve(outcome);
    if (outcome.kind !== "ok") return Promise.resolve({ ...outcome, approval: APPROVAL_SKIPPED });
    const rank = outcome.grant !== undefined ? approval.rankIfGrant : approval.rankIfNoGrant;
    return Promise.resolve({ ...outcome, approval: this.approvals.redeem(approval, rank, now) });
  }

  health(): StoreHealth {
    return { ok: true, detail: `memory: ${this.sessions.size} sessions, ${this.delegations.size} delegations, ${this.approvals.size} approvals` };
  }

  async close(): Promise<void> {
    // Nothing to release: the records live and die with the process.
  }

  /** Drops everything expired by now and returns now. */
  #purge(): number {
    const now = this.#clock.now();
    this.sessions.purge(now);
    this.delegations.purge(now);
    return now;
  }

  #index(d: DelegationRecord): void {
    const key = pairKey(d.toAgent, d.fromUser);
    const list = this.#grantsByPair.get(key);
    if (list === undefined) this.#grantsByPair.set(key, [d]);
    else list.push(d);
  }

  #unindex(d: DelegationRecord): void {
    const key = pairKey(d.toAgent, d.fromUser);
    const list = this.#grantsByPair.get(key);
    if (list === undefined) return;
    const i = list.findIndex((x) => x.id === d.id);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#grantsByPair.delete(key);
  }
}

function pairKey(agent: string, user: string): string {
  return `${agent}\u0000${user}`;
}
