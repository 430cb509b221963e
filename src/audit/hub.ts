import { systemClock, type Clock } from "../model/clock.ts";
import { compareCursors, CursorSequence, parseCursor } from "./cursor.ts";
import { CursorExpiredError, InvalidCursorError, TooManySubscribersError } from "./errors.ts";
import { auditEventFromJson, type AuditEvent } from "./event.ts";
import { encodeAuditRecord } from "./record-bytes.ts";
import { compileAuditFilter, type AuditFilter } from "./filter.ts";
import { AuditLineRing } from "./line-ring.ts";
import type { AuditSink } from "./sink.ts";
import { AuditSubscription } from "./subscription.ts";

/** A decision with its position in the audit stream. */
export interface AuditEntry {
  readonly cursor: string;
  readonly event: AuditEvent;
}

/** Past entries, for resuming subscribers and queries (the shared stream, in Redis mode). */
export interface AuditHistory {
  /** Entries strictly after `after` ("0-0" for the start), oldest first, at most `count`. */
  read(after: string, count: number): Promise<AuditEntry[]>;
  /**
   * Entries strictly before `before` ("" for the newest), newest first, at
   * most `count`. Without it, a newest-first query reads forward.
   */
  readBefore?(before: string, count: number): Promise<AuditEntry[]>;
  /** Cursor of the newest entry ever trimmed ("0-0" when none was). */
  trimmedUpTo(): Promise<string>;
  /** Cursor of the newest entry ("0-0" when none): where "start now" begins. */
  latest(): Promise<string>;
}

/** Options for {@link AuditHub}. */
export interface AuditHubOptions {
  /**
   * Entries kept in memory when there is no shared history. Default 10,000.
   * They are kept as JSON lines outside the JS heap, and read back as events
   * without their request metadata (which the audit record does not hold).
   */
  readonly retain?: number;
  /** Bytes those entries may take, at most. Default 16 MiB. */
  readonly retainBytes?: number;
  /** Live entries a subscriber may fall behind before its stream ends. Default 4,096. */
  readonly subscriberBuffer?: number;
  /** Concurrent subscribers. Default 1,000. */
  readonly maxSubscribers?: number;
  /** Where history comes from; default: this hub's own bounded memory. */
  readonly history?: AuditHistory;
  readonly clock?: Clock;
  /** Sees every published entry (metrics: stream lag). */
  readonly onPublish?: (entry: AuditEntry) => void;
}

/** Options for {@link AuditHub.subscribe}. */
export interface SubscribeOptions {
  readonly filter?: AuditFilter | undefined;
  /** Resume after this cursor; absent or "" starts with the next decision. */
  readonly after?: string | undefined;
}

/** Options for {@link AuditHub.query}. */
export interface QueryOptions {
  readonly filter?: AuditFilter | undefined;
  /** Only entries after this cursor (paging). */
  readonly after?: string | undefined;
  /** Inclusive bounds on decision time (ms since the epoch). */
  readonly since?: number | undefined;
  readonly until?: number | undefined;
  readonly limit: number;
  /** Newest first (`after` then pages towards older entries). Default false. */
  readonly newestFirst?: boolean | undefined;
}

const PAGE = 1000;

/**
 * The audit stream as this process serves it: numbers decisions with cursors
 * (or relays a shared stream's), keeps or reads history, and fans decisions
 * out to subscribers, each filtered and bounded. Publishing is synchronous and
 * never waits for a subscriber.
 */
export class AuditHub implements AuditSink {
  readonly #onPublish: ((entry: AuditEntry) => void) | undefined;
  readonly #subscriberBuffer: number;
  readonly #maxSubscribers: number;
  readonly #clock: Clock;
  readonly #history: AuditHistory;
  readonly #cursors = new CursorSequence();
  /** The last `retain` entries (memory history); undefined with a shared history. */
  readonly #ring: AuditLineRing | undefined;
  #latest = "";
  #latestPending = false;
  readonly #subscribers = new Set<{ sub: AuditSubscription; matches: (e: AuditEvent) => boolean }>();
  readonly #sharedHistory: boolean;
  #onFirstSubscriber: ((from: string) => void) | undefined;

  constructor(options: AuditHubOptions = {}) {
    // With a shared history (Redis) nothing needs to be kept here.
    this.#ring = options.history !== undefined ? undefined : new AuditLineRing(Math.max(1, options.retain ?? 10_000), Math.max(4096, options.retainBytes ?? 16 * 1024 * 1024));
    this.#subscriberBuffer = Math.max(1, options.subscriberBuffer ?? 4096);
    this.#maxSubscribers = options.maxSubscribers ?? 1000;
    this.#clock = options.clock ?? systemClock;
    this.#history = options.history ?? {
      read: async (after, count) => this.#ringAfter(after, count),
      readBefore: async (before, count) => this.#ringBefore(before, count),
      trimmedUpTo: async () => this.#ring!.evicted,
      latest: async () => (this.latestCursor === "" ? "0-0" : this.latestCursor),
    };
    this.#sharedHistory = options.history !== undefined;
    this.#onPublish = options.onPublish;
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /** Cursor of the newest entry published here ("" when none). */
  get latestCursor(): string {
    // Decisions published to nobody leave their cursor as numbers until someone asks.
    if (this.#latestPending) {
      this.#latest = `${this.#cursors.ms}-${this.#cursors.seq}`;
      this.#latestPending = false;
    }
    return this.#latest;
  }

  /** As an audit sink: numbers the event and publishes it. */
  write(event: AuditEvent): void {
    const cursors = this.#cursors;
    cursors.advance(this.#clock.now());
    if (this.#ring !== undefined) {
      const record = encodeAuditRecord(event);
      this.#ring.pushBytes(cursors.ms, cursors.seq, record.line);
    }
    if (this.#subscribers.size === 0 && this.#onPublish === undefined) {
      this.#latestPending = true;
      return;
    }
    this.#deliver({ cursor: `${cursors.ms}-${cursors.seq}`, event });
  }

  /** Publishes an entry that already has a cursor (e.g. relayed from a shared stream). */
  publish(entry: AuditEntry): void {
    if (this.#ring !== undefined) {
      const at = parseCursor(entry.cursor);
      if (at === undefined) throw new InvalidCursorError(entry.cursor);
      const record = encodeAuditRecord(entry.event);
      this.#ring.pushBytes(at[0], at[1], record.line);
    }
    this.#deliver(entry);
  }

  #deliver(entry: AuditEntry): void {
    this.#latest = entry.cursor;
    this.#latestPending = false;
    this.#onPublish?.(entry);
    for (const s of this.#subscribers) if (s.matches(entry.event)) s.sub.push(entry);
  }

  /**
   * Starts a subscription. With `after`, the subscriber first receives every
   * entry after that cursor; CursorExpiredError when some of them were trimmed
   * away (the client would otherwise silently miss decisions).
   */
  async subscribe(options: SubscribeOptions = {}): Promise<AuditSubscription> {
    if (this.#subscribers.size >= this.#maxSubscribers) throw new TooManySubscribersError(this.#maxSubscribers);
    const matches = compileAuditFilter(options.filter);
    // With a shared stream, "now" is its newest entry; catching up from there
    // closes any gap before the relay's live entries.
    const after = options.after !== undefined && options.after !== "" ? options.after : this.#sharedHistory ? await this.#history.latest() : "";
    if (after !== "") await this.#checkResumable(after);
    const backfill =
      after === ""
        ? undefined
        : async (from: string): Promise<AuditEntry[]> => {
            // Re-checked on every page: trimming may overtake a slow catch-up.
            await this.#checkResumable(from);
            for (let cursor = from; ; ) {
              const page = await this.#history.read(cursor, PAGE);
              if (page.length === 0) return [];
              const wanted = page.filter((e) => matches(e.event));
              if (wanted.length > 0 || page.length < PAGE) return wanted;
              cursor = page[page.length - 1]!.cursor;
            }
          };
    const record = { sub: undefined as unknown as AuditSubscription, matches };
    record.sub = new AuditSubscription(this.#subscriberBuffer, after, () => this.#subscribers.delete(record), backfill);
    const first = this.#subscribers.size === 0;
    this.#subscribers.add(record);
    if (first) this.#onFirstSubscriber?.(after === "" ? "0-0" : after);
    return record.sub;
  }

  /** A page of past entries, oldest first (or newest first with `newestFirst`). */
  async query(options: QueryOptions): Promise<AuditEntry[]> {
    const matches = compileAuditFilter(options.filter);
    if (options.newestFirst === true) return this.#queryNewestFirst(options, matches);
    let cursor = options.after === undefined || options.after === "" ? "0-0" : options.after;
    if (parseCursor(cursor) === undefined) throw new InvalidCursorError(cursor);
    const out: AuditEntry[] = [];
    while (out.length < options.limit) {
      const page = await this.#history.read(cursor, PAGE);
      for (const entry of page) {
        const t = entry.event.time;
        if (options.until !== undefined && t > options.until) return out;
        if ((options.since === undefined || t >= options.since) && matches(entry.event)) {
          out.push(entry);
          if (out.length >= options.limit) return out;
        }
      }
      if (page.length < PAGE) break;
      cursor = page[page.length - 1]!.cursor;
    }
    return out;
  }

  /**
   * Called with the first subscriber's starting cursor whenever the hub goes
   * from no subscribers to one (a relay resumes tailing from there).
   */
  onFirstSubscriber(listener: (from: string) => void): void {
    this.#onFirstSubscriber = listener;
  }

  /** Ends every subscription (server shutdown). */
  closeAll(error?: Error): void {
    for (const s of [...this.#subscribers]) s.sub.close(error);
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closeAll();
  }

  async #checkResumable(after: string): Promise<void> {
    if (parseCursor(after) === undefined) throw new InvalidCursorError(after);
    const trimmed = await this.#history.trimmedUpTo();
    if (compareCursors(after, trimmed) < 0) {
      const oldest = (await this.#history.read("0-0", 1))[0]?.cursor ?? "";
      throw new CursorExpiredError(after, oldest);
    }
  }

  async #queryNewestFirst(options: QueryOptions, matches: (e: AuditEvent) => boolean): Promise<AuditEntry[]> {
    const before = options.after ?? "";
    if (before !== "" && parseCursor(before) === undefined) throw new InvalidCursorError(before);
    const wanted = (entry: AuditEntry): boolean => {
      const t = entry.event.time;
      return (options.since === undefined || t >= options.since) && (options.until === undefined || t <= options.until) && matches(entry.event);
    };
    const readBefore = this.#history.readBefore;
    if (readBefore === undefined) {
      // Forward only: keep the newest `limit` seen.
      const kept: AuditEntry[] = [];
      for (let cursor = "0-0"; ; ) {
        const page = await this.#history.read(cursor, PAGE);
        for (const e of page) {
          if (before !== "" && compareCursors(e.cursor, before) >= 0) break;
          if (!wanted(e)) continue;
          kept.push(e);
          if (kept.length > options.limit) kept.shift();
        }
        if (page.length < PAGE) break;
        cursor = page[page.length - 1]!.cursor;
      }
      return kept.reverse();
    }
    const out: AuditEntry[] = [];
    for (let cursor = before; out.length < options.limit; ) {
      const page = await readBefore.call(this.#history, cursor, PAGE);
      for (const entry of page) {
        // Older than `since`: everything after it in this order is older still.
        if (options.since !== undefined && entry.event.time < options.since) return out;
        if (!wanted(entry)) continue;
        out.push(entry);
        if (out.length >= options.limit) return out;
      }
      if (page.length < PAGE) break;
      cursor = page[page.length - 1]!.cursor;
    }
    return out;
  }

  /** Up to `count` retained entries before a cursor ("" for the newest), newest first. */
  #ringBefore(before: string, count: number): AuditEntry[] {
    const at = before === "" ? [Number.POSITIVE_INFINITY, 0] : parseCursor(before);
    if (at === undefined) throw new InvalidCursorError(before);
    return this.#ring!.before(at[0], at[1], count).map((e) => ({ cursor: e.cursor, event: auditEventFromJson(e.line) }));
  }

  /** Up to `count` retained entries after a cursor. */
  #ringAfter(after: string, count: number): AuditEntry[] {
    const at = parseCursor(after);
    if (at === undefined) throw new InvalidCursorError(after);
    return this.#ring!.after(at[0], at[1], count).map((e) => ({ cursor: e.cursor, event: auditEventFromJson(e.line) }));
  }
}
