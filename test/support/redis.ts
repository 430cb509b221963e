import { Redis } from "ioredis";
import { freePort, hasRedisServer, PrivateRedis } from "./private-redis.ts";

/** The variable that points the Redis suites at a server (CI sets it). */
export const REDIS_ENV = "AGENT_AUTH_TEST_REDIS";

let probe: Promise<string | undefined> | undefined;
let reported = false;

/**
 * The Redis URL for tests. With AGENT_AUTH_TEST_REDIS set, that server (an
 * unreachable one fails the suite). Without it, a private redis-server this
 * test run starts on a spare port and stops by its pid when the run ends —
 * never the shared server's database 0 — or, when redis-server is not
 * installed, undefined (the Redis suites are then skipped with one line; under
 * CI=true that is an error instead).
 */
export function redisTestUrl(): Promise<string | undefined> {
  probe ??= (async () => {
    const configured = process.env[REDIS_ENV];
    if (configured !== undefined) {
      await ping(configured).catch((error: unknown) => {
        throw new Error(`Redis at ${configured} (${REDIS_ENV}) is required but unreachable: ${String(error)}`);
      });
      return configured;
    }
    if (!hasRedisServer()) {
      if (process.env["CI"] === "true") throw new Error(`CI=true: the Redis suites need ${REDIS_ENV} or redis-server on the PATH`);
      return undefined;
    }
    const own = new PrivateRedis(await freePort());
    await own.start();
    own.unref();
    // Stopped by its pid when mocha's process exits, whatever the suites did.
    process.once("exit", () => {
      if (own.pid !== undefined) {
        try {
          process.kill(own.pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
    });
    return own.url;
  })();
  return probe;
}

async function ping(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
  } finally {
    client.disconnect();
  }
}

/** In a `before` hook: the URL, or skips the suite (one line for the whole run) when no Redis can be had. */
export async function requireRedis(ctx: Mocha.Context): Promise<string> {
  const url = await redisTestUrl();
  if (url === undefined) {
    if (!reported) {
      reported = true;
      process.stdout.write(`  Redis suites skipped: redis-server is not installed and ${REDIS_ENV} is not set (set it to redis://HOST:PORT, or install redis-server).\n`);
    }
    ctx.skip();
  }
  return url!;
}

/** A key prefix unique to this test run. */
export function testPrefix(name: string): string {
  return `aa-test-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Deletes every key of a prefix. */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on("error", () => {});
  try {
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `{${prefix}}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== "0");
  } finally {
    client.disconnect();
  }
}
