import type { Cluster, Redis } from "ioredis";
import type { AuditEvent } from "../../audit/event.ts";
import type { OutcomeRecords } from "../../audit/outcome-records.ts";
import { encodeAuditRecord } from "../../audit/record-bytes.ts";
import { newEpoch } from "../../audit/cursor.ts";
import type { StreamEntry } from "../../audit/stream-relay.ts";
import type { OutcomeQuery, StateOutcome } from "../outcome.ts";
import { guard, type RedisLink } from "./connection.ts";
import type { RedisKeys } from "./keys.ts";
import type { OutcomeBatcher } from "./outcome-batcher.ts";
import { RespArgs } from "./resp-builder.ts";
import { script, type ScriptRunner } from "./script-runner.ts";
import { APPEND } from "./scripts.ts";

const APPEND_SCRIPT = script(APPEND);

/** Records an async append may hold before writers are made to wait. */
const BACKPRESSURE = 65_536;

/** Options of {@link RedisAuditStream}. */
export interface RedisAuditStreamOptions {
  readonly link: RedisLink;
  readonly keys: RedisKeys;
  readonly runner: ScriptRunner;
  readonly batcher: OutcomeBatcher;
  /** `sync`: a decision waits until its record is in the stream; `async`: records are batched. */
  readonly durability: "sync" | "async";
  /** Entries the stream keeps (approximately: MAXLEN ~). */
  readonly streamMaxLength: number;
  readonly onError: (error: unknown) => void;
  /** Async records given up on after retrying for about 16 minutes. */
  readonly onDropped: (count: number, error: unknown) => void;
}

/**
 * The shared audit stream in Redis (`{prefix}:audit`, bounded length): an
 * audit sink for this replica's decisions, and the history every replica's
 * relay reads. Records of one event-loop turn go out together in one call
 * (group commit). With sync durability a writer waits for that call and gets
 * its error; a decision that reads state can instead have its record appended
 * by the very call that reads the state ({@link resolveOutcomeAndRecord}).
 */
export class RedisAuditStream {
  readonly durability: "sync" | "async";
  readonly #o: RedisAuditStreamOptions;
  readonly #client: Redis | Cluster;
  #reader: Redis | Cluster | undefined;
  /** Lines for the next batched append whose writers wait for it (sync durability). */
  readonly #syncPending = new RespArgs();
  #syncWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** Lines for the next batched append, retried until Redis takes them. */
  readonly #pending = new RespArgs();
  #pendingWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  #scheduled = false;
  /** The chain of retried appends (one at a time, so they keep their order). */
  #inflight: Promise<void> = Promise.resolve();
  /** Sync appends on the wire: each is sent at once, never queued behind another. */
  readonly #syncInflight = new Set<Promise<void>>();
  /** When retrying stops (ms since the epoch; see {@link giveUpAt}). */
  #giveUpAt = Infinity;
  /** Cuts a retry's wait short when the give-up time moves. */
  #wakeRetry: (() => void) | undefined;
  #connections = 0;

  constructor(options: RedisAuditStreamOptions) {
    this.#o = options;
    this.durability = options.durability;
    this.#client = options.link.client;
    this.#client.on("ready", () => this.#connections++);
  }

  /** Connections (re)established to Redis, this replica's main one and its stream reader's. */
  get connections(): number {
    return this.#connections;
  }

  /** Appends a record; with sync durability (or backpressure) the caller waits. */
  write(event: AuditEvent): void | Promise<void> {
    const line = encodeAuditRecord(event);
    this.#schedule();
    if (this.durability === "sync") {
      this.#syncPending.bytes(line.line, 0, line.line.length);
      return new Promise<void>((resolve, reject) => this.#syncWaiters.push({ resolve, reject }));
    }
    return this.#queue(line.line);
  }

  /**
   * Appends a record without making anyone wait, retrying until Redis takes
   * it: for a fail-closed deny given because a read or a record failed.
   */
  writeInBackground(event: AuditEvent): void {
    const line = encodeAuditRecord(event);
    this.#schedule();
    void this.#queue(line.line)?.catch(() => undefined);
  }

  /**
   * The outcome of a decision's state read, with the decision's record (the
   * one matching the outcome) appended by the same call.
   */
  resolveOutcomeAndRecord(query: OutcomeQuery, records: OutcomeRecords): Promise<StateOutcome> {
    return this.#o.batcher.resolve(query, records);
  }

  async flush(): Promise<void> {
    this.#flush();
    await Promise.all([this.#inflight, ...this.#syncInflight]);
  }

  /**
   * From `at` (ms since the epoch) on, records Redis has not taken yet are
   * given up — counted through `onDropped` — instead of retried: a shutdown
   * sets it, so that an unreachable or stalled Redis cannot hold the process
   * beyond its grace period. Each append in flight still ends within the
   * command timeout.
   */
  giveUpAt(at: number): void {
    this.#giveUpAt = Math.min(this.#giveUpAt, at);
    this.#wakeRetry?.();
  }

  async close(): Promise<void> {
    await this.flush();
    this.#reader?.disconnect();
  }

  /** Cuts the stream reader's connection (a blocked read fails at once). */
  disconnect(): void {
    this.#reader?.disconnect();
  }

  /** Entries strictly after `after` ("0-0" for the start), oldest first. */
  async readStream(after: string, count: number): Promise<StreamEntry[]> {
    const raw = (await guard(this.#client.xrange(this.#o.keys.audit, `(${after}`, "+", "COUNT", count))) as [string, string[]][];
    return raw.map(streamEntry);
  }

  /** Entries strictly before `before` ("" for the newest), newest first. */
  async readStreamBefore(before: string, count: number): Promise<StreamEntry[]> {
    const raw = (await guard(this.#client.xrevrange(this.#o.keys.audit, before === "" ? "+" : `(${before}`, "-", "COUNT", count))) as [string, string[]][];
    return raw.map(streamEntry);
  }

  /** Waits up to `blockMs` for entries after `after`, on a connection of its own (XREAD BLOCK holds it). */
  async waitForStream(after: string, count: number, blockMs: number): Promise<StreamEntry[]> {
    if (this.#reader === undefined) {
      this.#reader = this.#o.link.duplicate();
      this.#reader.on("ready", () => this.#connections++);
    }
    const res = (await guard(this.#reader.xread("COUNT", count, "BLOCK", blockMs, "STREAMS", this.#o.keys.audit, after))) as
      | [string, [string, string[]][]][]
      | null;
    return res === null ? [] : (res[0]?.[1] ?? []).map(streamEntry);
  }

  /** The id of the newest entry ever added ("0-0" when none). */
  async lastStreamId(): Promise<string> {
    return (await this.#info())?.get("last-generated-id") ?? "0-0";
  }

  /** The newest id trimmed away ("0-0" when nothing was): cursors before it may have missed entries. */
  async trimmedUpTo(): Promise<string> {
    return (await this.#info())?.get("max-deleted-entry-id") ?? "0-0";
  }

  /**
   * The stream's epoch (`{prefix}:audit-epoch`), made by whichever replica
   * asks first. The key has no TTL: it goes only when Redis loses its data,
   * and then the stream starts over under a new epoch.
   */
  async epoch(): Promise<string> {
    const key = this.#o.keys.auditEpoch;
    await guard(this.#client.set(key, newEpoch(), "NX"));
    const epoch = await guard(this.#client.get(key));
    if (epoch === null) throw new Error(`${key} vanished while read`);
    return epoch;
  }

  #queue(line: Buffer): void | Promise<void> {
    this.#pending.bytes(line, 0, line.length);
    if (this.#pending.count < BACKPRESSURE) return undefined;
    return new Promise<void>((resolve, reject) => this.#pendingWaiters.push({ resolve, reject }));
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    const { runner, onError, onDropped } = this.#o;
    const maxLen = (): RespArgs => new RespArgs(32).integer(this.#o.streamMaxLength);
    if (this.#syncPending.count > 0) {
      const waiters = this.#syncWaiters;
      this.#syncWaiters = [];
      // Sent at once: during a stall each batch fails after its own command
      // timeout instead of waiting for the batches before it.
      const sent = runner.send(APPEND_SCRIPT, runner.command(APPEND_SCRIPT, 1, [maxLen(), this.#syncPending])).then(
        () => {
          for (const w of waiters) w.resolve();
        },
        (error: unknown) => {
          onError(error);
          for (const w of waiters) w.reject(error);
        },
      );
      this.#syncInflight.add(sent);
      void sent.finally(() => this.#syncInflight.delete(sent));
    }
    if (this.#pending.count === 0) return;
    const count = this.#pending.count;
    // Encoded once: every retry sends the same bytes.
    const command = runner.command(APPEND_SCRIPT, 1, [maxLen(), this.#pending]);
    const waiters = this.#pendingWaiters;
    this.#pendingWaiters = [];
    this.#inflight = this.#inflight.then(async () => {
      let failure: unknown = new Error("the audit stream was closed before Redis took these records");
      for (let attempt = 0; ; attempt++) {
        // Batches queued behind a stalled one are given up at once too, not tried one by one.
        if (Date.now() >= this.#giveUpAt) {
          onDropped(count, failure);
          for (const w of waiters) w.reject(failure);
          return;
        }
        try {
          await runner.send(APPEND_SCRIPT, command);
          for (const w of waiters) w.resolve();
          return;
        } catch (error) {
          failure = error;
          onError(error);
          if (attempt >= 1000) {
            onDropped(count, error);
            for (const w of waiters) w.reject(error);
            return;
          }
          const wait = Math.min(100 * (attempt + 1), 1000, this.#giveUpAt - Date.now());
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, wait);
            this.#wakeRetry = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.#wakeRetry = undefined;
        }
      }
    });
  }

  async #info(): Promise<Map<string, string> | undefined> {
    try {
      const raw = (await guard(this.#client.call("XINFO", "STREAM", this.#o.keys.audit))) as unknown[];
      const m = new Map<string, string>();
      for (let i = 0; i + 1 < raw.length; i += 2) if (typeof raw[i + 1] === "string") m.set(String(raw[i]), raw[i + 1] as string);
      return m;
    } catch (error) {
      if (error instanceof Error && /no such key/i.test(error.message)) return undefined;
      throw error;
    }
  }
}

function streamEntry([id, fields]: [string, string[]]): StreamEntry {
  const i = fields.indexOf("r");
  return { id, line: i >= 0 ? (fields[i + 1] ?? "") : "" };
}
