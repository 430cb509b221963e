import { approvalStatusAt, type ApprovalRecord } from "../state/approval-records.ts";
import type { ApprovalTask } from "./types.ts";

/** A stored task as callers see it, its status computed at `now`. */
export function taskOf(r: ApprovalRecord, now: number): ApprovalTask {
  return {
    id: r.id,
    status: approvalStatusAt(r, now),
    agent: r.agent,
    user: r.user,
    action: r.action,
    resource: r.resource,
    scope: r.scope,
    sessionId: r.sessionId,
    metadataDigest: r.metadataDigest,
    tier: r.tier,
    approvalPolicy: r.approvalPolicy,
    policyRevision: r.policyRevision,
    justification: r.justification,
    requestedBy: r.requestedBy,
    idempotencyKey: r.idempotencyKey,
    callbackUrl: r.callbackUrl,
    createdAt: iso(r.createdAt),
    expiresAt: iso(r.expiresAt),
    decidedAt: r.decidedAt > 0 ? iso(r.decidedAt) : "",
    decidedBy: r.decidedBy,
    comment: r.comment,
    maxUses: r.maxUses,
    usesLeft: r.usesLeft,
    requestDecisionId: r.requestDecisionId,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
