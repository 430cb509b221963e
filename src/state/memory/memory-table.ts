import { ExpiryQueue } from "./expiry-queue.ts";
import { ListingOrder } from "./listing-order.ts";
import { InvalidListPositionError, LIST_SCAN_BUDGET, listPosition, parseListPosition, type ListFilter, type ListPage, type ListResult, type RecordTable, type RevokeOutcome, type StoredRecord } from "../store.ts";

/** How a table reads the fields listings filter on, and what it tells its owner. */
export interface MemoryTableOptions<R extends StoredRecord> {
  /** The agent a listing's `agent` filter compares with. */
  readonly agentOf: (record: R) => string;
  /** The user a listing's `user` filter compares with. */
  readonly userOf: (record: R) => string;
  /** Purges every table of the store and returns the time now. */
  readonly now: () => number;
  /** A record was stored. */
  readonly onActive?: (record: R) => void;
  /** A record became inactive (revoked) or went away (expired). */
  readonly onInactive?: (record: R) => void;
}

/**
 * One kind of record kept in this process. Expired records are dropped
 * lazily, earliest first, whenever the store is used (the owner's `now`
 * calls {@link purge} on every table), so memory stays bounded by the live
 * records without a timer. Listings follow creation time, then id, read in
 * bounded steps from an ordered index.
 */
export class MemoryTable<R extends StoredRecord> implements RecordTable<R> {
  readonly #records = new Map<string, R>();
  readonly #expiry = new ExpiryQueue<string>();
  readonly #order = new ListingOrder();
  readonly #options: MemoryTableOptions<R>;

  constructor(options: MemoryTableOptions<R>) {
    this.#options = options;
  }

  get size(): number {
    return this.#records.size;
  }

  /** The record as stored, without purging first (for a caller that just did). */
  peek(id: string): R | undefined {
    return this.#records.get(id);
  }

  async create(record: R): Promise<void> {
    this.insert(record);
  }

  /** Stores the record at once (dropped when already expired); what {@link create} does. */
  protected insert(record: R): void {
    if (record.expiresAt <= this.#options.now()) return;
    const stored = freeze(record);
    const previous = this.#records.get(record.id);
    if (previous !== undefined) this.#order.remove(previous.createdAt, previous.id);
    this.#records.set(record.id, stored);
    this.#order.add(record.createdAt, record.id);
    this.#expiry.push(record.expiresAt, record.id);
    this.#options.onActive?.(stored);
  }

  async get(id: string): Promise<R | undefined> {
    this.#options.now();
    return this.#records.get(id);
  }

  async list(filter: ListFilter, page: ListPage): Promise<ListResult<R>> {
    this.#options.now();
    const { agentOf, userOf } = this.#options;
    let from = 0;
    if (page.after !== undefined && page.after !== "") {
      const after = parseListPosition(page.after);
      if (after === undefined) throw new InvalidListPositionError(page.after);
      from = this.#order.indexAfter(after.createdAt, after.id);
    }
    const records: R[] = [];
    let next = "";
    const end = Math.min(this.#order.length, from + LIST_SCAN_BUDGET);
    for (let i = from; i < end && records.length < page.limit; i++) {
      const { at, id } = this.#order.at(i);
      next = i + 1 < this.#order.length ? listPosition(at, id) : "";
      const r = this.#records.get(id);
      if (r === undefined || r.createdAt !== at) continue;
      if (filter.agent && agentOf(r) !== filter.agent) continue;
      if (filter.user && userOf(r) !== filter.user) continue;
      if (r.revokedAt !== undefined && !filter.includeRevoked) continue;
      records.push(r);
    }
    return { records, next };
  }

  async revoke(id: string): Promise<RevokeOutcome<R>> {
    const now = this.#options.now();
    const current = this.#records.get(id);
    if (current === undefined) return { status: "not_found" };
    if (current.revokedAt !== undefined) return { status: "already_revoked", record: current };
    const revoked = Object.freeze({ ...current, revokedAt: now });
    this.#records.set(id, revoked);
    this.#options.onInactive?.(current);
    return { status: "revoked", record: revoked };
  }

  /** Drops every record expired at `now`. */
  purge(now: number): void {
    this.#expiry.popDue(now, (id) => {
      const r = this.#records.get(id);
      if (r === undefined || r.expiresAt > now) return;
      this.#records.delete(id);
      this.#order.remove(r.createdAt, r.id);
      if (r.revokedAt === undefined) this.#options.onInactive?.(r);
    });
  }
}

function freeze<R extends StoredRecord>(record: R): R {
  const copy: Record<string, unknown> = { ...(record as object) };
  for (const [k, v] of Object.entries(copy)) if (Array.isArray(v)) copy[k] = Object.freeze([...(v as unknown[])]);
  return Object.freeze(copy) as R;
}
