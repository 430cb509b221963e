import { budgetOf, type DelegationRecord, type SessionRecord } from "../store.ts";
import { globProgram } from "./glob-program.ts";
import type { RedisKeys } from "./keys.ts";
import type { TableLayout } from "./redis-table.ts";

/**
 * Sessions: `agent`, `user`, `scope`, `created`, `expires`, `glob` (the scope
 * compiled for the decision script), `revoked` once revoked.
 */
export function sessionLayout(k: RedisKeys): TableLayout<SessionRecord> {
  return {
    recordKey: (id) => k.session(id),
    indexesOf: (r) => [k.sessions, k.sessionsOfAgent(r.agent), k.sessionsOfUser(r.user)],
    listIndex: (f) => (f.agent ? k.sessionsOfAgent(f.agent) : f.user ? k.sessionsOfUser(f.user) : k.sessions),
    filterFields: ["agent", "user"],
    fields: (r) => ["agent", r.agent, "user", r.user, "scope", r.scope, "created", r.createdAt, "expires", r.expiresAt, "glob", globProgram(r.scope)],
    fromHash: (id, h) => ({
      id,
      agent: h.get("agent") ?? "",
      user: h.get("user") ?? "",
      scope: h.get("scope") ?? "",
      createdAt: Number(h.get("created")),
      expiresAt: Number(h.get("expires")),
      ...revokedAt(h),
    }),
  };
}

/**
 * Delegations: `from`, `to`, `actions` (JSON), `globs` (the actions compiled
 * for the decision script), `n` (what it counts against
 * limits.max_delegated_patterns), `granted`, `expires`, `reason`, `revoked`
 * once revoked. Besides the listing indexes, each is in its (agent, user)
 * grants index, which decisions read and creation counts (the last index).
 */
export function delegationLayout(k: RedisKeys): TableLayout<DelegationRecord> {
  return {
    recordKey: (id) => k.delegation(id),
    indexesOf: (r) => [k.delegations, k.delegationsToAgent(r.toAgent), k.delegationsFromUser(r.fromUser), k.grants(r.toAgent, r.fromUser)],
    listIndex: (f) => (f.agent ? k.delegationsToAgent(f.agent) : f.user ? k.delegationsFromUser(f.user) : k.delegations),
    filterFields: ["to", "from"],
    fields: (r) => [
      "from", r.fromUser,
      "to", r.toAgent,
      "actions", JSON.stringify(r.actions),
      "globs", `[${r.actions.map(globProgram).join(",")}]`,
      "n", budgetOf(r),
      "granted", r.createdAt,
      "expires", r.expiresAt,
      "reason", r.reason,
    ],
    fromHash: (id, h) => ({
      id,
      fromUser: h.get("from") ?? "",
      toAgent: h.get("to") ?? "",
      actions: JSON.parse(h.get("actions") ?? "[]") as string[],
      createdAt: Number(h.get("granted")),
      expiresAt: Number(h.get("expires")),
      reason: h.get("reason") ?? "",
      ...revokedAt(h),
    }),
  };
}

function revokedAt(h: ReadonlyMap<string, string>): { revokedAt?: number } {
  const revoked = h.get("revoked");
  return revoked === undefined ? {} : { revokedAt: Number(revoked) };
}
