import { durationMs, timestampDate, type Duration, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { AuditEvent as AuditEventMessage } from "../../gen/agentauth/v1/audit_pb.ts";
import { ApprovalUseStatus, Effect, type Decision } from "../../gen/agentauth/v1/decision_pb.ts";
import { DelegationStatus, type Delegation } from "../../gen/agentauth/v1/delegation_pb.ts";
import { SessionStatus, type Session as SessionMessage } from "../../gen/agentauth/v1/session_pb.ts";
import { AuthDecision, type ApprovalUseStatus as UseStatusName, type DecisionApproval, type DelegationGrant, type GrantStatus, type Session } from "../model/types.ts";
import { tierName } from "./names.ts";

/** A decision from the wire, as the engine gives it: string tier, `autonomous` for a deny. */
export function decisionFromWire(d: Decision | undefined): AuthDecision {
  if (d === undefined) return new AuthDecision(false, "autonomous", "The server answered without a decision", false, "", 0, "", "");
  const allowed = d.effect === Effect.ALLOW;
  return new AuthDecision(
    allowed,
    allowed ? tierName(d.tier) : "autonomous",
    d.reason,
    allowed && d.requiresApproval,
    d.approvalPolicy,
    d.evaluationTime === undefined ? 0 : durationMs(d.evaluationTime as Duration),
    d.decisionId,
    d.policyRevision,
    approvalFromDecision(d),
  );
}

/** The name of a wire `ApprovalUseStatus` ("" once redeemed); "unknown" for a value this version does not know. */
export function approvalUseStatusName(status: ApprovalUseStatus): UseStatusName {
  return USE_STATUS_NAMES[status] ?? "unknown";
}

const USE_STATUS_NAMES: Readonly<Record<number, UseStatusName>> = {
  [ApprovalUseStatus.REDEEMED]: "",
  [ApprovalUseStatus.UNKNOWN]: "unknown",
  [ApprovalUseStatus.PENDING]: "pending",
  [ApprovalUseStatus.DENIED]: "denied",
  [ApprovalUseStatus.EXPIRED]: "expired",
  [ApprovalUseStatus.CANCELLED]: "cancelled",
  [ApprovalUseStatus.USED]: "used",
  [ApprovalUseStatus.MISMATCH]: "mismatch",
};

/** What the decision says of the approval its request presented; undefined when none was. */
function approvalFromDecision(d: Decision): DecisionApproval | undefined {
  if (d.approvalId === "") return undefined;
  return { approvalId: d.approvalId, approvedBy: d.approvedBy, approvalStatus: approvalUseStatusName(d.approvalStatus) };
}

/** A session from the wire, as the engine reports it. */
export function sessionFromWire(s: SessionMessage): Session {
  return Object.freeze({
    sessionId: s.sessionId,
    agent: s.agent,
    user: s.user,
    scope: s.scope,
    createdAt: iso(s.createdAt),
    expiresAt: iso(s.expiresAt),
    status: grantStatus(s.status === SessionStatus.REVOKED, s.status === SessionStatus.EXPIRED),
  });
}

/** A delegation from the wire, as the engine reports it. */
export function delegationFromWire(d: Delegation): DelegationGrant {
  return Object.freeze({
    delegationId: d.delegationId,
    fromUser: d.fromUser,
    toAgent: d.toAgent,
    actions: Object.freeze([...d.actions]),
    grantedAt: iso(d.grantedAt),
    expiresAt: iso(d.expiresAt),
    reason: d.reason,
    status: grantStatus(d.status === DelegationStatus.REVOKED, d.status === DelegationStatus.EXPIRED),
  });
}

/** One decision on the record, with plain values (string tiers, ISO times). */
export interface AuditRecord {
  /** Resume after it with `subscribeAudit({ afterCursor })` or page with `queryAudit`. */
  readonly cursor: string;
  /** ISO 8601, UTC. */
  readonly time: string;
  readonly decisionId: string;
  readonly agent: string;
  readonly user: string;
  readonly action: string;
  readonly resource: string;
  readonly scope: string;
  /** "" when none. */
  readonly targetAgent: string;
  /** "" when none. */
  readonly sessionId: string;
  readonly decision: AuthDecision;
  readonly configName: string;
  readonly configVersion: string;
}

/** An audit event from the wire. */
export function auditRecordFromWire(e: AuditEventMessage): AuditRecord {
  return Object.freeze({
    cursor: e.cursor,
    time: iso(e.time),
    decisionId: e.decisionId,
    agent: e.agent,
    user: e.user,
    action: e.action,
    resource: e.resource,
    scope: e.scope,
    targetAgent: e.targetAgent,
    sessionId: e.sessionId,
    decision: decisionFromWire(e.decision),
    configName: e.configName,
    configVersion: e.configVersion,
  });
}

function iso(t: Timestamp | undefined): string {
  return t === undefined ? "" : timestampDate(t).toISOString();
}

function grantStatus(revoked: boolean, expired: boolean): GrantStatus {
  return revoked ? "revoked" : expired ? "expired" : "active";
}
