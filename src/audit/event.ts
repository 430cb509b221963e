import type { DecisionOrigin } from "../model/origin.ts";
import type { NormalizedRequest } from "../model/request.ts";
import { AuthDecision, type ApprovalTier, type ApprovalUseStatus, type DecisionApproval, type RequestMetadata } from "../model/types.ts";
import { encodeAuditRecord } from "./record-bytes.ts";

/** The approval transitions recorded as audit events of their own kind. */
export type ApprovalEventKind = "approval_requested" | "approval_approved" | "approval_denied" | "approval_expired" | "approval_cancelled" | "approval_redeemed";

/** Every approval event kind. */
export const APPROVAL_EVENT_KINDS: readonly ApprovalEventKind[] = Object.freeze([
  "approval_requested",
  "approval_approved",
  "approval_denied",
  "approval_expired",
  "approval_cancelled",
  "approval_redeemed",
]);

/**
 * The kind of an audit record: `decision` — every record without a `kind`
 * field, as all records were before approvals — or an approval transition.
 */
export type AuditKind = "decision" | ApprovalEventKind;

/** What an approval event records besides the request the task binds. */
export interface ApprovalEventDetail {
  /** The approval task's id. */
  readonly taskId: string;
  /** The task's status after the transition. */
  readonly status: string;
  /** Who made the transition: the requester, the approver, "" for an expiry. */
  readonly by: string;
  readonly comment: string;
  /** The decision the event links to: the one that demanded the approval (requested) or redeemed it (redeemed); "" for none. */
  readonly linkedDecisionId: string;
}

/**
 * One decision on the record: what was asked, what was answered, under which
 * policy — or, with a `kind`, an approval transition: `request` is the request
 * the task binds, `decision` a record of the transition itself (its id is the
 * event's id, its reason says what happened), `approval` the task's side.
 */
export interface AuditEvent {
  /** Absent for a decision. */
  readonly kind?: ApprovalEventKind | undefined;
  /** Present exactly when `kind` is. */
  readonly approval?: ApprovalEventDetail | undefined;
  /** When the decision was made (ms since the epoch). */
  readonly time: number;
  readonly request: NormalizedRequest;
  readonly decision: AuthDecision;
  /** `metadata.name` of the deciding policy. */
  readonly configName: string;
  /** `version` of the deciding policy. */
  readonly configVersion: string;
  /**
   * The request's metadata, recorded (last in the line) only when the
   * policy's `audit.include_metadata` is on; absent otherwise.
   */
  readonly metadata?: RequestMetadata | undefined;
  /** Transport, request id and caller, when the request came over a transport that knows them. */
  readonly origin?: DecisionOrigin | undefined;
}

/** The same record with another decision. */
export function withDecision(e: AuditEvent, decision: AuthDecision): AuditEvent {
  if (e.kind !== undefined) return { ...e, decision };
  return e.metadata === undefined
    ? { time: e.time, request: e.request, decision, configName: e.configName, configVersion: e.configVersion, origin: e.origin }
    : { time: e.time, request: e.request, decision, configName: e.configName, configVersion: e.configVersion, origin: e.origin, metadata: e.metadata };
}

/**
 * The JSON line of an event (see {@link encodeAuditRecord} for its fields).
 * The sinks write the encoded bytes; this is the same line as text.
 */
export function auditRecordJson(e: AuditEvent): string {
  // Several callers (a file, a store) ask for the same event's line in turn.
  if (e === lastEvent) return lastLine;
  const r = encodeAuditRecord(e);
  lastLine = r.line.toString("utf8");
  lastEvent = e;
  return lastLine;
}

let lastEvent: AuditEvent | undefined;
let lastLine = "";

/** The record as an object (same fields as {@link auditRecordJson}). */
export function auditRecord(e: AuditEvent): Record<string, unknown> {
  return JSON.parse(auditRecordJson(e)) as Record<string, unknown>;
}

const NO_METADATA = Object.freeze(Object.create(null) as Record<string, unknown>);

/**
 * Rebuilds an event from its JSON line (as read back from a shared stream).
 * Request metadata comes back when the record holds it (`audit.include_metadata`),
 * else empty; the origin (transport, request id, caller) when the line has one.
 * Throws on a line that is not an audit record.
 */
export function auditEventFromJson(line: string): AuditEvent {
  const r = JSON.parse(line) as Record<string, unknown>;
  const str = (k: string): string => {
    const v = r[k];
    if (typeof v !== "string") throw new Error(`audit record field ${k}: expected a string`);
    return v;
  };
  const opt = (k: string): string => (typeof r[k] === "string" ? (r[k] as string) : "");
  const time = Date.parse(str("timestamp"));
  if (Number.isNaN(time)) throw new Error("audit record field timestamp: not a date");
  const m = r["metadata"];
  const kind = typeof r["kind"] === "string" && (APPROVAL_EVENT_KINDS as readonly string[]).includes(r["kind"]) ? (r["kind"] as ApprovalEventKind) : undefined;
  const approvalId = opt("approval_id");
  const decisionApproval: DecisionApproval | undefined =
    kind === undefined && typeof r["approval_id"] === "string"
      ? { approvalId, approvedBy: opt("approved_by"), approvalStatus: opt("approval_status") as ApprovalUseStatus }
      : undefined;
  const metadata = typeof m === "object" && m !== null && !Array.isArray(m) ? (m as RequestMetadata) : undefined;
  return {
    time,
    request: {
      agent: str("agent"),
      user: str("user"),
      action: str("action"),
      resource: opt("resource"),
      scope: opt("scope"),
      sessionId: opt("session_id"),
      targetAgent: opt("target_agent"),
      metadata: metadata ?? NO_METADATA,
    },
    decision: new AuthDecision(
      r["allowed"] === true,
      str("tier") as ApprovalTier,
      str("reason"),
      r["requires_approval"] === true,
      opt("approval_policy"),
      typeof r["evaluation_time_ms"] === "number" ? r["evaluation_time_ms"] : 0,
      str("decision_id"),
      opt("policy_revision"),
      decisionApproval,
    ),
    configName: opt("config_name"),
    configVersion: opt("config_version"),
    origin: originOf(r),
    ...(metadata === undefined ? {} : { metadata }),
    ...(kind === undefined
      ? {}
      : { kind, approval: { taskId: approvalId, status: opt("task_status"), by: opt("actor"), comment: opt("comment"), linkedDecisionId: opt("linked_decision_id") } }),
  };
}

function originOf(r: Record<string, unknown>): DecisionOrigin | undefined {
  const transport = r["transport"];
  const requestId = r["request_id"];
  const caller = r["caller"];
  if (typeof transport !== "string" && typeof requestId !== "string" && typeof caller !== "string") return undefined;
  return {
    ...(typeof transport === "string" ? { transport } : {}),
    ...(typeof requestId === "string" ? { requestId } : {}),
    ...(typeof caller === "string" ? { caller } : {}),
  };
}
