import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { AuditEvent as AuditEventMessage } from "../../gen/agentauth/v1/audit_pb.ts";
import { Effect, Tier, type Decision } from "../../gen/agentauth/v1/decision_pb.ts";
import { DelegationStatus, type Delegation } from "../../gen/agentauth/v1/delegation_pb.ts";
import { SessionStatus, type Session as SessionMessage } from "../../gen/agentauth/v1/session_pb.ts";
import type { ApprovalTask } from "../approvals/types.ts";
import { approvalUseStatusName } from "../client/from-wire.ts";
import type { AuthDecision, DelegationGrant, Session } from "../model/types.ts";

/**
 * What the CLI prints, in the original's snake_case JSON shapes, whether the
 * data came from a local engine or from a server.
 */
export interface SessionView {
  session_id: string;
  agent: string;
  user: string;
  scope: string;
  created_at: string;
  expires_at: string;
  status: string;
}

export interface DelegationView {
  delegation_id: string;
  from_user: string;
  to_agent: string;
  actions: string[];
  granted_at: string;
  expires_at: string;
  reason: string;
  status: string;
}

export interface DecisionView {
  allowed: boolean;
  tier: string;
  reason: string;
  requires_approval: boolean;
  approval_policy: string;
  evaluation_time_ms: number;
  decision_id: string;
  policy_revision: string;
  /** Present when the request presented an approval (`check --approval ID`). */
  approval_id?: string;
  /** Who approved it, when it was redeemed; "" otherwise. */
  approved_by?: string;
  /** "" when redeemed, else why the approval could not be used (unknown, pending, denied, expired, cancelled, used, mismatch). */
  approval_status?: string;
  /** The task `check --request-approval` created. */
  approval?: { id: string; status: string; expires_at: string };
}

/** An approval task as the CLI prints it (snake_case, ISO times, "" for not yet). */
export interface ApprovalView {
  id: string;
  status: string;
  agent: string;
  user: string;
  action: string;
  resource: string;
  scope: string;
  session_id: string;
  tier: string;
  approval_policy: string;
  justification: string;
  requested_by: string;
  created_at: string;
  expires_at: string;
  decided_at: string;
  decided_by: string;
  comment: string;
  max_uses: number;
  uses_left: number;
  metadata_digest: string;
  policy_revision: string;
  request_decision_id: string;
}

/** An approval task (as the client reports it) for printing. */
export function approvalView(t: ApprovalTask): ApprovalView {
  return {
    id: t.id,
    status: t.status,
    agent: t.agent,
    user: t.user,
    action: t.action,
    resource: t.resource,
    scope: t.scope,
    session_id: t.sessionId,
    tier: t.tier,
    approval_policy: t.approvalPolicy,
    justification: t.justification,
    requested_by: t.requestedBy,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
    decided_at: t.decidedAt,
    decided_by: t.decidedBy,
    comment: t.comment,
    max_uses: t.maxUses,
    uses_left: t.usesLeft,
    metadata_digest: t.metadataDigest,
    policy_revision: t.policyRevision,
    request_decision_id: t.requestDecisionId,
  };
}

/** An audit record: the JSONL fields, plus the stream cursor when read from a server. */
export type AuditView = Record<string, unknown>;

export function sessionView(s: Session): SessionView {
  return {
    session_id: s.sessionId,
    agent: s.agent,
    user: s.user,
    scope: s.scope,
    created_at: s.createdAt,
    expires_at: s.expiresAt,
    status: s.status,
  };
}

export function delegationView(d: DelegationGrant): DelegationView {
  return {
    delegation_id: d.delegationId,
    from_user: d.fromUser,
    to_agent: d.toAgent,
    actions: [...d.actions],
    granted_at: d.grantedAt,
    expires_at: d.expiresAt,
    reason: d.reason,
    status: d.status,
  };
}

export function decisionView(d: AuthDecision): DecisionView {
  return d.toJSON() as unknown as DecisionView;
}

const iso = (t: Timestamp | undefined): string => (t === undefined ? "" : timestampDate(t).toISOString());
const TIER_NAME: Readonly<Record<number, string>> = { [Tier.AUTONOMOUS]: "autonomous", [Tier.SOFT]: "soft", [Tier.STRONG]: "strong" };
const SESSION_STATUS: Readonly<Record<number, string>> = { [SessionStatus.ACTIVE]: "active", [SessionStatus.EXPIRED]: "expired", [SessionStatus.REVOKED]: "revoked" };
const DELEGATION_STATUS: Readonly<Record<number, string>> = {
  [DelegationStatus.ACTIVE]: "active",
  [DelegationStatus.EXPIRED]: "expired",
  [DelegationStatus.REVOKED]: "revoked",
};

export function sessionViewOf(s: SessionMessage): SessionView {
  return {
    session_id: s.sessionId,
    agent: s.agent,
    user: s.user,
    scope: s.scope,
    created_at: iso(s.createdAt),
    expires_at: iso(s.expiresAt),
    status: SESSION_STATUS[s.status] ?? "unknown",
  };
}

export function delegationViewOf(d: Delegation): DelegationView {
  return {
    delegation_id: d.delegationId,
    from_user: d.fromUser,
    to_agent: d.toAgent,
    actions: [...d.actions],
    granted_at: iso(d.grantedAt),
    expires_at: iso(d.expiresAt),
    reason: d.reason,
    status: DELEGATION_STATUS[d.status] ?? "unknown",
  };
}

export function decisionViewOf(d: Decision | undefined): DecisionView {
  const time = d?.evaluationTime;
  const ms = time === undefined ? 0 : Number(time.seconds) * 1000 + time.nanos / 1e6;
  return {
    allowed: d?.effect === Effect.ALLOW,
    // A denial carries TIER_AUTONOMOUS (0.1.0 servers sent none: also "autonomous").
    tier: TIER_NAME[d?.tier ?? 0] ?? "autonomous",
    reason: d?.reason ?? "",
    requires_approval: d?.requiresApproval ?? false,
    approval_policy: d?.approvalPolicy ?? "",
    evaluation_time_ms: Math.round(ms * 1000) / 1000,
    decision_id: d?.decisionId ?? "",
    policy_revision: d?.policyRevision ?? "",
    // As the engine's own JSON: the approval fields only when the request presented one.
    ...(d === undefined || d.approvalId === ""
      ? {}
      : { approval_id: d.approvalId, approved_by: d.approvedBy, approval_status: approvalUseStatusName(d.approvalStatus) }),
  };
}

export function auditViewOf(e: AuditEventMessage): AuditView {
  const d = decisionViewOf(e.decision);
  return {
    timestamp: iso(e.time),
    event_id: e.decisionId,
    agent: e.agent,
    user: e.user,
    action: e.action,
    resource: e.resource,
    allowed: d.allowed,
    tier: d.tier,
    reason: d.reason,
    requires_approval: d.requires_approval,
    approval_policy: d.approval_policy,
    session_id: e.sessionId === "" ? null : e.sessionId,
    scope: e.scope,
    target_agent: e.targetAgent === "" ? null : e.targetAgent,
    evaluation_time_ms: d.evaluation_time_ms,
    config_name: e.configName,
    config_version: e.configVersion,
    decision_id: e.decisionId,
    policy_revision: d.policy_revision,
    ...(e.metadata === undefined ? {} : { metadata: { ...e.metadata } }),
    cursor: e.cursor,
  };
}
