import { Cluster, Redis, type ClusterNode, type RedisOptions } from "ioredis";
import { isStateUnavailableError, StateUnavailableError } from "../../model/errors.ts";

/** How to reach Redis: a URL, Sentinel, Cluster, or a client you own. */
export type RedisConnection =
  | { readonly url: string; readonly options?: RedisOptions }
  | { readonly sentinels: readonly { host: string; port: number }[]; readonly name: string; readonly options?: RedisOptions }
  | { readonly cluster: readonly ClusterNode[]; readonly options?: RedisOptions }
  | { readonly client: Redis | Cluster };

const BASE_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  // Off: an auto-pipeline holds later commands back until it completes, and
  // their command timeout starts only then, so a stalled Redis would make a
  // decision wait for two timeouts. The store batches its own calls instead.
  enableAutoPipelining: false,
  maxRetriesPerRequest: 1,
  retryStrategy: (times) => Math.min(50 * times, 500),
};

/**
 * One Redis client and what the store needs to know about it: whether the
 * store owns it (and closes it), the last connection error (for health), and
 * readiness. Commands fail fast while Redis is unreachable (no offline
 * queue), so decisions deny instead of piling up; the client reconnects by
 * itself.
 */
export class RedisLink {
  readonly client: Redis | Cluster;
  readonly owned: boolean;
  #lastError = "";
  readonly #onError: (error: unknown) => void;

  constructor(connection: RedisConnection, commandTimeoutMs: number, onError: (error: unknown) => void) {
    this.#onError = onError;
    if ("client" in connection) {
      this.client = connection.client;
      this.owned = false;
    } else {
      this.owned = true;
      // ioredis' constructor overloads do not resolve under exactOptionalPropertyTypes, hence the casts.
      const opts = { ...BASE_OPTIONS, commandTimeout: commandTimeoutMs, ...connection.options } as never;
      if ("url" in connection) this.client = new Redis(connection.url, opts);
      else if ("sentinels" in connection) this.client = new Redis({ ...(opts as RedisOptions), sentinels: [...connection.sentinels], name: connection.name } as never);
      else this.client = new Cluster([...connection.cluster], { redisOptions: opts, enableOfflineQueue: false, enableAutoPipelining: false });
    }
    // Without a listener an outage would surface as an unhandled 'error' event.
    this.client.on("error", (error: unknown) => {
      this.#lastError = error instanceof Error ? error.message : String(error);
      this.#onError(error);
    });
    this.client.on("ready", () => (this.#lastError = ""));
  }

  get status(): string {
    return this.client.status;
  }

  get lastError(): string {
    return this.#lastError;
  }

  /** Resolves when connected (rejects after `timeoutMs`, naming the last error). */
  async ready(timeoutMs: number): Promise<void> {
    const r = this.client;
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

  /** A second connection to the same server (blocking reads hold theirs). */
  duplicate(): Redis | Cluster {
    const base = this.client;
    const copy = base instanceof Cluster ? base.duplicate() : base.duplicate({ commandTimeout: undefined, enableAutoPipelining: false });
    copy.on("error", (error: unknown) => this.#onError(error));
    return copy;
  }

  /** Drops the connection now if the store opened it; pending commands fail. */
  disconnect(): void {
    if (this.owned) this.client.disconnect();
  }

  /** Closes the client if the store opened it. */
  async close(): Promise<void> {
    if (!this.owned) return;
    try {
      await guard(this.client.quit());
    } catch {
      this.client.disconnect();
    }
  }
}

/**
 * Redis failures (unreachable, timed out, script errors) as StateUnavailableError,
 * so callers answer UNAVAILABLE (management) or deny (decisions) — never a
 * stray ioredis error.
 */
export async function guard<T>(pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (error) {
    if (isStateUnavailableError(error)) throw error;
    const why = error instanceof Error ? error.message : String(error);
    throw new StateUnavailableError(`State store unavailable: ${why}`, { cause: error });
  }
}
