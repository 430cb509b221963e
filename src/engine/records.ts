import type { DelegationRecord, SessionRecord } from "../state/store.ts";
import type { DelegationGrant, GrantStatus, Session } from "../model/types.ts";

/** A stored session as callers see it, with its status at `now`. */
export function toSession(r: SessionRecord, now: number): Session {
  return Object.freeze({
    sessionId: r.id,
    agent: r.agent,
    user: r.user,
    scope: r.scope,
    createdAt: new Date(r.createdAt).toISOString(),
    expiresAt: new Date(r.expiresAt).toISOString(),
    status: statusOf(r.revokedAt, r.expiresAt, now),
  });
}

/** A stored delegation as callers see it, with its status at `now`. */
export function toDelegationGrant(r: DelegationRecord, now: number): DelegationGrant {
  return Object.freeze({
    delegationId: r.id,
    fromUser: r.fromUser,
    toAgent: r.toAgent,
    actions: Object.freeze([...r.actions]),
    grantedAt: new Date(r.createdAt).toISOString(),
    expiresAt: new Date(r.expiresAt).toISOString(),
    reason: r.reason,
    status: statusOf(r.revokedAt, r.expiresAt, now),
  });
}

function statusOf(revokedAt: number | undefined, expiresAt: number, now: number): GrantStatus {
  if (revokedAt !== undefined) return "revoked";
  return now >= expiresAt ? "expired" : "active";
}
