import { compareCursors } from "./cursor.ts";
import { SubscriberOverflowError } from "./errors.ts";
import type { AuditEntry } from "./hub.ts";

/** One step of a catch-up through history. */
export interface BackfillPage {
  /** The entries found that the subscriber wants, oldest first. */
  readonly entries: AuditEntry[];
  /** Cursor of the last entry looked at, wanted or not; `after` itself when there was none. */
  readonly scannedTo: string;
}

/** Reads the next bounded step of history after a cursor. */
export type Backfill = (after: string) => Promise<BackfillPage>;

/** Options for {@link AuditSubscription}. */
export interface AuditSubscriptionOptions {
  /** Live entries the subscriber may fall behind before it is ended. */
  readonly bufferSize: number;
  /** The cursor it starts after ("" for the next live entry). */
  readonly startCursor: string;
  /** Present when it must first catch up from history (it resumes from a cursor). */
  readonly backfill?: Backfill | undefined;
  /** Cursor of the newest entry published live so far ("" when none): where catching up may stop. */
  readonly liveHead: () => string;
  /** How an overflow error names the cursor to resume from (the client's form of a position). */
  readonly cursorText: (position: string) => string;
  /** Called once when the subscription ends (it no longer wants live entries). */
  readonly onEnd: (error: Error | undefined) => void;
}

/**
 * One subscriber's bounded queue.
 *
 * A resuming subscriber first catches up from history, one bounded step at a
 * time and only as fast as it consumes, ignoring live entries meanwhile: it
 * joins live delivery once it has read past the newest entry published live,
 * so nothing is lost or repeated, and a subscriber far behind is never
 * flooded (history is not pushed at it as live entries). Live delivery never
 * blocks the publisher: when the queue is full the subscription ends with
 * SubscriberOverflowError carrying the last cursor actually delivered, so the
 * client can resume from there. Its end is announced at once (`onEnd`), also
 * when the consumer is not reading, so whoever serves it can end the call.
 */
export class AuditSubscription implements AsyncIterable<AuditEntry> {
  #queue: AuditEntry[] = [];
  #head = 0;
  #backfill: Backfill | undefined;
  /** Live (false) or still catching up from history (true). */
  #catchingUp: boolean;
  /** Cursor of the newest entry queued or delivered (or scanned, while catching up). */
  #lastQueued: string;
  #lastDelivered: string;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;
  #endListeners: ((error: Error | undefined) => void)[] = [];
  readonly #options: AuditSubscriptionOptions;

  constructor(options: AuditSubscriptionOptions) {
    this.#options = options;
    this.#lastDelivered = options.startCursor;
    this.#lastQueued = options.startCursor;
    this.#backfill = options.backfill;
    this.#catchingUp = options.backfill !== undefined;
  }

  /** The last cursor handed to the consumer. */
  get lastCursor(): string {
    return this.#lastDelivered;
  }

  get closed(): boolean {
    return this.#ended;
  }

  /** Whether it is still reading history (live entries are not queued yet). */
  get catchingUp(): boolean {
    return this.#catchingUp;
  }

  /** Queues a live entry; ends the subscription on overflow. Called by the hub. */
  push(entry: AuditEntry): void {
    // While catching up, history will bring this entry (or it was already read).
    if (this.#ended || this.#catchingUp) return;
    // Cursors only grow: anything not after the last one queued was delivered already.
    if (this.#lastQueued !== "" && compareCursors(entry.cursor, this.#lastQueued) <= 0) return;
    if (this.#queue.length - this.#head >= this.#options.bufferSize) {
      this.#finish(new SubscriberOverflowError(this.#options.cursorText(this.#lastDelivered), this.#options.bufferSize));
      return;
    }
    this.#queue.push(entry);
    this.#lastQueued = entry.cursor;
    this.#notify();
  }

  /**
   * Calls `listener` when the subscription ends, at once if it has: also
   * when the consumer is not reading, so a server can end the call then.
   */
  onEnd(listener: (error: Error | undefined) => void): void {
    if (this.#ended) listener(this.#error);
    else this.#endListeners.push(listener);
  }

  /** Ends the subscription (cleanly, or with an error the consumer will see). */
  close(error?: Error): void {
    this.#finish(error);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<AuditEntry> {
    try {
      for (;;) {
        if (this.#head < this.#queue.length) {
          const entry = this.#queue[this.#head++]!;
          if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
            this.#queue = this.#queue.slice(this.#head);
            this.#head = 0;
          }
          this.#lastDelivered = entry.cursor;
          yield entry;
          continue;
        }
        if (this.#ended) {
          if (this.#error !== undefined) throw this.#error;
          return;
        }
        if (this.#catchingUp) {
          await this.#catchUp(this.#backfill!);
          continue;
        }
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    } finally {
      this.#finish(undefined);
    }
  }

  /** One step through history; hands over to live delivery once past the live head. */
  async #catchUp(backfill: Backfill): Promise<void> {
    const from = this.#lastQueued;
    let page: BackfillPage;
    try {
      page = await backfill(from);
    } catch (error) {
      this.#finish(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (this.#ended) return;
    for (const e of page.entries) this.#queue.push(e);
    if (compareCursors(page.scannedTo, from) > 0) {
      this.#lastQueued = page.scannedTo;
      return;
    }
    // History has nothing after `from`. Live entries so far are not after it
    // either (then the next one will be, and is queued), unless some were
    // published since the read: read again.
    const head = this.#options.liveHead();
    if (head === "" || compareCursors(from, head) >= 0) {
      this.#catchingUp = false;
      this.#backfill = undefined;
    }
  }

  #finish(error: Error | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    // An error drops what is queued: the client resumes from the last delivered cursor.
    if (error !== undefined) {
      this.#error = error;
      this.#queue = [];
      this.#head = 0;
    }
    this.#backfill = undefined;
    this.#options.onEnd(error);
    const listeners = this.#endListeners;
    this.#endListeners = [];
    for (const listener of listeners) listener(error);
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
