import type { Cluster, Redis } from "ioredis";
import type { Clock } from "../../model/clock.ts";
import { budgetOf, InvalidListPositionError, LIST_SCAN_BUDGET, listPosition, parseListPosition, type DelegationRecord, type DelegationTable, type ListFilter, type ListPage, type ListResult, type RecordTable, type RevokeOutcome, type StoredRecord } from "../store.ts";
import { guard } from "./connection.ts";
import { CREATE, CREATE_WITHIN, GET, LIST, REVOKE } from "./scripts.ts";

/**
 * How one kind of record is laid out in Redis: its hash, its fields, and the
 * sorted-set indexes that list it (each ordered by the record's own time).
 */
export interface TableLayout<R extends StoredRecord> {
  /** The key of a record's hash; `recordKey("")` is the base the scripts append ids to. */
  recordKey(id: string): string;
  /** Every index the record belongs to; the first lists all records. */
  indexesOf(record: R): string[];
  /** The index to read for a listing (the narrowest the filter allows). */
  listIndex(filter: ListFilter): string;
  /** The hash fields a listing's `agent` and `user` filters compare with. */
  readonly filterFields: readonly [agent: string, user: string];
  /** The record as hash field/value pairs (besides `revoked`). */
  fields(record: R): (string | number)[];
  /** The record from its hash (as a field/value map). */
  fromHash(id: string, hash: ReadonlyMap<string, string>): R;
}

type Scripted = {
  aaCreate(numKeys: number, ...args: (string | number)[]): Promise<number>;
  aaCreateWithin(numKeys: number, ...args: (string | number)[]): Promise<[number, number]>;
  aaGet(key: string, now: number): Promise<string[] | null>;
  aaRevoke(key: string, now: number): Promise<[string, string[]?]>;
  aaList(key: string, ...args: (string | number)[]): Promise<(string | string[])[]>;
};

/** Registers the table scripts on a client (once per client). */
export function defineTableScripts(client: Redis | Cluster): void {
  client.defineCommand("aaCreate", { lua: CREATE });
  client.defineCommand("aaCreateWithin", { lua: CREATE_WITHIN });
  client.defineCommand("aaGet", { lua: GET, numberOfKeys: 1 });
  client.defineCommand("aaRevoke", { lua: REVOKE, numberOfKeys: 1 });
  client.defineCommand("aaList", { lua: LIST, numberOfKeys: 1 });
}

/**
 * Records of one kind in Redis: each a hash whose TTL is its remaining
 * lifetime (no sweeper); a revoked record keeps its TTL, so it stays readable
 * as revoked until it would have expired. Each operation is one script; a
 * listing step looks at no more than LIST_SCAN_BUDGET index members, so it
 * holds Redis for a bounded slice however many records there are.
 */
export class RedisTable<R extends StoredRecord> implements RecordTable<R> {
  readonly #redis: Scripted;
  readonly #layout: TableLayout<R>;
  readonly #clock: Clock;
  readonly #onCreated: ((r: R) => void) | undefined;

  /** `onCreated` hears of each record this table stored (the decisions' batcher learns its patterns). */
  constructor(client: Redis | Cluster, layout: TableLayout<R>, clock: Clock, onCreated?: (r: R) => void) {
    this.#redis = client as unknown as Scripted;
    this.#layout = layout;
    this.#clock = clock;
    this.#onCreated = onCreated;
  }

  async create(r: R): Promise<void> {
    const indexes = this.#layout.indexesOf(r);
    await guard(this.#redis.aaCreate(1 + indexes.length, this.#layout.recordKey(r.id), ...indexes, r.id, this.#clock.now(), r.expiresAt, r.createdAt, ...this.#layout.fields(r)));
    this.#onCreated?.(r);
  }

  /**
   * Stores `r` by one script ({@link CREATE_WITHIN}) that first sums the
   * counts (`n`) of the active records in its last index and stores nothing
   * when that sum plus `own` would pass `max`.
   */
  protected async createCounted(r: R, own: number, max: number): Promise<{ stored: boolean; actions: number }> {
    const indexes = this.#layout.indexesOf(r);
    const [stored, actions] = await guard(
      this.#redis.aaCreateWithin(1 + indexes.length, this.#layout.recordKey(r.id), ...indexes, r.id, this.#clock.now(), r.expiresAt, r.createdAt, this.#layout.recordKey(""), max, own, ...this.#layout.fields(r)),
    );
    if (stored === 1) this.#onCreated?.(r);
    return { stored: stored === 1, actions };
  }

  async get(id: string): Promise<R | undefined> {
    const flat = await guard(this.#redis.aaGet(this.#layout.recordKey(id), this.#clock.now()));
    return flat === null ? undefined : this.#layout.fromHash(id, hashOf(flat));
  }

  async list(filter: ListFilter, page: ListPage): Promise<ListResult<R>> {
    const l = this.#layout;
    const [agentField, userField] = l.filterFields;
    let after = { score: "", id: "" };
    if (page.after !== undefined && page.after !== "") {
      const p = parseListPosition(page.after);
      if (p === undefined) throw new InvalidListPositionError(page.after);
      after = { score: String(p.createdAt), id: p.id };
    }
    const out = await guard(
      this.#redis.aaList(
        l.listIndex(filter),
        l.recordKey(""),
        this.#clock.now(),
        agentField,
        filter.agent ?? "",
        userField,
        filter.user ?? "",
        filter.includeRevoked ? "1" : "0",
        after.score,
        after.id,
        page.limit,
        LIST_SCAN_BUDGET,
      ),
    );
    const [score, member] = out as [string, string];
    const records: R[] = [];
    for (let i = 2; i + 1 < out.length; i += 2) records.push(l.fromHash(out[i] as string, hashOf(out[i + 1] as string[])));
    return { records, next: score === "" ? "" : listPosition(Number(score), member) };
  }

  async revoke(id: string): Promise<RevokeOutcome<R>> {
    const [status, flat] = await guard(this.#redis.aaRevoke(this.#layout.recordKey(id), this.#clock.now()));
    if (status !== "revoked" && status !== "already_revoked") return { status: "not_found" };
    return { status, record: this.#layout.fromHash(id, hashOf(flat ?? [])) };
  }
}

/**
 * Delegations in Redis: a creation counts the pair's active delegated
 * actions and stores in the same script (atomic across replicas).
 */
export class RedisDelegations extends RedisTable<DelegationRecord> implements DelegationTable {
  createWithin(record: DelegationRecord, maxActions: number): Promise<{ stored: boolean; actions: number }> {
    return this.createCounted(record, budgetOf(record), maxActions);
  }
}

/** A hash reply (field, value, field, value…) as a map. */
export function hashOf(flat: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i]!, flat[i + 1]!);
  return m;
}
