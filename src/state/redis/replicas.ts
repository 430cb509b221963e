import type { Cluster, Redis } from "ioredis";
import type { Clock } from "../../model/clock.ts";
import { guard } from "./connection.ts";
import type { RedisKeys } from "./keys.ts";

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
 * The replicas of a deployment (`{prefix}:replicas`, a hash of id → JSON),
 * each refreshing its entry every few seconds, so any replica can say which
 * revision every other one serves.
 */
export class ReplicaRegistry {
  readonly #client: Redis | Cluster;
  readonly #key: string;
  readonly #clock: Clock;

  constructor(client: Redis | Cluster, keys: RedisKeys, clock: Clock) {
    this.#client = client;
    this.#key = keys.replicas;
    this.#clock = clock;
  }

  /** Records what this replica serves under its id. */
  async announce(id: string, info: ReplicaInfo): Promise<void> {
    await guard(this.#client.hset(this.#key, id, JSON.stringify(info)));
  }

  /** Replicas that announced themselves within `maxAgeMs`, by id; older entries are removed. */
  async list(maxAgeMs: number): Promise<ReplicaInfo[]> {
    const all = (await guard(this.#client.hgetall(this.#key))) as Record<string, string>;
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
    if (stale.length > 0) await guard(this.#client.hdel(this.#key, ...stale));
    return live.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Removes a replica's entry (graceful stop). */
  async withdraw(id: string): Promise<void> {
    await guard(this.#client.hdel(this.#key, id));
  }
}
