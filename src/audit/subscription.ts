import { compareCursors } from "./cursor.ts";
import { SubscriberOverflowError } from "./errors.ts";
import type { AuditEntry } from "./hub.ts";

/** Reads the next page of history after a cursor (already filtered); empty when caught up. */
export type Backfill = (after: string) => Promise<AuditEntry[]>;

/**
 * One subscriber's bounded queue.
 *
 * A resuming subscriber first catches up from history, page by page as it
 * consumes, while live entries are held; once history is exhausted the held
 * entries newer than the last one delivered follow — nothing lost, nothing
 * twice. Delivery never blocks the publisher: when the live queue is full the
 * subscription ends with SubscriberOverflowError carrying the last cursor
 * actually delivered, so the client can resume from there.
 */
export class AuditSubscription implements AsyncIterable<AuditEntry> {
  #queue: AuditEntry[] = [];
  #head = 0;
  /** Live entries that arrived while catching up. */
  #held: AuditEntry[] = [];
  #backfill: Backfill | undefined;
  /** Cursor of the newest entry queued or delivered. */
  #lastQueued: string;
  #lastDelivered: string;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;
  readonly #bufferSize: number;
  readonly #onClose: () => void;

  constructor(bufferSize: number, startCursor: string, onClose: () => void, backfill?: Backfill) {
    this.#bufferSize = bufferSize;
    this.#lastDelivered = startCursor;
    this.#lastQueued = startCursor;
    this.#onClose = onClose;
    this.#backfill = backfill;
  }

  /** The last cursor handed to the consumer. */
  get lastCursor(): string {
    return this.#lastDelivered;
  }

  get closed(): boolean {
    return this.#ended;
  }

  /** Queues a live entry; ends the subscription on overflow. Called by the hub. */
  push(entry: AuditEntry): void {
    if (this.#ended) return;
    // Cursors only grow: anything not after the last one queued was delivered already.
    if (this.#backfill === undefined && this.#lastQueued !== "" && compareCursors(entry.cursor, this.#lastQueued) <= 0) return;
    const target = this.#backfill === undefined ? this.#queue : this.#held;
    const pending = this.#backfill === undefined ? this.#queue.length - this.#head : this.#held.length;
    if (pending >= this.#bufferSize) {
      this.#finish(new SubscriberOverflowError(this.#lastDelivered, this.#bufferSize));
      return;
    }
    target.push(entry);
    if (this.#backfill === undefined) {
      this.#lastQueued = entry.cursor;
      this.#notify();
    }
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
        if (this.#backfill !== undefined) {
          await this.#catchUp(this.#backfill);
          continue;
        }
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    } finally {
      this.#finish(undefined);
    }
  }

  async #catchUp(backfill: Backfill): Promise<void> {
    let page: AuditEntry[];
    try {
      page = await backfill(this.#lastQueued);
    } catch (error) {
      this.#finish(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (page.length > 0) {
      for (const e of page) this.#queue.push(e);
      this.#lastQueued = page[page.length - 1]!.cursor;
      return;
    }
    // Caught up: hand over to live delivery, skipping what history already gave.
    this.#backfill = undefined;
    for (const e of this.#held) {
      if (compareCursors(e.cursor, this.#lastQueued) > 0) {
        this.#queue.push(e);
        this.#lastQueued = e.cursor;
      }
    }
    this.#held = [];
  }

  #finish(error: Error | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    // An error drops what is queued: the client resumes from the last delivered cursor.
    if (error !== undefined) {
      this.#error = error;
      this.#queue = [];
      this.#head = 0;
      this.#held = [];
    }
    this.#onClose();
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
