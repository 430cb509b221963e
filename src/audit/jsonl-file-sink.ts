import { Buffer } from "node:buffer";
import { AuditSinkUnavailableError } from "./errors.ts";
import type { AuditEvent } from "./event.ts";
import { FileAppender, isAppendError } from "./file-appender.ts";
import { encodeAuditRecord } from "./record-bytes.ts";
import type { AuditSink, SinkCloseOptions, SinkHealth } from "./sink.ts";

/** Options for {@link createJsonlFileSink}. */
export interface JsonlFileSinkOptions {
  /** `sync`: `write` returns a promise settled when the line is on disk (group commit). */
  readonly durability?: "sync" | "async";
  /**
   * `record` (default): the file is the audit record, and a record it cannot
   * keep is refused (`write` rejects), which the engine answers with a deny.
   * `copy`: the file copies a record kept elsewhere (the Redis stream); it
   * never makes a decision wait or fail, and records it cannot keep are
   * dropped and counted. Durability does not apply to a copy.
   */
  readonly role?: "record" | "copy";
  /**
   * Bytes of records accepted and not yet on disk (`audit.buffer_bytes`).
   * While the file cannot be written, records are kept up to this bound;
   * past it a record is refused (or, for a copy, dropped). A healthy but slow
   * disk makes writers wait (backpressure) from this bound on; a copy drops
   * instead. Default 8 MiB.
   */
  readonly bufferBytes?: number;
  /**
   * With async durability, how long records may wait before they are written
   * (they are written sooner once 1 MiB is ready). Fewer, larger appends keep
   * the file off the decision path. Default 10 ms.
   */
  readonly flushIntervalMs?: number;
  /** Called with every failed write; the records are kept and retried. */
  readonly onError?: (error: unknown) => void;
  /**
   * Records given up on: refused or dropped because the buffer was full
   * (`buffer_full`), or still unwritten when `close` stopped retrying
   * (`shutdown`). An allow refused by `write` is not counted: its decision
   * becomes a deny, recorded in its place (and counted if that record is
   * refused in turn).
   */
  readonly onDropped?: (count: number, reason: "buffer_full" | "shutdown", error: unknown) => void;
}

/** Default of {@link JsonlFileSinkOptions.bufferBytes} and of `audit.buffer_bytes`. */
export const DEFAULT_AUDIT_BUFFER_BYTES = 8 * 1024 * 1024;

/** Serialised bytes that start a write without waiting for the flush interval. */
const EAGER_BYTES = 1024 * 1024;
/** How long `close` retries a failing file when not told. */
const DEFAULT_CLOSE_TIMEOUT_MS = 5000;
/** Retries of a failing file back off from the first delay to the last (which bounds how late recovery is seen). */
const RETRY_FIRST_MS = 50;
const RETRY_LAST_MS = 1000;

/**
 * A pooled buffer lines are encoded into. Sealed regions of it are written
 * while later lines are still being added; it goes back to the pool once it
 * is full (retired) and every region of it has been written.
 */
interface Slab {
  readonly buf: Buffer;
  pending: number;
  retired: boolean;
}

interface Chunk {
  /** Encoded bytes, outside the JS heap: nothing for the GC to trace. */
  bytes: Buffer;
  readonly slab: Slab;
  /** Sync writers waiting for these bytes; emptied once they are answered. */
  waiters: Waiter[];
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Appends audit records as JSON lines to a file, off the decision's path:
 * each record is copied at once into a pooled buffer (no event is kept
 * alive), and one writer loop appends whatever regions are ready in a
 * single write.
 *
 * When the file cannot be written (a full disk), the records are kept, in
 * order, and retried every second at most; {@link health} reports the failure
 * until a write succeeds. Sync writers are told at once (their decisions
 * deny), async ones once the buffer is full — never left waiting. `close()`
 * writes everything it can within its timeout and reports the rest through
 * `onDropped`: nothing is lost without being counted.
 */
export function createJsonlFileSink(path: string, options: JsonlFileSinkOptions = {}): AuditSink & { health(): SinkHealth } {
  return new JsonlFileSink(path, options);
}

class JsonlFileSink implements AuditSink {
  readonly #path: string;
  readonly #appender: FileAppender;
  readonly #sync: boolean;
  readonly #copy: boolean;
  readonly #bufferBytes: number;
  readonly #flushIntervalMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #onDropped: NonNullable<JsonlFileSinkOptions["onDropped"]>;
  /** The slab being filled, and where its unsealed region starts and ends. */
  #slab: Slab | undefined;
  #start = 0;
  #off = 0;
  #regionWaiters: Waiter[] = [];
  #chunks: Chunk[] = [];
  #queuedBytes = 0;
  #scheduled = false;
  #writing: Promise<void> | undefined;
  /** Writers held back because the buffer is full while the disk is slow. */
  #drainWaiters: Waiter[] = [];
  #flushWaiters: Waiter[] = [];
  /** The error of the last write while the file cannot be written; undefined while it can. */
  #failure: unknown;
  /** Ends a retry's wait early (close wants one more try at once). */
  #wake: (() => void) | undefined;
  #closing = false;
  #deadline = Infinity;
  /** The writer gave up at close: what is left is reported, not retried. */
  #stopped = false;
  #closed = false;

  constructor(path: string, options: JsonlFileSinkOptions) {
    this.#path = path;
    this.#appender = new FileAppender(path);
    this.#copy = options.role === "copy";
    this.#sync = options.durability === "sync" && !this.#copy;
    this.#bufferBytes = options.bufferBytes ?? DEFAULT_AUDIT_BUFFER_BYTES;
    this.#flushIntervalMs = options.flushIntervalMs ?? 10;
    this.#onError = options.onError ?? (() => {});
    this.#onDropped = options.onDropped ?? (() => {});
  }

  write(event: AuditEvent): void | Promise<void> {
    if (this.#closed) throw new Error(`audit sink for ${this.#path} is closed`);
    const line = encodeAuditRecord(event).line;
    if (this.#failure !== undefined || this.#queuedBytes + line.length >= this.#bufferBytes) {
      const verdict = this.#admit(event, line.length + 1);
      if (verdict === DROPPED) return undefined;
      if (verdict === KEEP) {
        this.#put(line);
        this.#schedule();
        return undefined;
      }
      if (verdict !== ACCEPT) return Promise.reject(verdict);
    }
    this.#put(line);
    let wait: Promise<void> | undefined;
    if (this.#sync) wait = new Promise<void>((resolve, reject) => this.#regionWaiters.push({ resolve, reject }));
    this.#schedule();
    if (wait === undefined && this.#queuedBytes > this.#bufferBytes && !this.#copy) {
      wait = new Promise<void>((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
    }
    return wait;
  }

  /**
   * While the sink takes records without making anyone wait — open, async,
   * writing fine and below its buffer bound (a copy: whenever open) — a
   * record may be written at the end of the task. Records deferred in one
   * task do not wait for the disk even if together they pass the bound; the
   * next writer does.
   */
  canDefer(_event: AuditEvent): boolean {
    if (this.#closed || this.#closing) return false;
    if (this.#copy) return true;
    return !this.#sync && this.#failure === undefined && this.#queuedBytes < this.#bufferBytes;
  }

  /** Keeps the record without making anyone wait; dropped (and counted) only when the buffer is full and the file failing. */
  writeInBackground(event: AuditEvent): void {
    if (this.#closed) {
      this.#onDropped(1, "shutdown", new Error(`audit sink for ${this.#path} is closed`));
      return;
    }
    const line = encodeAuditRecord(event).line;
    if ((this.#failure !== undefined || this.#copy) && this.#queuedBytes + line.length + 1 > this.#bufferBytes) {
      this.#onDropped(1, "buffer_full", this.#unavailable(true));
      return;
    }
    this.#put(line);
    this.#schedule();
  }

  /** Resolves once every record so far is written; rejects while the file cannot be written. */
  async flush(): Promise<void> {
    this.#seal();
    if (this.#writing === undefined) return;
    if (this.#failure !== undefined && !this.#closing) throw this.#unavailable(false);
    await new Promise<void>((resolve, reject) => this.#flushWaiters.push({ resolve, reject }));
  }

  async close(options: SinkCloseOptions = {}): Promise<void> {
    if (this.#closed) return;
    this.#closing = true;
    this.#deadline = Date.now() + (options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    this.#wake?.();
    this.#seal();
    while (this.#writing !== undefined) await this.#writing;
    this.#closed = true;
    const lost = this.#chunks;
    this.#chunks = [];
    if (lost.length > 0) {
      const error = this.#unavailable(false);
      for (const c of lost) for (const w of c.waiters) w.reject(error);
      this.#answer("drain", error);
      this.#answer("flush", error);
      this.#onDropped(countLines(lost), "shutdown", error);
    }
    const slab = this.#slab;
    this.#slab = undefined;
    if (slab !== undefined && lost.length === 0) {
      slab.retired = true;
      if (slab.pending === 0) release(slab.buf);
    }
    await this.#appender.close();
  }

  health(): SinkHealth {
    const failure = this.#failure;
    return {
      ok: failure === undefined,
      detail: failure === undefined ? "" : `${this.#path}: ${failure instanceof Error ? failure.message : String(failure)}`,
      bufferedBytes: this.#queuedBytes,
    };
  }

  /**
   * What becomes of a record of `size` bytes while the file fails or the
   * buffer is full: ACCEPT (as usual), KEEP (buffered, nobody waits),
   * DROPPED (a copy that does not fit), or the error to refuse it with.
   */
  #admit(event: AuditEvent, size: number): AuditSinkUnavailableError | typeof ACCEPT | typeof KEEP | typeof DROPPED {
    const full = this.#queuedBytes + size > this.#bufferBytes;
    if (this.#copy) {
      if (!full) return ACCEPT;
      this.#onDropped(1, "buffer_full", this.#unavailable(true));
      return DROPPED;
    }
    if (this.#failure === undefined) return ACCEPT; // healthy: kept, and the writer waits for room
    if (!full) {
      if (!this.#sync) return ACCEPT;
      // A deny is answered as it is whatever becomes of its record: kept for when the disk is back.
      if (!event.decision.allowed) return KEEP;
    }
    // An allow would wait for a write that is failing (sync), or there is no room: refused now.
    const error = this.#unavailable(full);
    if (!event.decision.allowed) this.#onDropped(1, "buffer_full", error);
    return error;
  }

  #unavailable(full: boolean): AuditSinkUnavailableError {
    const cause = this.#failure ?? new Error("the disk is slower than the decisions");
    return new AuditSinkUnavailableError(this.#path, cause, full ? this.#bufferBytes : undefined);
  }

  /** Copies a line into the current slab. */
  #put(line: Buffer): void {
    const written = line.length;
    let slab = this.#slab;
    if (slab === undefined || written + 1 > slab.buf.length - this.#off) slab = this.#nextSlab(written + 1);
    slab.buf.set(line, this.#off);
    slab.buf[this.#off + written] = 10;
    this.#off += written + 1;
    this.#queuedBytes += written + 1;
  }

  /** Makes sure what was put is written: at once past 1 MiB, else at the next turn (sync) or after the flush interval. */
  #schedule(): void {
    if (this.#off - this.#start >= EAGER_BYTES) this.#seal();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      const run = (): void => {
        this.#scheduled = false;
        this.#seal();
      };
      // A waiting decision (sync) is written at the next turn; otherwise records gather for a moment.
      if (this.#sync) setImmediate(run);
      else setTimeout(run, this.#flushIntervalMs);
    }
  }

  /** Seals what is in the current slab and moves to a new one with room for `need` bytes. */
  #nextSlab(need: number): Slab {
    this.#cut();
    const old = this.#slab;
    if (old !== undefined) {
      old.retired = true;
      if (old.pending === 0) release(old.buf);
    }
    const slab: Slab = { buf: take(need), pending: 0, retired: false };
    this.#slab = slab;
    this.#start = 0;
    this.#off = 0;
    return slab;
  }

  /** Turns the unsealed region into a chunk for the writer (no I/O). */
  #cut(): void {
    const slab = this.#slab;
    if (slab === undefined || this.#off === this.#start) return;
    slab.pending++;
    this.#chunks.push({ bytes: slab.buf.subarray(this.#start, this.#off), slab, waiters: this.#regionWaiters });
    this.#regionWaiters = [];
    this.#start = this.#off;
  }

  /** Seals what is buffered and makes sure the writer runs. */
  #seal(): void {
    this.#cut();
    if (this.#writing === undefined && this.#chunks.length > 0 && !this.#stopped) {
      this.#writing = this.#drain().finally(() => {
        this.#writing = undefined;
        if (this.#chunks.length > 0) this.#seal();
      });
    }
  }

  /**
   * The writer loop: appends everything queued, in order, one write per
   * round. A failed round keeps what the file did not take and retries with
   * backoff; at close it gives up at the deadline.
   */
  async #drain(): Promise<void> {
    let delay = RETRY_FIRST_MS;
    while (this.#chunks.length > 0) {
      const chunks = this.#chunks;
      this.#chunks = [];
      let failure: unknown;
      let written = 0;
      try {
        await this.#appender.append(chunks.map((c) => c.bytes));
        for (const c of chunks) written += c.bytes.length;
      } catch (error) {
        failure = isAppendError(error) ? error.cause : error;
        written = isAppendError(error) ? error.written : 0;
      }
      this.#queuedBytes -= written;
      const kept = this.#settle(chunks, written);
      if (failure === undefined) {
        this.#failure = undefined;
        delay = RETRY_FIRST_MS;
        if (this.#queuedBytes <= this.#bufferBytes / 2) this.#answer("drain", undefined);
        continue;
      }
      this.#failure = failure;
      this.#onError(failure);
      this.#chunks = [...kept, ...this.#chunks];
      this.#refuseWaiters();
      if (this.#closing && Date.now() >= this.#deadline) {
        this.#stopped = true;
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(delay, this.#deadline - Date.now()));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
      delay = Math.min(delay * 2, RETRY_LAST_MS);
    }
    this.#answer("flush", undefined);
  }

  /**
   * Answers the writers of the chunks whose bytes are all in the file and
   * frees their slabs; returns the chunks (the first one trimmed) still to write.
   */
  #settle(chunks: Chunk[], written: number): Chunk[] {
    let i = 0;
    for (; i < chunks.length && written >= chunks[i]!.bytes.length; i++) {
      const c = chunks[i]!;
      written -= c.bytes.length;
      for (const w of c.waiters) w.resolve();
      if (--c.slab.pending === 0 && c.slab.retired) release(c.slab.buf);
    }
    const kept = chunks.slice(i);
    if (written > 0) kept[0]!.bytes = kept[0]!.bytes.subarray(written);
    return kept;
  }

  /**
   * While the file fails, nobody waits; every record stays queued. Sync
   * writers and flushes are told their records are not stored. Writers held
   * back for room (async) go on: their records are kept like every other
   * async record, and the ones after them are refused.
   */
  #refuseWaiters(): void {
    const error = this.#unavailable(false);
    for (const c of this.#chunks) {
      for (const w of c.waiters) w.reject(error);
      c.waiters = [];
    }
    const region = this.#regionWaiters;
    this.#regionWaiters = [];
    for (const w of region) w.reject(error);
    this.#answer("drain", undefined);
    if (!this.#closing) this.#answer("flush", error);
  }

  #answer(which: "drain" | "flush", error: unknown): void {
    const waiters = which === "drain" ? this.#drainWaiters : this.#flushWaiters;
    if (waiters.length === 0) return;
    if (which === "drain") this.#drainWaiters = [];
    else this.#flushWaiters = [];
    for (const w of waiters) {
      if (error === undefined) w.resolve();
      else w.reject(error);
    }
  }
}

const ACCEPT = Symbol("accept");
const KEEP = Symbol("keep");
const DROPPED = Symbol("dropped");

/** Records in the chunks: their newlines (the first may end a line cut by a partial write). */
function countLines(chunks: readonly Chunk[]): number {
  let n = 0;
  for (const c of chunks) {
    for (let i = c.bytes.indexOf(10); i >= 0; i = c.bytes.indexOf(10, i + 1)) n++;
  }
  return n;
}

// Reused encode buffers: allocating fresh ones makes V8 see a stream of
// external memory (and the allocator map and unmap pages) on every batch.
const POOLED_SIZE = 1024 * 1024;
const POOL_LIMIT = 16;
const pool: Buffer[] = [];
function take(need: number): Buffer {
  if (need > POOLED_SIZE) return Buffer.allocUnsafe(need);
  return pool.pop() ?? Buffer.allocUnsafe(POOLED_SIZE);
}
function release(b: Buffer): void {
  if (b.length === POOLED_SIZE && pool.length < POOL_LIMIT) pool.push(b);
}
