import type { RedisConnection } from "./connection.ts";

/**
 * Reads a Redis target from one string, as `--redis` and
 * AGENT_AUTH_REDIS_URL take it:
 *
 *   redis://[user:password@]host:port[/db]      one server (rediss:// for TLS)
 *   redis-sentinel://[password@]h1:26379,h2:26379/MASTER_NAME[/db]
 *   redis-cluster://h1:6379,h2:6379             a Redis Cluster (seed nodes)
 *
 * Error messages show the target without its credentials (see
 * {@link redactRedisTarget}): the text often comes from the environment.
 */
export function parseRedisTarget(text: string): RedisConnection {
  const sentinel = /^redis-sentinel:\/\/(?:([^@/]*)@)?([^/]+)\/([^/]+)(?:\/(\d+))?$/.exec(text);
  if (sentinel !== null) {
    const [, password, hosts, name, db] = sentinel;
    return {
      sentinels: hostList(hosts!, 26379, text),
      name: decodeURIComponent(name!),
      options: { ...(password ? { password: decodeURIComponent(password) } : {}), ...(db === undefined ? {} : { db: Number(db) }) },
    };
  }
  const cluster = /^redis-cluster:\/\/([^/]+)\/?$/.exec(text);
  if (cluster !== null) return { cluster: hostList(cluster[1]!, 6379, text) };
  if (/^rediss?:\/\//.test(text)) {
    try {
      new URL(text);
    } catch {
      throw new Error(`'${redactRedisTarget(text)}' is not a valid Redis URL`);
    }
    return { url: text };
  }
  throw new Error(`'${redactRedisTarget(text)}' is not a Redis target: use redis://host:port[/db], rediss://…, redis-sentinel://h1:port,h2:port/master or redis-cluster://h1:port,h2:port`);
}

function hostList(text: string, defaultPort: number, whole: string): { host: string; port: number }[] {
  return text.split(",").map((part) => {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(part.trim());
    if (m === null) throw new Error(`'${redactRedisTarget(part)}' in Redis target '${redactRedisTarget(whole)}' is not host:port`);
    return { host: m[1]!.replace(/^\[|\]$/g, ""), port: m[2] === undefined ? defaultPort : Number(m[2]) };
  });
}

/**
 * A Redis target as it may be shown (messages, logs): everything between the
 * scheme and the last `@` (user and password) becomes `***`, and so does the
 * value of a `password=` query parameter. Redacts even text that is not a
 * valid target, since that is when it gets shown.
 */
export function redactRedisTarget(text: string): string {
  const scheme = text.indexOf("://");
  const start = scheme < 0 ? 0 : scheme + 3;
  const at = text.lastIndexOf("@");
  const shown = at >= start ? `${text.slice(0, start)}***${text.slice(at)}` : text;
  return shown.replace(/([?&](?:password|pass|pwd)=)[^&#]*/gi, "$1***");
}
