export { createRedisStore, type RedisStore, type RedisStoreOptions } from "./redis-store.ts";
export type { RedisConnection } from "./connection.ts";
export type { RedisAuditStream } from "./audit-stream.ts";
export type { ReplicaInfo, ReplicaRegistry } from "./replicas.ts";
export { RedisKeys } from "./keys.ts";
export { parseRedisTarget, redactRedisTarget } from "./redis-target.ts";
