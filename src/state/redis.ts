import { createHash } from "node:crypto";
import { Cluster, Command, Redis, type ClusterNode, type RedisOptions } from "ioredis";
import type { AuditEvent } from "../audit/event.ts";
import { decisionFieldsBytes, encodeAuditRecord } from "../audit/record-bytes.ts";
import { systemClock, type Clock } from "../engine/clock.ts";
import { isStateUnavailableError, StateUnavailableError } from "../engine/errors.ts";
import { globProgram } from "./glob-program.ts";
import { OK_NO_GRANT, SESSION_INVALID, type OutcomeQuery, type StateOutcome } from "./outcome.ts";
import { RedisKeys } from "./redis-keys.ts";
import { APPEND, CREATE, FETCH, GET, LIST, RESOLVE, REVOKE } from "./redis-scripts.ts";
import { evalFromEvalsha, respCommand, RespArgs } from "./resp-builder.ts";
import type {
  DecisionState,
  DecisionStateQuery,
  DelegationRecord,
  ListFilter,
  OutcomeRecord,
  RevokeOutcome,
  SessionRecord,
  StateStore,
  StoreHealth,
} from "./store.ts";

/** How to reach Redis: a URL, Sentinel, Cluster, or a client you own. */
export type RedisConnection =
  | { readonly url: string; readonly options?: RedisOptions }
  | { readonly sentinels: readonly { host: string; port: number }[]; readonly name: string; readonly options?: RedisOptions }
  | { readonly cluster: readonly ClusterNode[]; readonly options?: RedisOptions }
  | { readonly client: Redis | Cluster };

/** Options for {@link createRedisStore}. */
export interface RedisStoreOptions {
  readonly connection: RedisConnection;
  /** Key prefix; keys look like `{agent-auth}:s:<id>`. Default `agent-auth`. */
  readonly prefix?: string | undefined;
  readonly clock?: Clock;
  /** Keep the shared audit stream too. Undefined: no stream. */
  readonly audit?: { readonly durability: "sync" | "async"; readonly streamMaxLength: number } | undefined;
  /** Longest a command may take before it fails (and the decision denies). Default 1000 ms. */
  readonly commandTimeoutMs?: number;
  /** Connection problems, for logs. */
  readonly onError?: (error: unknown) => void;
  /** Async audit records given up on after retrying for about 16 minutes (metrics, logs). */
  readonly onAuditDropped?: (count: number, error: unknown) => void;
}

/** One entry of the shared audit stream. */
export interface StreamEntry {
  readonly id: string;
  readonly line: string;
}

/** What an audit relay needs from the shared stream. */
export interface SharedAuditStream {
  /** Entries strictly after `after` ("0-0" for the start), oldest first. */
  readStream(after: string, count: number): Promise<StreamEntry[]>;
  /** Waits up to `blockMs` for entries after `after` on a dedicated connection. */
  waitForStream(after: string, count: number, blockMs: number): Promise<StreamEntry[]>;
  /** The id of the newest entry ever added ("0-0" when none). */
  lastStreamId(): Promise<string>;
  /** The newest id trimmed away ("0-0" when nothing was): cursors before it may have missed entries. */
  trimmedUpTo(): Promise<string>;
}

/** The Redis store plus its shared audit stream. */
export interface RedisStore extends StateStore, SharedAuditStream {
  readonly keys: RedisKeys;
  /** Resolves when connected (rejects after `timeoutMs`). */
  ready(timeoutMs: number): Promise<void>;
  /** Records what this replica serves (a JSON document with a `seen` time in ms) under its id. */
  announceReplica(id: string, info: ReplicaInfo): Promise<void>;
  /** Replicas that announced themselves within `maxAgeMs`; older entries are removed. */
  listReplicas(maxAgeMs: number): Promise<ReplicaInfo[]>;
  /** Removes this replica's entry (graceful stop). */
  withdrawReplica(id: string): Promise<void>;
}

/** What one replica reports about itself. */
export interface ReplicaInfo {
  readonly id: string;
  readonly address: string;
  readonly revision: string;
  /** Non-empty while its policy file is invalid and an older revision is served. */
  readonly reloadErrors: readonly string[];
  /** When it last reported (ms since the epoch, its own clock). */
  readonly seen: number;
}

/**
 * Sessions and delegations in Redis, shared by every replica.
 *
 * Each record is a hash with a TTL equal to its remaining lifetime (no
 * sweeper); a revoked record keeps its TTL, so it stays readable as revoked
 * until it would have expired. A decision's state step is one Lua call
 * (`EVALSHA`) that checks the session, finds the grant and — with sync audit —
 * appends the audit record. Commands fail fast while Redis is unreachable
 * (no offline queue), so decisions deny instead of piling up, and the client
 * reconnects by itself.
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStateStore(options);
}

type Scripted = Redis & {
  aaCreate(numKeys: number, ...args: (string | number)[]): Promise<number>;
  aaGet(key: string, now: number): Promise<string[] | null>;
  aaRevoke(key: string, now: number): Promise<[string, string[]?]>;
  aaList(key: string, base: string, now: number, af: string, a: string, uf: string, u: string, rev: string): Promise<(string | string[])[]>;
  aaFetch(k1: string, k2: string, now: number, named: string, want: string, base: string): Promise<(string | string[] | null)[]>;
};

const BASE_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  // Off: an auto-pipeline holds later commands back until it completes, and
  // their command timeout starts only then, so a stalled Redis would make a
  // decision wait for two timeouts. The store batches its own calls instead.
  enableAutoPipelining: false,
  maxRetriesPerRequest: 1,
  retryStrategy: (times) => Math.min(50 * times, 500),
};

class RedisStateStore implements RedisStore {
  readonly kind = "redis";
  readonly keys: RedisKeys;
  readonly auditDurability: "sync" | "async" | undefined;
  readonly #redis: Scripted;
  #reader: Redis | Cluster | undefined;
  readonly #owns: boolean;
  readonly #clock: Clock;
  readonly #maxLen: number;
  readonly #onError: (error: unknown) => void;
  readonly #onAuditDropped: (count: number, error: unknown) => void;
  #lastError = "";
  /** Audit lines waiting for the next batched append, whose callers wait for it (sync durability). */
  readonly #syncPending = new RespArgs();
  #syncWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** Audit lines waiting for the next batched append, retried until Redis takes them. */
  readonly #pending = new RespArgs();
  #pendingWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  #flushScheduled = false;
  /** The chain of retried appends (one at a time, so they keep their order). */
  #inflight: Promise<void> = Promise.resolve();
  /** Sync appends on the wire: each is sent at once, never queued behind another. */
  readonly #syncInflight = new Set<Promise<void>>();
  /** Decisions waiting for the next resolve call, and their keys and arguments, encoded. */
  #resolves: { resolve: (o: StateOutcome) => void; reject: (e: unknown) => void }[] = [];
  readonly #resolveKeys = new RespArgs();
  readonly #resolveArgs = new RespArgs();
  readonly #resolveFixed = new RespArgs(256);
  readonly #sessionPrefix: Buffer;
  readonly #grantsPrefixes: Buffer[] = [];
  #resolveScheduled = false;

  constructor(options: RedisStoreOptions) {
    this.keys = new RedisKeys(options.prefix ?? "agent-auth");
    this.#sessionPrefix = Buffer.from(this.keys.session(""), "utf8");
    this.#clock = options.clock ?? systemClock;
    this.auditDurability = options.audit?.durability;
    this.#maxLen = options.audit?.streamMaxLength ?? 100_000;
    this.#onError = options.onError ?? (() => {});
    this.#onAuditDropped = options.onAuditDropped ?? (() => {});
    const timeout = options.commandTimeoutMs ?? 1000;
    const c = options.connection;
    let client: Redis | Cluster;
    if ("client" in c) {
      client = c.client;
      this.#owns = false;
    } else {
      this.#owns = true;
      // ioredis' constructor overloads do not resolve under exactOptionalPropertyTypes, hence the casts.
      const opts = { ...BASE_OPTIONS, commandTimeout: timeout, ...c.options } as never;
      if ("url" in c) client = new Redis(c.url, opts);
      else if ("sentinels" in c) client = new Redis({ ...(opts as RedisOptions), sentinels: [...c.sentinels], name: c.name } as never);
      else client = new Cluster([...c.cluster], { redisOptions: opts, enableOfflineQueue: false, enableAutoPipelining: false });
    }
    // Without a listener an outage would surface as an unhandled 'error' event.
    client.on("error", (error: unknown) => {
      this.#lastError = error instanceof Error ? error.message : String(error);
      this.#onError(error);
    });
    client.on("ready", () => (this.#lastError = ""));
    const define = (name: string, lua: string, numberOfKeys?: number): void =>
      client.defineCommand(name, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
    define("aaCreate", CREATE);
    define("aaGet", GET, 1);
    define("aaRevoke", REVOKE, 1);
    define("aaList", LIST, 1);
    define("aaFetch", FETCH, 2);
    this.#redis = client as unknown as Scripted;
  }

  async ready(timeoutMs: number): Promise<void> {
    const r = this.#redis;
    if (r.status === "ready") return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        r.off("ready", onReady);
        reject(new Error(`Redis not ready after ${timeoutMs} ms${this.#lastError ? `: ${this.#lastError}` : ""}`));
      }, timeoutMs);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      r.once("ready", onReady);
    });
  }

  // Sessions

  async createSession(r: SessionRecord): Promise<void> {
    const k = this.keys;
    const fields = ["agent", r.agent, "user", r.user, "scope", r.scope, "created", r.createdAt, "expires", r.expiresAt, "glob", globProgram(r.scope)];
    await guard(this.#redis.aaCreate(4, k.session(r.id), k.sessions, k.sessionsOfAgent(r.agent), k.sessionsOfUser(r.user), r.id, this.#clock.now(), r.expiresAt, r.createdAt, ...fields));
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const flat = await guard(this.#redis.aaGet(this.keys.session(id), this.#clock.now()));
    return flat === null ? undefined : toSession(id, flat);
  }

  async listSessions(filter: ListFilter = {}): Promise<SessionRecord[]> {
    const k = this.keys;
    const index = filter.agent ? k.sessionsOfAgent(filter.agent) : filter.user ? k.sessionsOfUser(filter.user) : k.sessions;
    const out = await guard(this.#redis.aaList(index, k.session(""), this.#clock.now(), "agent", filter.agent ?? "", "user", filter.user ?? "", filter.includeRevoked ? "1" : "0"));
    return pairs(out).map(([id, flat]) => toSession(id, flat));
  }

  async revokeSession(id: string): Promise<RevokeOutcome<SessionRecord>> {
    const [status, flat] = await guard(this.#redis.aaRevoke(this.keys.session(id), this.#clock.now()));
    return revokeOutcome(status, flat, (f) => toSession(id, f));
  }

  // Delegations

  async createDelegation(r: DelegationRecord): Promise<void> {
    const k = this.keys;
    const fields = [
      "from", r.fromUser,
      "to", r.toAgent,
      "actions", JSON.stringify(r.actions),
      "globs", `[${r.actions.map(globProgram).join(",")}]`,
      "granted", r.grantedAt,
      "expires", r.expiresAt,
      "reason", r.reason,
    ];
    await guard(this.#redis.aaCreate(
      5,
      k.delegation(r.id),
      k.delegations,
      k.delegationsToAgent(r.toAgent),
      k.delegationsFromUser(r.fromUser),
      k.grants(r.toAgent, r.fromUser),
      r.id,
      this.#clock.now(),
      r.expiresAt,
      r.grantedAt,
      ...fields,
    ));
  }

  async getDelegation(id: string): Promise<DelegationRecord | undefined> {
    const flat = await guard(this.#redis.aaGet(this.keys.delegation(id), this.#clock.now()));
    return flat === null ? undefined : toDelegation(id, flat);
  }

  async listDelegations(filter: ListFilter = {}): Promise<DelegationRecord[]> {
    const k = this.keys;
    const index = filter.agent ? k.delegationsToAgent(filter.agent) : filter.user ? k.delegationsFromUser(filter.user) : k.delegations;
    const out = await guard(this.#redis.aaList(index, k.delegation(""), this.#clock.now(), "to", filter.agent ?? "", "from", filter.user ?? "", filter.includeRevoked ? "1" : "0"));
    return pairs(out).map(([id, flat]) => toDelegation(id, flat));
  }

  async revokeDelegation(id: string): Promise<RevokeOutcome<DelegationRecord>> {
    const [status, flat] = await guard(this.#redis.aaRevoke(this.keys.delegation(id), this.#clock.now()));
    return revokeOutcome(status, flat, (f) => toDelegation(id, f));
  }

  // Decisions

  async fetchDecisionState(q: DecisionStateQuery): Promise<DecisionState> {
    const k = this.keys;
    const [session, ...rest] = await guard(this.#redis.aaFetch(
      q.sessionId === "" ? k.none : k.session(q.sessionId),
      k.grants(q.agent, q.user),
      this.#clock.now(),
      q.sessionId === "" ? "0" : "1",
      q.delegations ? "1" : "0",
      k.delegation(""),
    ));
    const now = this.#clock.now();
    const s = Array.isArray(session) ? toSession(q.sessionId, session) : undefined;
    return {
      session: s !== undefined && s.expiresAt > now ? s : undefined,
      delegations: pairs(rest as (string | string[])[]).map(([id, flat]) => toDelegation(id, flat)),
    };
  }

  /**
   * Decisions that arrive together (in one event-loop turn) share one call:
   * each still waits for exactly one round trip, and Redis and this client
   * do a fraction of the per-command work. Each decision's keys and arguments
   * (its audit record as the encoder's bytes) are encoded as it arrives.
   */
  resolveOutcome(q: OutcomeQuery, record?: OutcomeRecord): Promise<StateOutcome> {
    return new Promise<StateOutcome>((resolve, reject) => {
      const k = this.keys;
      const keys = this.#resolveKeys;
      const args = this.#resolveArgs;
      // The same keys as RedisKeys.session and RedisKeys.grants, written without building their strings.
      if (q.sessionId === "") keys.text(k.none);
      else keys.joined(this.#sessionPrefix, q.sessionId, "");
      keys.joined(this.#grantsPrefix(q.agent.length), q.agent, q.user);
      args.text(q.sessionId === "" ? "0" : "1").text(q.agent).text(q.user).text(q.scope).text(q.action).text(q.delegations ? "1" : "0");
      if (record === undefined) {
        args.text("0").text("").text("0").text("0").text("");
      } else {
        const line = encodeAuditRecord(record.event);
        args.text("1").bytes(line.line, 0, line.line.length).integer(line.partStart).integer(line.partEnd);
        if (record.ifGrant === undefined) args.text("");
        else {
          const part = decisionFieldsBytes(record.ifGrant);
          args.bytes(part, 0, part.length);
        }
      }
      this.#resolves.push({ resolve, reject });
      if (this.#resolves.length >= MAX_BATCH) this.#flushResolves();
      else if (!this.#resolveScheduled) {
        this.#resolveScheduled = true;
        setImmediate(() => this.#flushResolves());
      }
    });
  }

  /** `{prefix}:dp:<agent length>:`, the start of a grants index key. */
  #grantsPrefix(agentLength: number): Buffer {
    let p = this.#grantsPrefixes[agentLength];
    if (p === undefined) {
      p = Buffer.from(this.keys.grantsPrefix(agentLength), "utf8");
      if (agentLength < 4096) this.#grantsPrefixes[agentLength] = p;
    }
    return p;
  }

  #flushResolves(): void {
    this.#resolveScheduled = false;
    const batch = this.#resolves;
    if (batch.length === 0) return;
    this.#resolves = [];
    const k = this.keys;
    const numKeys = 1 + this.#resolveKeys.count;
    const fixed = this.#resolveFixed.text(String(this.#clock.now())).text(k.delegation("")).integer(this.#maxLen);
    this.#sendScript(RESOLVE_SCRIPT, this.#scriptCommand(RESOLVE_SCRIPT, numKeys, [this.#resolveKeys, fixed, this.#resolveArgs])).then(
      (reply) => {
        const outcomes = reply as string[];
        for (let i = 0; i < batch.length; i++) {
          const item = batch[i]!;
          try {
            item.resolve(toOutcome(outcomes[i]));
          } catch (error) {
            item.reject(error);
          }
        }
      },
      (error: unknown) => {
        for (const item of batch) item.reject(error);
      },
    );
  }

  /**
   * EVALSHA of a script on the audit stream key and the keys and arguments
   * encoded in `groups` (which are emptied).
   */
  #scriptCommand(script: Script, numKeys: number, groups: readonly RespArgs[]): Buffer {
    return respCommand(["EVALSHA", script.sha, String(numKeys), this.keys.audit], groups);
  }

  /**
   * Sends an EVALSHA built by #scriptCommand, then its EVAL form (which loads
   * the script) if Redis does not know the script, as after a restart.
   * Failures come back as StateUnavailableError.
   */
  #sendScript(script: Script, evalsha: Buffer): Promise<unknown> {
    const send = (bytes: Buffer, name: "evalsha" | "eval"): Promise<unknown> => {
      const command = new EncodedCommand(name, this.keys.audit, bytes);
      void this.#redis.sendCommand(command);
      return command.promise;
    };
    return guard(
      send(evalsha, "evalsha").catch((error: unknown) => {
        if (error instanceof Error && error.message.startsWith("NOSCRIPT")) return send(evalFromEvalsha(evalsha, script.lua), "eval");
        throw error;
      }),
    );
  }

  // The shared audit stream

  /**
   * Appends a record. Records of one event-loop turn go out together in one
   * call (group commit). With sync durability the caller waits for that call
   * and gets its error; `background` records (a fail-closed deny given because
   * a read or a record failed) are instead retried until Redis takes them,
   * without holding the answer back.
   */
  appendAudit(event: AuditEvent, background = false): void | Promise<void> {
    const line = encodeAuditRecord(event);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flushAudit());
    }
    if (this.auditDurability === "sync" && !background) {
      this.#syncPending.bytes(line.line, 0, line.line.length);
      return new Promise<void>((resolve, reject) => this.#syncWaiters.push({ resolve, reject }));
    }
    this.#pending.bytes(line.line, 0, line.line.length);
    if (this.#pending.count >= 65_536) {
      return new Promise<void>((resolve, reject) => this.#pendingWaiters.push({ resolve, reject }));
    }
    return undefined;
  }

  #flushAudit(): void {
    this.#flushScheduled = false;
    if (this.#syncPending.count > 0) {
      const waiters = this.#syncWaiters;
      this.#syncWaiters = [];
      // Sent at once: during a stall each batch fails after its own command
      // timeout instead of waiting for the batches before it.
      const command = this.#scriptCommand(APPEND_SCRIPT, 1, [new RespArgs(32).integer(this.#maxLen), this.#syncPending]);
      const sent = this.#sendScript(APPEND_SCRIPT, command).then(
        () => {
          for (const w of waiters) w.resolve();
        },
        (error: unknown) => {
          this.#onError(error);
          for (const w of waiters) w.reject(error);
        },
      );
      this.#syncInflight.add(sent);
      void sent.finally(() => this.#syncInflight.delete(sent));
    }
    if (this.#pending.count === 0) return;
    const count = this.#pending.count;
    // Encoded once: every retry sends the same bytes.
    const command = this.#scriptCommand(APPEND_SCRIPT, 1, [new RespArgs(32).integer(this.#maxLen), this.#pending]);
    const waiters = this.#pendingWaiters;
    this.#pendingWaiters = [];
    this.#inflight = this.#inflight.then(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.#sendScript(APPEND_SCRIPT, command);
          for (const w of waiters) w.resolve();
          return;
        } catch (error) {
          this.#onError(error);
          if (attempt >= 1000) {
            this.#onAuditDropped(count, error);
            for (const w of waiters) w.reject(error);
            return;
          }
          await new Promise((r) => setTimeout(r, Math.min(100 * (attempt + 1), 1000)));
        }
      }
    });
  }

  async readStream(after: string, count: number): Promise<StreamEntry[]> {
    const raw = (await guard(this.#redis.xrange(this.keys.audit, `(${after}`, "+", "COUNT", count))) as [string, string[]][];
    return raw.map(streamEntry);
  }

  async waitForStream(after: string, count: number, blockMs: number): Promise<StreamEntry[]> {
    // XREAD BLOCK holds its connection, so it gets one of its own.
    this.#reader ??= this.#duplicate();
    const res = (await guard(this.#reader.xread("COUNT", count, "BLOCK", blockMs, "STREAMS", this.keys.audit, after))) as
      | [string, [string, string[]][]][]
      | null;
    return res === null ? [] : (res[0]?.[1] ?? []).map(streamEntry);
  }

  async announceReplica(id: string, info: ReplicaInfo): Promise<void> {
    await guard(this.#redis.hset(this.keys.replicas, id, JSON.stringify(info)));
  }

  async listReplicas(maxAgeMs: number): Promise<ReplicaInfo[]> {
    const all = (await guard(this.#redis.hgetall(this.keys.replicas))) as Record<string, string>;
    const now = this.#clock.now();
    const live: ReplicaInfo[] = [];
    const stale: string[] = [];
    for (const [id, json] of Object.entries(all)) {
      let info: ReplicaInfo | undefined;
      try {
        info = JSON.parse(json) as ReplicaInfo;
      } catch {
        info = undefined;
      }
      if (info === undefined || typeof info.seen !== "number" || now - info.seen > maxAgeMs) stale.push(id);
      else live.push(info);
    }
    if (stale.length > 0) await guard(this.#redis.hdel(this.keys.replicas, ...stale));
    return live.sort((a, b) => a.id.localeCompare(b.id));
  }

  async withdrawReplica(id: string): Promise<void> {
    await guard(this.#redis.hdel(this.keys.replicas, id));
  }

  async lastStreamId(): Promise<string> {
    const info = await this.#streamInfo();
    return info?.get("last-generated-id") ?? "0-0";
  }

  async trimmedUpTo(): Promise<string> {
    const info = await this.#streamInfo();
    return info?.get("max-deleted-entry-id") ?? "0-0";
  }

  async #streamInfo(): Promise<Map<string, string> | undefined> {
    try {
      const raw = (await guard(this.#redis.call("XINFO", "STREAM", this.keys.audit))) as unknown[];
      const m = new Map<string, string>();
      for (let i = 0; i + 1 < raw.length; i += 2) if (typeof raw[i + 1] === "string") m.set(String(raw[i]), raw[i + 1] as string);
      return m;
    } catch (error) {
      if (error instanceof Error && /no such key/i.test(error.message)) return undefined;
      throw error;
    }
  }

  #duplicate(): Redis | Cluster {
    const base = this.#redis as unknown as Redis | Cluster;
    const copy = base instanceof Cluster ? base.duplicate() : base.duplicate({ commandTimeout: undefined, enableAutoPipelining: false });
    copy.on("error", (error: unknown) => this.#onError(error));
    return copy;
  }

  health(): StoreHealth {
    const status = this.#redis.status;
    return status === "ready"
      ? { ok: true, detail: "redis: ready" }
      : { ok: false, detail: `redis: ${status}${this.#lastError ? ` (${this.#lastError})` : ""}` };
  }

  async close(): Promise<void> {
    this.#flushAudit();
    await Promise.all([this.#inflight, ...this.#syncInflight]);
    this.#reader?.disconnect();
    if (this.#owns) {
      try {
        await guard(this.#redis.quit());
      } catch {
        this.#redis.disconnect();
      }
    }
  }
}

/** A Lua script and its SHA-1, as EVALSHA names it. */
interface Script {
  readonly lua: string;
  readonly sha: string;
}

function script(lua: string): Script {
  return { lua, sha: createHash("sha1").update(lua).digest("hex") };
}

const RESOLVE_SCRIPT = script(RESOLVE);
const APPEND_SCRIPT = script(APPEND);

/**
 * A command whose bytes the store encoded itself (a batch of decisions);
 * ioredis still routes it, times it out and parses the reply. `slotKey` is
 * any of its keys: they share one hash tag, so Cluster routes it by that.
 */
class EncodedCommand extends Command {
  readonly #bytes: Buffer;

  constructor(name: "evalsha" | "eval", slotKey: string, bytes: Buffer) {
    super(name, ["", "1", slotKey], { replyEncoding: "utf8" });
    this.#bytes = bytes;
  }

  override toWritable(): Buffer {
    return this.#bytes;
  }
}

/**
 * Redis failures (unreachable, timed out, script errors) as StateUnavailableError,
 * so callers answer UNAVAILABLE (management) or deny (decisions) — never a
 * stray ioredis error.
 */
async function guard<T>(pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (error) {
    if (isStateUnavailableError(error)) throw error;
    const why = error instanceof Error ? error.message : String(error);
    throw new StateUnavailableError(`State store unavailable: ${why}`, { cause: error });
  }
}

/**
 * Decisions per resolve call at most. Under load, several calls are then in
 * flight at once: measured, 16 answered more calls per second than 8, 24, 32
 * or 64 (larger batches save work per decision but make decisions wait longer).
 */
const MAX_BATCH = 16;

/**
 * One decision's outcome as the RESOLVE script reports it: "" (ok, no grant),
 * "g<grant id>\x1f<grantor>", "i" (invalid session), "a<agent>", "u<user>",
 * "s<scope pattern>".
 */
function toOutcome(reply: string | undefined): StateOutcome {
  if (reply === "") return OK_NO_GRANT;
  const detail = reply?.slice(1) ?? "";
  switch (reply?.[0]) {
    case "g": {
      const at = detail.indexOf("\x1f");
      if (at < 0) break;
      return { kind: "ok", grant: { id: detail.slice(0, at), fromUser: detail.slice(at + 1) } };
    }
    case "i":
      return SESSION_INVALID;
    case "a":
      return { kind: "agent_mismatch", expected: detail };
    case "u":
      return { kind: "user_mismatch", expected: detail };
    case "s":
      return { kind: "scope_outside", pattern: detail };
  }
  throw new StateUnavailableError(`unexpected outcome from Redis: ${String(reply)}`);
}

function streamEntry([id, fields]: [string, string[]]): StreamEntry {
  const i = fields.indexOf("r");
  return { id, line: i >= 0 ? (fields[i + 1] ?? "") : "" };
}

function pairs(flat: readonly (string | string[] | null)[]): [string, string[]][] {
  const out: [string, string[]][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string[]]);
  return out;
}

function hash(flat: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i]!, flat[i + 1]!);
  return m;
}

function toSession(id: string, flat: readonly string[]): SessionRecord {
  const h = hash(flat);
  const revoked = h.get("revoked");
  return {
    id,
    agent: h.get("agent") ?? "",
    user: h.get("user") ?? "",
    scope: h.get("scope") ?? "",
    createdAt: Number(h.get("created")),
    expiresAt: Number(h.get("expires")),
    ...(revoked === undefined ? {} : { revokedAt: Number(revoked) }),
  };
}

function toDelegation(id: string, flat: readonly string[]): DelegationRecord {
  const h = hash(flat);
  const revoked = h.get("revoked");
  return {
    id,
    fromUser: h.get("from") ?? "",
    toAgent: h.get("to") ?? "",
    actions: JSON.parse(h.get("actions") ?? "[]") as string[],
    grantedAt: Number(h.get("granted")),
    expiresAt: Number(h.get("expires")),
    reason: h.get("reason") ?? "",
    ...(revoked === undefined ? {} : { revokedAt: Number(revoked) }),
  };
}

function revokeOutcome<T>(status: string, flat: string[] | undefined, map: (f: string[]) => T): RevokeOutcome<T> {
  if (status === "revoked" || status === "already_revoked") return { status, record: map(flat ?? []) };
  return { status: "not_found" };
}
