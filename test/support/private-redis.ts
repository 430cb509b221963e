import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { Redis } from "ioredis";

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A redis-server of the test's own, on a spare port, stopped by its pid —
 * never the shared server on 6379.
 */
export class PrivateRedis {
  #child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    readonly extraArgs: readonly string[] = [],
    readonly dir?: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts it and waits until it answers PING. */
  async start(): Promise<void> {
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...this.extraArgs];
    this.#child = spawn("redis-server", args, { stdio: "ignore", ...(this.dir === undefined ? {} : { cwd: this.dir }) });
    const deadline = Date.now() + 5000;
    for (;;) {
      const client = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
      client.on("error", () => {});
      try {
        await client.connect();
        await client.ping();
        client.disconnect();
        return;
      } catch {
        client.disconnect();
        if (Date.now() > deadline) throw new Error(`private redis-server on ${this.port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /**
   * Lets the test process exit while this server still runs (its owner then
   * stops it by pid on the way out): a server shared by a whole run must not
   * be what keeps mocha alive.
   */
  unref(): void {
    this.#child?.unref();
  }

  /** Kills it (SIGKILL by pid) and waits for the exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  }

  /** Stops it gracefully (SIGTERM by pid). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  }
}

/** Whether redis-server can be started here. */
export function hasRedisServer(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}
