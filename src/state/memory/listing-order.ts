/** One entry of a {@link ListingOrder}. */
export interface OrderEntry {
  readonly at: number;
  readonly id: string;
}

/**
 * Record ids in listing order — creation time, then id by its UTF-8 bytes
 * (the order of a Redis sorted set) — so a listing resumes after a position
 * by binary search instead of from the start. Records come mostly in time
 * order, so adding is usually an append; removing marks the entry and the
 * array is compacted once most of it is marked.
 */
export class ListingOrder {
  #entries: (OrderEntry & { gone: boolean })[] = [];
  #gone = 0;

  /** Entries, removed ones included until the next compaction. */
  get length(): number {
    return this.#entries.length;
  }

  /** The entry at index `i` (it may have been removed: check the record). */
  at(i: number): OrderEntry {
    return this.#entries[i]!;
  }

  add(at: number, id: string): void {
    const entry = { at, id, gone: false };
    const last = this.#entries.at(-1);
    if (last === undefined || compare(last, entry) < 0) this.#entries.push(entry);
    else this.#entries.splice(this.indexAfter(at, id), 0, entry);
  }

  remove(at: number, id: string): void {
    const i = this.#indexOf(at, id);
    if (i < 0 || this.#entries[i]!.gone) return;
    this.#entries[i]!.gone = true;
    if (++this.#gone > 1024 && this.#gone * 2 > this.#entries.length) {
      this.#entries = this.#entries.filter((e) => !e.gone);
      this.#gone = 0;
    }
  }

  /** Index of the first entry after position (at, id). */
  indexAfter(at: number, id: string): number {
    const key = { at, id };
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(this.#entries[mid]!, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #indexOf(at: number, id: string): number {
    const i = this.indexAfter(at, id) - 1;
    const e = this.#entries[i];
    return e !== undefined && e.at === at && e.id === id ? i : -1;
  }
}

function compare(a: OrderEntry, b: OrderEntry): number {
  if (a.at !== b.at) return a.at - b.at;
  if (a.id === b.id) return 0;
  return Buffer.compare(Buffer.from(a.id, "utf8"), Buffer.from(b.id, "utf8"));
}
