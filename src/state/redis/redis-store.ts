import { systemClock, type Clock } from "../../model/clock.ts";
import type { OutcomeQuery, StateOutcome } from "../outcome.ts";
import type { DelegationRecord, SessionRecord, StateStore, StoreHealth } from "../store.ts";
import { defineApprovalScripts, RedisApprovals } from "./redis-approvals.ts";
import { RedisAuditStream } from "./audit-stream.ts";
import { RedisLink, type RedisConnection } from "./connection.ts";
import { RedisKeys } from "./keys.ts";
import { delegationLayout, sessionLayout } from "./layouts.ts";
import { OutcomeBatcher } from "./outcome-batcher.ts";
import { defineTableScripts, RedisDelegations, RedisTable } from "./redis-table.ts";
import { ReplicaRegistry } from "./replicas.ts";
import { ScriptRunner } from "./script-runner.ts";

/** Options for {@link createRedisStore}. */
export interface RedisStoreOptions {
  readonly connection: RedisConnection;
  /** Key prefix; keys look like `{agent-auth}:s:<id>`. Default `agent-auth`. */
  readonly prefix?: string | undefined;
  readonly clock?: Clock;
  /** Keep the shared audit stream too (see {@link RedisStore.audit}). Undefined: no stream. */
  readonly audit?: { readonly durability: "sync" | "async"; readonly streamMaxLength: number } | undefined;
  /** Longest a command may take before it fails (and the decision denies). Default 1000 ms. */
  readonly commandTimeoutMs?: number;
  /** Connection problems, for logs. */
  readonly onError?: (error: unknown) => void;
  /** Async audit records given up on after retrying for about 16 minutes (metrics, logs). */
  readonly onAuditDropped?: (count: number, error: unknown) => void;
}

/** Sessions and delegations in Redis, with the deployment's audit stream and replica registry. */
export interface RedisStore extends StateStore {
  readonly keys: RedisKeys;
  /** The shared audit stream, when the store was asked to keep one. */
  readonly audit: RedisAuditStream | undefined;
  /** Who serves this deployment, and which revision each serves. */
  readonly replicas: ReplicaRegistry;
  /** Resolves when connected (rejects after `timeoutMs`). */
  ready(timeoutMs: number): Promise<void>;
  /** Cuts every connection now, without waiting for Redis (pending commands fail): the end of a shutdown's grace. */
  disconnect(): void;
}

/**
 * Sessions and delegations in Redis, shared by every replica.
 *
 * Each record is a hash with a TTL equal to its remaining lifetime (no
 * sweeper). A decision's state step is one Lua call (`EVALSHA`) that checks
 * the session and finds the grant — and, when the audit stream is written in
 * the same trip, appends the record. Commands fail fast while Redis is
 * unreachable, so decisions deny instead of piling up, and the client
 * reconnects by itself.
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStateStore(options);
}

class RedisStateStore implements RedisStore {
  readonly kind = "redis";
  readonly keys: RedisKeys;
  readonly sessions: RedisTable<SessionRecord>;
  readonly delegations: RedisDelegations;
  readonly approvals: RedisApprovals;
  readonly audit: RedisAuditStream | undefined;
  readonly replicas: ReplicaRegistry;
  readonly #link: RedisLink;
  readonly #batcher: OutcomeBatcher;

  constructor(options: RedisStoreOptions) {
    const keys = (this.keys = new RedisKeys(options.prefix ?? "agent-auth"));
    const clock = options.clock ?? systemClock;
    const onError = options.onError ?? (() => {});
    const link = (this.#link = new RedisLink(options.connection, options.commandTimeoutMs ?? 1000, onError));
    defineTableScripts(link.client);
    defineApprovalScripts(link.client);
    const runner = new ScriptRunner(link.client, keys.audit);
    const streamMaxLength = options.audit?.streamMaxLength ?? 100_000;
    const batcher = (this.#batcher = new OutcomeBatcher({ keys, runner, clock, streamMaxLength }));
    // Patterns only the engine matches are learned as they are created here: this replica's
    // decisions for them need no call to ask.
    this.sessions = new RedisTable(link.client, sessionLayout(keys), clock, (s) => batcher.learnSession(s));
    this.delegations = new RedisDelegations(link.client, delegationLayout(keys), clock, (d) => batcher.learnDelegation(d));
    this.approvals = new RedisApprovals(link.client, keys, clock);
    this.replicas = new ReplicaRegistry(link.client, keys, clock);
    this.audit =
      options.audit === undefined
        ? undefined
        : new RedisAuditStream({
            link,
            keys,
            runner,
            batcher: this.#batcher,
            durability: options.audit.durability,
            streamMaxLength,
            onError,
            onDropped: options.onAuditDropped ?? (() => {}),
          });
  }

  ready(timeoutMs: number): Promise<void> {
    return this.#link.ready(timeoutMs);
  }

  resolveOutcome(query: OutcomeQuery): Promise<StateOutcome> {
    return this.#batcher.resolve(query);
  }

  health(): StoreHealth {
    const link = this.#link;
    return link.status === "ready"
      ? { ok: true, detail: "redis: ready" }
      : { ok: false, detail: `redis: ${link.status}${link.lastError ? ` (${link.lastError})` : ""}` };
  }

  async close(): Promise<void> {
    await this.audit?.close();
    await this.#link.close();
  }

  disconnect(): void {
    this.audit?.disconnect();
    this.#link.disconnect();
  }
}
