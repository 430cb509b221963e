import { systemClock, type Clock } from "../engine/clock.ts";
import { ExpiryQueue } from "./expiry-queue.ts";
import { resolveOutcome, type OutcomeQuery, type StateOutcome } from "./outcome.ts";
import type {
  DecisionState,
  DecisionStateQuery,
  DelegationRecord,
  ListFilter,
  RevokeOutcome,
  SessionRecord,
  StateStore,
  StoreHealth,
} from "./store.ts";

/** Options for {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Time source for expiry; the engine passes its own. */
  readonly clock?: Clock;
}

const NO_DELEGATIONS: readonly DelegationRecord[] = Object.freeze([]);

/**
 * The embedded state store: everything in this process, nothing shared.
 *
 * Expired records are dropped lazily on every operation, earliest first, so
 * memory stays bounded by the live records without a background timer.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): StateStore {
  return new MemoryStore(options.clock ?? systemClock);
}

type ExpiryKey = { readonly kind: "session" | "delegation"; readonly id: string };

class MemoryStore implements StateStore {
  readonly kind = "memory";
  readonly auditDurability = undefined;
  readonly #clock: Clock;
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #delegations = new Map<string, DelegationRecord>();
  /** `${toAgent}\0${fromUser}` → grants in creation order. */
  readonly #grantsByPair = new Map<string, DelegationRecord[]>();
  readonly #expiry = new ExpiryQueue<ExpiryKey>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async createSession(record: SessionRecord): Promise<void> {
    const now = this.#purge();
    if (record.expiresAt <= now) return;
    this.#sessions.set(record.id, Object.freeze({ ...record }));
    this.#expiry.push(record.expiresAt, { kind: "session", id: record.id });
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    this.#purge();
    return this.#sessions.get(id);
  }

  async listSessions(filter: ListFilter = {}): Promise<SessionRecord[]> {
    this.#purge();
    const out: SessionRecord[] = [];
    for (const s of this.#sessions.values()) {
      if (filter.agent && s.agent !== filter.agent) continue;
      if (filter.user && s.user !== filter.user) continue;
      if (s.revokedAt !== undefined && !filter.includeRevoked) continue;
      out.push(s);
    }
    return out;
  }

  async revokeSession(id: string): Promise<RevokeOutcome<SessionRecord>> {
    const now = this.#purge();
    const current = this.#sessions.get(id);
    if (current === undefined) return { status: "not_found" };
    if (current.revokedAt !== undefined) return { status: "already_revoked", record: current };
    const revoked = Object.freeze({ ...current, revokedAt: now });
    this.#sessions.set(id, revoked);
    return { status: "revoked", record: revoked };
  }

  async createDelegation(record: DelegationRecord): Promise<void> {
    const now = this.#purge();
    if (record.expiresAt <= now) return;
    const frozen = Object.freeze({ ...record, actions: Object.freeze([...record.actions]) });
    this.#delegations.set(record.id, frozen);
    const key = pairKey(record.toAgent, record.fromUser);
    const list = this.#grantsByPair.get(key);
    if (list === undefined) this.#grantsByPair.set(key, [frozen]);
    else list.push(frozen);
    this.#expiry.push(record.expiresAt, { kind: "delegation", id: record.id });
  }

  async getDelegation(id: string): Promise<DelegationRecord | undefined> {
    this.#purge();
    return this.#delegations.get(id);
  }

  async listDelegations(filter: ListFilter = {}): Promise<DelegationRecord[]> {
    this.#purge();
    const out: DelegationRecord[] = [];
    for (const d of this.#delegations.values()) {
      if (filter.agent && d.toAgent !== filter.agent) continue;
      if (filter.user && d.fromUser !== filter.user) continue;
      if (d.revokedAt !== undefined && !filter.includeRevoked) continue;
      out.push(d);
    }
    return out;
  }

  async revokeDelegation(id: string): Promise<RevokeOutcome<DelegationRecord>> {
    const now = this.#purge();
    const current = this.#delegations.get(id);
    if (current === undefined) return { status: "not_found" };
    if (current.revokedAt !== undefined) return { status: "already_revoked", record: current };
    const revoked = Object.freeze({ ...current, revokedAt: now });
    this.#delegations.set(id, revoked);
    const list = this.#grantsByPair.get(pairKey(current.toAgent, current.fromUser));
    if (list !== undefined) {
      const i = list.findIndex((d) => d.id === id);
      if (i >= 0) list.splice(i, 1);
    }
    return { status: "revoked", record: revoked };
  }

  fetchDecisionState(query: DecisionStateQuery): Promise<DecisionState> {
    this.#purge();
    const session = query.sessionId === "" ? undefined : this.#sessions.get(query.sessionId);
    const delegations = query.delegations
      ? (this.#grantsByPair.get(pairKey(query.agent, query.user)) ?? NO_DELEGATIONS)
      : NO_DELEGATIONS;
    return Promise.resolve({ session, delegations: delegations.length === 0 ? NO_DELEGATIONS : delegations.slice() });
  }

  async resolveOutcome(query: OutcomeQuery): Promise<StateOutcome> {
    const state = await this.fetchDecisionState(query);
    return resolveOutcome(state, query, this.#clock.now());
  }

  health(): StoreHealth {
    return { ok: true, detail: `memory: ${this.#sessions.size} sessions, ${this.#delegations.size} delegations` };
  }

  async close(): Promise<void> {
    // Nothing to release: the records live and die with the process.
  }

  /** Drops everything expired by now and returns now. */
  #purge(): number {
    const now = this.#clock.now();
    this.#expiry.popDue(now, (key) => {
      if (key.kind === "session") {
        const s = this.#sessions.get(key.id);
        if (s !== undefined && s.expiresAt <= now) this.#sessions.delete(key.id);
        return;
      }
      const d = this.#delegations.get(key.id);
      if (d === undefined || d.expiresAt > now) return;
      this.#delegations.delete(key.id);
      const pk = pairKey(d.toAgent, d.fromUser);
      const list = this.#grantsByPair.get(pk);
      if (list === undefined) return;
      const i = list.findIndex((x) => x.id === key.id);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.#grantsByPair.delete(pk);
    });
    return now;
  }
}

function pairKey(agent: string, user: string): string {
  return `${agent}\u0000${user}`;
}
