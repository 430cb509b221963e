import { hostname } from "node:os";
import type { ReplicaInfo, ReplicaRegistry } from "../../state/redis/index.ts";

const INTERVAL_MS = 2000;
const MAX_AGE_MS = 10_000;

/**
 * Reports, every two seconds, what this replica serves (its revision and
 * reload errors) to the deployment's registry, so DescribePolicy shows
 * whether replicas converged. Without a registry (memory mode) the replica
 * list is this process alone.
 */
export class ReplicaAnnouncer {
  readonly #registry: ReplicaRegistry | undefined;
  readonly #self: () => Omit<ReplicaInfo, "id" | "seen">;
  #id = "";
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(registry: ReplicaRegistry | undefined, self: () => Omit<ReplicaInfo, "id" | "seen">) {
    this.#registry = registry;
    this.#self = self;
  }

  /** Starts announcing under an id made of host, pid and port. */
  start(port: number): void {
    this.#id = `${hostname()}:${process.pid}:${port}`;
    if (this.#registry === undefined) return;
    this.announce();
    this.#timer = setInterval(() => this.announce(), INTERVAL_MS);
    this.#timer.unref();
  }

  /** Reports now (after a reload). */
  announce(): void {
    if (this.#registry === undefined || this.#id === "" || this.#stopped) return;
    void this.#registry.announce(this.#id, this.#info()).catch(() => undefined);
  }

  /** The replicas serving this deployment and their revisions (this one alone without a registry or when it cannot be read). */
  async list(): Promise<ReplicaInfo[]> {
    if (this.#registry === undefined) return [this.#info()];
    try {
      return await this.#registry.list(MAX_AGE_MS);
    } catch {
      return [this.#info()];
    }
  }

  /** Stops announcing and removes this replica's entry. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#registry !== undefined && this.#id !== "") await this.#registry.withdraw(this.#id).catch(() => undefined);
  }

  #info(): ReplicaInfo {
    return { id: this.#id, ...this.#self(), seen: Date.now() };
  }
}
