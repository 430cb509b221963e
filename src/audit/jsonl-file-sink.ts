import { Buffer } from "node:buffer";
import { mkdirSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import type { AuditEvent } from "./event.ts";
import { encodeAuditRecord } from "./record-bytes.ts";
import type { AuditSink } from "./sink.ts";

/** Options for {@link createJsonlFileSink}. */
export interface JsonlFileSinkOptions {
  /** `sync`: `write` returns a promise settled when the line is on disk (group commit). */
  readonly durability?: "sync" | "async";
  /** Serialised bytes waiting for the disk above which `write` makes the caller wait. Default 8 MiB. */
  readonly highWaterBytes?: number;
  /**
   * With async durability, how long records may wait before they are written
   * (they are written sooner once 1 MiB is ready). Fewer, larger appends keep
   * the file off the decision path. Default 10 ms.
   */
  readonly flushIntervalMs?: number;
  /** Called with write errors (async batches are retried, never dropped). */
  readonly onError?: (error: unknown) => void;
}

/** Serialised bytes that start a write without waiting for the flush interval. */
const EAGER_BYTES = 1024 * 1024;

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
  readonly bytes: Buffer;
  readonly slab: Slab;
  readonly waiters: readonly Waiter[];
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Appends audit records as JSON lines to a file, off the decision's path:
 * each record is copied at once into a pooled buffer (no event is kept
 * alive), and one writer loop appends whatever regions are ready in a
 * single write. `close()` writes everything; a graceful close loses nothing.
 */
export function createJsonlFileSink(path: string, options: JsonlFileSinkOptions = {}): AuditSink {
  return new JsonlFileSink(path, options);
}

class JsonlFileSink implements AuditSink {
  readonly #path: string;
  readonly #sync: boolean;
  readonly #highWater: number;
  readonly #onError: (error: unknown) => void;
  /** The slab being filled, and where its unsealed region starts and ends. */
  #slab: Slab | undefined;
  #start = 0;
  #off = 0;
  #regionWaiters: Waiter[] = [];
  #chunks: Chunk[] = [];
  #queuedBytes = 0;
  #scheduled = false;
  readonly #flushIntervalMs: number;
  #writing: Promise<void> | undefined;
  #drainWaiters: Waiter[] = [];
  #file: Promise<FileHandle> | undefined;
  #closing = false;
  #closed = false;

  constructor(path: string, options: JsonlFileSinkOptions) {
    this.#path = path;
    this.#sync = options.durability === "sync";
    this.#highWater = options.highWaterBytes ?? 8 * 1024 * 1024;
    this.#flushIntervalMs = options.flushIntervalMs ?? 10;
    this.#onError = options.onError ?? (() => {});
  }

  write(event: AuditEvent): void | Promise<void> {
    if (this.#closed) throw new Error(`audit sink for ${this.#path} is closed`);
    const line = encodeAuditRecord(event).line;
    const written = line.length;
    let slab = this.#slab;
    if (slab === undefined || written + 1 > slab.buf.length - this.#off) slab = this.#nextSlab(written + 1);
    slab.buf.set(line, this.#off);
    slab.buf[this.#off + written] = 10;
    this.#off += written + 1;
    this.#queuedBytes += written + 1;
    let wait: Promise<void> | undefined;
    if (this.#sync) wait = new Promise<void>((resolve, reject) => this.#regionWaiters.push({ resolve, reject }));
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
    if (wait === undefined && this.#queuedBytes > this.#highWater) {
      wait = new Promise<void>((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
    }
    return wait;
  }

  async flush(): Promise<void> {
    this.#seal();
    while (this.#writing !== undefined) await this.#writing;
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.flush();
    this.#closed = true;
    const slab = this.#slab;
    this.#slab = undefined;
    if (slab !== undefined) {
      slab.retired = true;
      if (slab.pending === 0) release(slab.buf);
    }
    const file = this.#file;
    this.#file = undefined;
    if (file !== undefined) await (await file).close();
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
    if (this.#writing === undefined && this.#chunks.length > 0) {
      this.#writing = this.#drain().finally(() => {
        this.#writing = undefined;
        if (this.#chunks.length > 0) this.#seal();
      });
    }
  }

  /** The writer loop: appends everything queued, in order, one write per round. */
  async #drain(): Promise<void> {
    while (this.#chunks.length > 0) {
      const chunks = this.#chunks;
      this.#chunks = [];
      const buffers = chunks.map((c) => c.bytes);
      let size = 0;
      for (const c of chunks) size += c.bytes.length;
      try {
        await this.#append(buffers);
        for (const c of chunks) for (const w of c.waiters) w.resolve();
      } catch (error) {
        for (const c of chunks) for (const w of c.waiters) w.reject(error);
      }
      for (const c of chunks) {
        const slab = c.slab;
        if (--slab.pending === 0 && slab.retired) release(slab.buf);
      }
      this.#queuedBytes -= size;
      if (this.#queuedBytes <= this.#highWater / 2 && this.#drainWaiters.length > 0) {
        const waiters = this.#drainWaiters;
        this.#drainWaiters = [];
        for (const w of waiters) w.resolve();
      }
    }
  }

  /** Appends, retrying with backoff: a full or read-only disk delays records, never drops them. */
  async #append(buffers: Buffer[]): Promise<void> {
    let delay = 50;
    for (let attempt = 1; ; attempt++) {
      try {
        const file = await this.#open();
        // writev may write part of the data; continue from where it stopped.
        let pending = buffers;
        while (pending.length > 0) {
          const { bytesWritten } = await file.writev(pending);
          pending = skipBytes(pending, bytesWritten);
        }
        return;
      } catch (error) {
        this.#onError(error);
        this.#file = undefined;
        // Give up only when someone is waiting for an answer; otherwise keep the batch and retry.
        if (attempt >= 5 && (this.#closing || this.#sync)) throw error;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  #open(): Promise<FileHandle> {
    if (this.#file === undefined) {
      mkdirSync(dirname(this.#path), { recursive: true });
      const opening = open(this.#path, "a");
      this.#file = opening;
      opening.catch(() => {
        if (this.#file === opening) this.#file = undefined;
      });
    }
    return this.#file;
  }
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

/** The buffers left after the first `n` bytes. */
function skipBytes(buffers: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < buffers.length && n >= buffers[i]!.length) n -= buffers[i++]!.length;
  if (i >= buffers.length) return [];
  return [buffers[i]!.subarray(n), ...buffers.slice(i + 1)];
}
