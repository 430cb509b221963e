import {
  approvalKeepUntil,
  approvalStatusAt,
  APPROVAL_SKIPPED,
  redemptionCheck,
  type ApprovalChange,
  type ApprovalChangeOutcome,
  type ApprovalCreateOutcome,
  type ApprovalListFilter,
  type ApprovalListResult,
  type ApprovalRead,
  type ApprovalRecord,
  type ApprovalRedemption,
  type ApprovalTable,
  type ApprovalUse,
} from "../approval-records.ts";
import { InvalidListPositionError, LIST_SCAN_BUDGET, listPosition, parseListPosition, type ListPage } from "../store.ts";
import { ListingOrder } from "./listing-order.ts";

/**
 * Approval tasks kept in this process. Each operation reads the clock once;
 * a task past its history is dropped when met, and every so many operations
 * a pass drops all of them, so memory stays bounded without a timer.
 */
export class MemoryApprovals implements ApprovalTable {
  readonly #records = new Map<string, ApprovalRecord>();
  readonly #order = new ListingOrder();
  /** `agent\0user\0key` → task id. */
  readonly #keys = new Map<string, string>();
  /** `agent\0user` → pending task ids and when they stop being pending. */
  readonly #pending = new Map<string, Map<string, number>>();
  readonly #now: () => number;
  #operations = 0;

  constructor(now: () => number) {
    this.#now = now;
  }

  get size(): number {
    return this.#records.size;
  }

  create(record: ApprovalRecord, maxPending: number): Promise<ApprovalCreateOutcome> {
    const now = this.#tick();
    const pair = pairKey(record.agent, record.user);
    const key = record.idempotencyKey === "" ? undefined : `${pair}\u0000${record.idempotencyKey}`;
    if (key !== undefined) {
      const id = this.#keys.get(key);
      const read = id === undefined ? undefined : this.#read(id, now);
      if (read !== undefined) return Promise.resolve({ kind: "existing", read });
    }
    const pending = this.#pending.get(pair);
    let count = 0;
    if (pending !== undefined) for (const until of pending.values()) if (until > now) count++;
    if (count >= maxPending) return Promise.resolve({ kind: "limit", pending: count });
    this.#records.set(record.id, record);
    this.#order.add(record.createdAt, record.id);
    if (key !== undefined) this.#keys.set(key, record.id);
    if (pending === undefined) this.#pending.set(pair, new Map([[record.id, record.expiresAt]]));
    else pending.set(record.id, record.expiresAt);
    return Promise.resolve({ kind: "created", record });
  }

  get(id: string): Promise<ApprovalRead | undefined> {
    return Promise.resolve(this.#read(id, this.#tick()));
  }

  transition(id: string, change: ApprovalChange): Promise<ApprovalChangeOutcome> {
    const read = this.#read(id, this.#tick());
    if (read === undefined) return Promise.resolve({ kind: "not_found" });
    const r = read.record;
    if (r.status !== "pending") return Promise.resolve({ kind: "terminal", read });
    const next: ApprovalRecord = {
      ...r,
      status: change.to,
      decidedAt: change.at,
      decidedBy: change.by,
      comment: change.comment,
      expiresAt: change.to === "approved" ? change.expiresAt : change.at,
    };
    this.#store(next);
    return Promise.resolve({ kind: "changed", record: next });
  }

  list(filter: ApprovalListFilter, page: ListPage): Promise<ApprovalListResult> {
    const now = this.#tick();
    let start = 0;
    if (page.after !== undefined && page.after !== "") {
      const p = parseListPosition(page.after);
      if (p === undefined) return Promise.reject(new InvalidListPositionError(page.after));
      start = this.#order.indexAfter(p.createdAt, p.id);
    }
    const records: ApprovalRecord[] = [];
    const expiredNow: ApprovalRecord[] = [];
    let i = start;
    let looked = 0;
    let last = "";
    for (; i < this.#order.length && looked < LIST_SCAN_BUDGET && records.length < page.limit; i++) {
      const entry = this.#order.at(i);
      looked++;
      last = listPosition(entry.at, entry.id);
      const read = this.#read(entry.id, now);
      if (read === undefined || read.record.createdAt !== entry.at) continue;
      if (read.expiredNow) expiredNow.push(read.record);
      const r = read.record;
      if (filter.status !== undefined && r.status !== filter.status) continue;
      if (filter.agent !== undefined && filter.agent !== "" && r.agent !== filter.agent) continue;
      if (filter.user !== undefined && filter.user !== "" && r.user !== filter.user) continue;
      records.push(r);
    }
    return Promise.resolve({ records, next: i >= this.#order.length ? "" : last, expiredNow });
  }

  /** Spends one use of the approval when `q` may redeem it (see {@link redemptionCheck}). */
  redeem(q: ApprovalRedemption, rank: number, now: number): ApprovalUse {
    if (rank < 0) return APPROVAL_SKIPPED;
    const read = this.#read(q.id, now);
    if (read?.expiredNow === true) return { kind: "unusable", status: "expired", expiredNow: true };
    const use = redemptionCheck(read?.record, q, rank, now);
    if (use.kind === "redeemed") {
      const r = read!.record;
      this.#store(use.usesLeft > 0 ? { ...r, usesLeft: use.usesLeft } : { ...r, usesLeft: 0, status: "used", expiresAt: now });
    }
    return use;
  }

  /** The task as it stands at `now`; stores `expired` the first time it is found past its end. */
  #read(id: string, now: number): ApprovalRead | undefined {
    const r = this.#records.get(id);
    if (r === undefined) return undefined;
    if (now >= approvalKeepUntil(r)) {
      this.#drop(r);
      return undefined;
    }
    if (approvalStatusAt(r, now) === "expired" && r.status !== "expired") {
      const expired: ApprovalRecord = { ...r, status: "expired" };
      this.#store(expired);
      return { record: expired, expiredNow: true };
    }
    return { record: r, expiredNow: false };
  }

  #store(r: ApprovalRecord): void {
    this.#records.set(r.id, r);
    if (r.status !== "pending") this.#pending.get(pairKey(r.agent, r.user))?.delete(r.id);
  }

  #drop(r: ApprovalRecord): void {
    this.#records.delete(r.id);
    this.#order.remove(r.createdAt, r.id);
    const pair = pairKey(r.agent, r.user);
    const pending = this.#pending.get(pair);
    if (pending !== undefined) {
      pending.delete(r.id);
      if (pending.size === 0) this.#pending.delete(pair);
    }
    if (r.idempotencyKey !== "") {
      const key = `${pair}\u0000${r.idempotencyKey}`;
      if (this.#keys.get(key) === r.id) this.#keys.delete(key);
    }
  }

  /** The time now; every 256 operations, drops every task past its history. */
  #tick(): number {
    const now = this.#now();
    if ((++this.#operations & 255) === 0) {
      for (const r of [...this.#records.values()]) if (now >= approvalKeepUntil(r)) this.#drop(r);
    }
    return now;
  }
}

function pairKey(agent: string, user: string): string {
  return `${agent}\u0000${user}`;
}
