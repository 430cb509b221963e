import { Redis } from "ioredis";

/** The variable that points the Redis suites at a server (CI sets it). */
export const REDIS_ENV = "AGENT_AUTH_TEST_REDIS";
const DEFAULT_URL = "redis://127.0.0.1:6379";

let probe: Promise<string | undefined> | undefined;
let reported = false;

/**
 * The Redis URL for tests, or undefined when none answers and the variable is
 * not set (then the Redis suites are skipped, with one line saying how to
 * enable them). With the variable set, an unreachable Redis fails the suite.
 */
export function redisTestUrl(): Promise<string | undefined> {
  probe ??= (async () => {
    const configured = process.env[REDIS_ENV];
    const url = configured ?? DEFAULT_URL;
    const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.ping();
      return url;
    } catch (error) {
      if (configured !== undefined || process.env["CI"] === "true") {
        throw new Error(`Redis at ${url} is required (${REDIS_ENV}${configured === undefined ? " unset, CI=true" : ` = ${configured}`}) but unreachable: ${String(error)}`);
      }
      return undefined;
    } finally {
      client.disconnect();
    }
  })();
  return probe;
}

/** In a `before` hook: skips the suite when no Redis is available. */
export async function requireRedis(ctx: Mocha.Context): Promise<string> {
  const url = await redisTestUrl();
  if (url === undefined) {
    if (!reported) {
      reported = true;
      process.stdout.write(`  Redis suites skipped: no Redis at ${DEFAULT_URL}; set ${REDIS_ENV}=redis://HOST:PORT to run them.\n`);
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
