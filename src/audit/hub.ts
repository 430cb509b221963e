import type { Clock } from "../model/clock.ts";
import { compareCursors, CursorSequence, joinCursor, newEpoch, parseCursor, splitCursor } from "./cursor.ts";
import { AuditHistoryResetError, CursorExpiredError, CursorOutOfRangeError, InvalidCursorError, TooManySubscribersError } from "./errors.ts";
import { auditEventFromJson, type AuditEvent } from "./event.ts";
import { encodeAuditRecord } from "./record-bytes.ts";
import { compileAuditFilter, type AuditFilter } from "./filter.ts";
import { HISTORY_PAGE, scanHistory } from "./history-scan.ts";
import { AuditLineRing } from "./line-ring.ts";
import type { AuditSink } from "./sink.ts";
import { AuditSubscription, type BackfillPage } from "./subscription.ts";

/**
 * A decision with its position in the audit stream (`<ms>-<seq>`; clients
 * see it with the history's epoch appended, see {@link AuditHub.cursorText}).
 */
export interface AuditEntry {
  readonly cursor: string;
  readonly event: AuditEvent;
}

/** What one read of history returns. */
export interface HistoryPage {
  /** The entries read, oldest first (an entry that cannot be read is left out). */
  readonly entries: AuditEntry[];
  /** Cursor of the last entry read, readable or not ("" when there was none). */
  readonly last: string;
}

/** Past entries, for resuming subscribers and queries (the shared stream, in Redis mode). */
export interface AuditHistory {
  /** Entries strictly after `after` ("0-0" for the start), oldest first, at most `count`. */
  read(after: string, count: number): Promise<HistoryPage>;
  /**
   * Entries strictly before `before` ("" for the newest), newest first, at
   * most `count`; `last` is the oldest entry read. Without it, a newest-first
   * query reads forward.
   */
  readBefore?(before: string, count: number): Promise<HistoryPage>;
  /** Cursor of the newest entry ever trimmed ("0-0" when none was). */
  trimmedUpTo(): Promise<string>;
  /** Cursor of the newest entry ("0-0" when none): where "start now" begins. */
  latest(): Promise<string>;
  /** The history's epoch: it changes when the history starts over. */
  epoch(): Promise<string>;
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
  /** Concurrent subscribers, counted until their calls are gone. Default 1,000. */
  readonly maxSubscribers?: number;
  /** Where history comes from; default: this hub's own bounded memory. */
  readonly history?: AuditHistory;
  /**
   * Numbers entries by this clock's time. Default: by each record's own
   * time (the decision's), which costs no clock read per record.
   */
  readonly clock?: Clock;
  /** The memory history's epoch; default: a fresh random one (each process start is a new history). */
  readonly epoch?: string;
  /** Sees every published entry (metrics: stream lag). */
  readonly onPublish?: (entry: AuditEntry) => void;
}

/** Options for {@link AuditHub.subscribe}. */
export interface SubscribeOptions {
  readonly filter?: AuditFilter | undefined;
  /** Resume after this cursor (as clients see it); absent or "" starts with the next decision. */
  readonly after?: string | undefined;
  /**
   * The life of whatever serves the subscription (a gRPC call): the
   * subscription counts against `maxSubscribers` until it aborts, even after
   * the subscription ended. Without it, it counts until it ends.
   */
  readonly signal?: AbortSignal | undefined;
}

/** Options for {@link AuditHub.query}. */
export interface QueryOptions {
  readonly filter?: AuditFilter | undefined;
  /** Only entries after this cursor (as clients see it; paging). */
  readonly after?: string | undefined;
  /** Inclusive bounds on decision time (ms since the epoch). */
  readonly since?: number | undefined;
  readonly until?: number | undefined;
  readonly limit: number;
  /** Newest first (`after` then pages towards older entries). Default false. */
  readonly newestFirst?: boolean | undefined;
}

/** A page of history. */
export interface QueryPage {
  readonly entries: AuditEntry[];
  /** Where the next page starts (a position, see {@link AuditHub.cursorText}); "" when nothing is left. */
  readonly next: string;
}

/**
 * Entries one Query call looks at, at most: a filter that matches nothing
 * costs this much per call, not the whole history, and the caller continues
 * from the position returned.
 */
export const QUERY_SCAN_BUDGET = 5000;

/**
 * The audit stream as this process serves it: numbers decisions with cursors
 * (or relays a shared stream's), keeps or reads history, and fans decisions
 * out to subscribers, each filtered and bounded. Publishing is synchronous and
 * never waits for a subscriber. Cursors carry the history's epoch, so a
 * cursor from a history that started over is refused instead of misread.
 */
export class AuditHub implements AuditSink {
  readonly #onPublish: ((entry: AuditEntry) => void) | undefined;
  readonly #subscriberBuffer: number;
  readonly #maxSubscribers: number;
  readonly #clock: Clock | undefined;
  readonly #history: AuditHistory;
  readonly #cursors = new CursorSequence();
  /** The last `retain` entries (memory history); undefined with a shared history. */
  readonly #ring: AuditLineRing | undefined;
  #latest = "";
  #latestPending = false;
  /** Subscriptions receiving live entries. */
  readonly #subscribers = new Set<{ sub: AuditSubscription; matches: (e: AuditEvent) => boolean }>();
  /** Subscriptions counted against the limit: not yet released (their calls not yet gone). */
  #open = 0;
  readonly #sharedHistory: boolean;
  #epoch: string;
  #onFirstSubscriber: ((from: string) => void) | undefined;

  constructor(options: AuditHubOptions = {}) {
    // With a shared history (Redis) nothing needs to be kept here.
    this.#ring = options.history !== undefined ? undefined : new AuditLineRing(Math.max(1, options.retain ?? 10_000), Math.max(4096, options.retainBytes ?? 16 * 1024 * 1024));
    this.#subscriberBuffer = Math.max(1, options.subscriberBuffer ?? 4096);
    this.#maxSubscribers = options.maxSubscribers ?? 1000;
    this.#clock = options.clock;
    this.#epoch = options.epoch ?? newEpoch();
    this.#history = options.history ?? {
      read: async (after, count) => this.#ringAfter(after, count),
      readBefore: async (before, count) => this.#ringBefore(before, count),
      trimmedUpTo: async () => this.#ring!.evicted,
      latest: async () => (this.latestCursor === "" ? "0-0" : this.latestCursor),
      epoch: async () => this.#epoch,
    };
    this.#sharedHistory = options.history !== undefined;
    this.#onPublish = options.onPublish;
  }

  /** Subscriptions counted against `maxSubscribers`: open ones, and ended ones whose calls are not gone yet. */
  get subscriberCount(): number {
    return this.#open;
  }

  /** Subscriptions receiving live entries (a relay pauses while there are none). */
  get activeSubscriberCount(): number {
    return this.#subscribers.size;
  }

  /** The epoch of the history as last read. */
  get epoch(): string {
    return this.#epoch;
  }

  /** A position as clients see it: with the history's epoch. */
  cursorText(position: string): string {
    return joinCursor(position, this.#epoch);
  }

  /**
   * The shared history started over under a new epoch (Redis lost the
   * stream): subscriptions end with AuditHistoryResetError, since what they
   * would receive next no longer follows what they received.
   */
  resetEpoch(epoch: string): void {
    if (epoch === this.#epoch) return;
    const previous = this.#epoch;
    this.#epoch = epoch;
    for (const s of [...this.#subscribers]) s.sub.close(new AuditHistoryResetError(previous, epoch));
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

  /** Publishing never waits or fails: a record may always be published at the end of the task. */
  canDefer(_event: AuditEvent): boolean {
    return true;
  }

  /** As an audit sink: numbers the event and publishes it. */
  write(event: AuditEvent): void {
    const cursors = this.#cursors;
    // Cursors only ever increase: a record older than the last cursor's time gets the next sequence number.
    cursors.advance(this.#clock === undefined ? event.time : this.#clock.now());
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
   * Starts a subscription. With `after`, the subscriber first catches up on
   * every entry after that cursor, at its own pace, then continues live.
   * Refused with CursorExpiredError when some of them were trimmed away, and
   * CursorOutOfRangeError for a cursor of an earlier epoch or beyond the
   * newest entry (the client would otherwise silently miss decisions).
   */
  async subscribe(options: SubscribeOptions = {}): Promise<AuditSubscription> {
    this.#checkRoom();
    const matches = compileAuditFilter(options.filter);
    if (this.#sharedHistory) this.resetEpoch(await this.#history.epoch());
    // With a shared stream, "now" is its newest entry; live delivery starts
    // there, and a resuming subscriber reads history up to it.
    const liveFrom = this.#sharedHistory ? await this.#history.latest() : "";
    const after = options.after !== undefined && options.after !== "" ? await this.#resumable(options.after) : liveFrom;
    this.#checkRoom();
    const backfill = after === "" ? undefined : (from: string): Promise<BackfillPage> => this.#catchUpStep(from, matches);
    const record = { sub: undefined as unknown as AuditSubscription, matches };
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#open--;
    };
    const signal = options.signal !== undefined && !options.signal.aborted ? options.signal : undefined;
    record.sub = new AuditSubscription({
      bufferSize: this.#subscriberBuffer,
      startCursor: after,
      backfill,
      liveHead: () => this.latestCursor,
      cursorText: (position) => (position === "" ? "" : this.cursorText(position)),
      onEnd: () => {
        this.#subscribers.delete(record);
        if (signal === undefined) release();
      },
    });
    this.#open++;
    signal?.addEventListener("abort", release, { once: true });
    const first = this.#subscribers.size === 0;
    this.#subscribers.add(record);
    if (first) this.#onFirstSubscriber?.(liveFrom === "" ? "0-0" : liveFrom);
    return record.sub;
  }

  /**
   * A page of past entries, oldest first (or newest first with
   * `newestFirst`, continuing towards older ones). One call looks at no more
   * than {@link QUERY_SCAN_BUDGET} entries: when it stops there, it returns
   * what it found so far (maybe nothing) and where to continue.
   */
  async query(options: QueryOptions): Promise<QueryPage> {
    const matches = compileAuditFilter(options.filter);
    if (this.#sharedHistory) this.resetEpoch(await this.#history.epoch());
    const from = options.after === undefined || options.after === "" ? "" : await this.#position(options.after);
    const limit = Math.max(1, options.limit);
    if (options.newestFirst === true && this.#history.readBefore === undefined) return { entries: await this.#newestByReadingForward(options, matches, from), next: "" };
    // One more than asked, to know whether anything is left after the page.
    const scan = await scanHistory(this.#history, options.newestFirst === true ? from : from || "0-0", {
      matches,
      wanted: limit + 1,
      budget: QUERY_SCAN_BUDGET,
      since: options.since,
      until: options.until,
      backward: options.newestFirst === true,
    });
    if (scan.entries.length > limit) {
      const entries = scan.entries.slice(0, limit);
      return { entries, next: entries[limit - 1]!.cursor };
    }
    return { entries: scan.entries, next: scan.complete ? "" : scan.scannedTo };
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

  #checkRoom(): void {
    if (this.#open >= this.#maxSubscribers) throw new TooManySubscribersError(this.#maxSubscribers);
  }

  /**
   * The position of a client's cursor in this history: of this epoch (or
   * written without one) and not beyond the newest entry.
   */
  async #position(text: string): Promise<string> {
    const parts = splitCursor(text);
    if (parts === undefined) throw new InvalidCursorError(text);
    if (parts.epoch !== undefined && parts.epoch !== this.#epoch) {
      throw new CursorOutOfRangeError(text, "epoch", this.cursorText(await this.#history.latest()));
    }
    const latest = await this.#history.latest();
    if (compareCursors(parts.position, latest) > 0) throw new CursorOutOfRangeError(text, "ahead", this.cursorText(latest));
    return parts.position;
  }

  /** The position to resume after, when nothing after it was trimmed away. */
  async #resumable(text: string): Promise<string> {
    const position = await this.#position(text);
    await this.#checkNotTrimmed(position, text);
    return position;
  }

  async #checkNotTrimmed(position: string, text: string): Promise<void> {
    const trimmed = await this.#history.trimmedUpTo();
    if (compareCursors(position, trimmed) < 0) {
      const oldest = (await this.#history.read("0-0", 1)).last || undefined;
      throw new CursorExpiredError(text, oldest === undefined ? "" : this.cursorText(oldest));
    }
  }

  /**
   * Newest first from a history that can only be read forward (a custom
   * one): the newest `limit` before `before`, looking at all of it. The
   * built-in histories read backwards instead, in bounded steps.
   */
  async #newestByReadingForward(options: QueryOptions, matches: (e: AuditEvent) => boolean, before: string): Promise<AuditEntry[]> {
    const kept: AuditEntry[] = [];
    for (let cursor = "0-0"; ; ) {
      const page = await this.#history.read(cursor, HISTORY_PAGE);
      for (const e of page.entries) {
        if (before !== "" && compareCursors(e.cursor, before) >= 0) return kept.reverse();
        const t = e.event.time;
        if ((options.since !== undefined && t < options.since) || (options.until !== undefined && t > options.until) || !matches(e.event)) continue;
        kept.push(e);
        if (kept.length > options.limit) kept.shift();
      }
      if (page.last === "") return kept.reverse();
      cursor = page.last;
    }
  }

  /** Up to `count` retained entries before a cursor ("" for the newest), newest first. */
  #ringBefore(before: string, count: number): HistoryPage {
    const at = before === "" ? [Number.POSITIVE_INFINITY, 0] : parseCursor(before);
    if (at === undefined) throw new InvalidCursorError(before);
    const entries = this.#ring!.before(at[0], at[1], count).map((e) => ({ cursor: e.cursor, event: auditEventFromJson(e.line) }));
    return { entries, last: entries.at(-1)?.cursor ?? "" };
  }

  /** One bounded step of a subscriber's catch-up: a page of history after `from`. */
  async #catchUpStep(from: string, matches: (e: AuditEvent) => boolean): Promise<BackfillPage> {
    // Re-checked on every step: trimming may overtake a slow catch-up.
    await this.#checkNotTrimmed(from, this.cursorText(from));
    const scan = await scanHistory(this.#history, from, { matches, wanted: HISTORY_PAGE, budget: HISTORY_PAGE });
    return { entries: scan.entries, scannedTo: scan.scannedTo };
  }

  /** Up to `count` retained entries after a cursor. */
  #ringAfter(after: string, count: number): HistoryPage {
    const at = parseCursor(after);
    if (at === undefined) throw new InvalidCursorError(after);
    const entries = this.#ring!.after(at[0], at[1], count).map((e) => ({ cursor: e.cursor, event: auditEventFromJson(e.line) }));
    return { entries, last: entries.at(-1)?.cursor ?? "" };
  }
}
