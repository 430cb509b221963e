/**
 * Key layout of the Redis store. Every key starts with `{prefix}:` — the
 * braces make the prefix a hash tag, so all keys of one deployment live in
 * the same Redis Cluster slot and a Lua script may touch any of them.
 *
 *   {p}:s:<id>            session hash (TTL = remaining lifetime)
 *   {p}:d:<id>            delegation hash (TTL = remaining lifetime)
 *   {p}:sessions          zset of session ids by creation time (listing)
 *   {p}:sa:<agent>        zset: sessions of an agent
 *   {p}:su:<user>         zset: sessions of a user
 *   {p}:delegations       zset of delegation ids by grant time
 *   {p}:da:<agent>        zset: delegations to an agent
 *   {p}:du:<user>         zset: delegations from a user
 *   {p}:dp:<n>:<agent><user>  zset: grants from user to agent (n = agent length), read by decisions
 *   {p}:ap:<id>           approval task hash (TTL = until its history ends)
 *   {p}:approvals         zset of approval task ids by creation time (listing)
 *   {p}:app:<n>:<agent><user>  zset: pending tasks of an agent for a user, by when they expire (n = agent bytes)
 *   {p}:apk:<n>:<m>:<agent><user><key>  an idempotency key → task id (n, m = agent, user bytes)
 *   {p}:audit             the shared audit stream
 *   {p}:audit-epoch       the stream's epoch (no TTL; gone only when Redis loses its data)
 *   {p}:replicas          hash: replica id → what it serves (revision), refreshed every 2 s
 *
 * Index zsets expire with their last member; members of expired records are
 * removed lazily when an index is read.
 */
export class RedisKeys {
  readonly base: string;

  constructor(prefix: string) {
    if (prefix.includes("{") || prefix.includes("}")) {
      throw new Error(`Redis key prefix '${prefix}' must not contain braces (they are added as a hash tag)`);
    }
    this.base = `{${prefix}}:`;
  }

  session(id: string): string {
    return `${this.base}s:${id}`;
  }
  delegation(id: string): string {
    return `${this.base}d:${id}`;
  }
  get sessions(): string {
    return `${this.base}sessions`;
  }
  sessionsOfAgent(agent: string): string {
    return `${this.base}sa:${agent}`;
  }
  sessionsOfUser(user: string): string {
    return `${this.base}su:${user}`;
  }
  get delegations(): string {
    return `${this.base}delegations`;
  }
  delegationsToAgent(agent: string): string {
    return `${this.base}da:${agent}`;
  }
  delegationsFromUser(user: string): string {
    return `${this.base}du:${user}`;
  }
  /** Length-prefixed so that no (agent, user) pair can collide with another. */
  grants(agent: string, user: string): string {
    return `${this.grantsPrefix(agent.length)}${agent}${user}`;
  }
  /** The start of the grants keys of agents whose names have this length. */
  grantsPrefix(agentLength: number): string {
    return `${this.base}dp:${agentLength}:`;
  }
  approval(id: string): string {
    return `${this.base}ap:${id}`;
  }
  get approvals(): string {
    return `${this.base}approvals`;
  }
  /** Length-prefixed (in UTF-8 bytes, as Lua counts) so no (agent, user) pair collides with another. */
  approvalsPending(agent: string, user: string): string {
    return `${this.approvalsPendingBase}${Buffer.byteLength(agent, "utf8")}:${agent}${user}`;
  }
  /** The start of every pending index key (the scripts append the length and names). */
  get approvalsPendingBase(): string {
    return `${this.base}app:`;
  }
  approvalKey(agent: string, user: string, key: string): string {
    return `${this.base}apk:${Buffer.byteLength(agent, "utf8")}:${Buffer.byteLength(user, "utf8")}:${agent}${user}${key}`;
  }
  get audit(): string {
    return `${this.base}audit`;
  }
  get auditEpoch(): string {
    return `${this.base}audit-epoch`;
  }
  get replicas(): string {
    return `${this.base}replicas`;
  }
  /** A key in the same slot standing for "no such key" (when no session is named). */
  get none(): string {
    return `${this.base}none`;
  }
}
