import type { NormalizedRequest } from "../engine/request.ts";
import { AuthDecision, type ApprovalTier } from "../engine/types.ts";

/** One decision on the record: what was asked, what was answered, under which policy. */
export interface AuditEvent {
  /** When the decision was made (ms since the epoch). */
  readonly time: number;
  readonly request: NormalizedRequest;
  readonly decision: AuthDecision;
  /** `metadata.name` of the deciding policy. */
  readonly configName: string;
  /** `version` of the deciding policy. */
  readonly configVersion: string;
}

let lastMs = Number.NaN;
let lastIso = "";

/** ISO 8601 text of an instant, cached per millisecond (formatting dominates otherwise). */
export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

// Characters JSON must escape. Request strings are well-formed Unicode
// (validated), so lone surrogates cannot occur.
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/** JSON string literal of `s`; plain concatenation unless something needs escaping. */
function q(s: string): string {
  if (s === "") return '""';
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

// The decision fields (allowed … approval_policy) take few distinct values —
// reasons are mostly strings built once per policy — so their JSON is cached.
interface DecisionPart {
  readonly allowed: boolean;
  readonly tier: string;
  readonly approvalPolicy: string;
  readonly json: string;
}
const decisionParts = new Map<string, DecisionPart>();
function decisionPart(d: AuthDecision): string {
  const cached = decisionParts.get(d.reason);
  if (cached !== undefined && cached.allowed === d.allowed && cached.tier === d.tier && cached.approvalPolicy === d.approvalPolicy) {
    return cached.json;
  }
  const json =
    `,"allowed":${d.allowed},"tier":"${d.tier}","reason":${q(d.reason)}` +
    `,"requires_approval":${d.requiresApproval},"approval_policy":${q(d.approvalPolicy)}`;
  if (decisionParts.size >= 4096) decisionParts.clear();
  decisionParts.set(d.reason, { allowed: d.allowed, tier: d.tier, approvalPolicy: d.approvalPolicy, json });
  return json;
}

/** Milliseconds rounded to 3 decimals, as JSON (integer formatting is much cheaper than a double's). */
function milliseconds(ms: number): string {
  const us = Math.round(ms * 1000);
  if (!(us >= 0 && us < 1e15)) return "0";
  const whole = Math.floor(us / 1000);
  const frac = us - whole * 1000;
  if (frac === 0) return String(whole);
  const digits = frac < 10 ? `00${frac}` : frac < 100 ? `0${frac}` : String(frac);
  return `${whole}.${digits.endsWith("00") ? digits.slice(0, 1) : digits.endsWith("0") ? digits.slice(0, 2) : digits}`;
}

/** The per-policy part of every record, serialised once per (name, version). */
let tailName: string | undefined;
let tailVersion: string | undefined;
let tail = "";
function recordTail(configName: string, configVersion: string): string {
  if (configName !== tailName || configVersion !== tailVersion) {
    tailName = configName;
    tailVersion = configVersion;
    tail = `,"config_name":${q(configName)},"config_version":${q(configVersion)},"decision_id":"`;
  }
  return tail;
}

/**
 * The JSON line of an event, with the original's record fields (timestamp,
 * event_id, agent, user, action, resource, allowed, tier, reason,
 * requires_approval, approval_policy, session_id, scope, target_agent,
 * evaluation_time_ms, config_name, config_version) plus decision_id and
 * policy_revision. `event_id` is the decision id. Built by concatenation:
 * the rope is flattened once, straight into the output buffer, which
 * measured faster than joining an array of the pieces.
 */
export function auditRecordJson(e: AuditEvent): string {
  // Several sinks (file, memory history) ask for the same event's line in turn.
  if (e === lastEvent) return lastLine;
  lastLine = recordJson(e);
  lastEvent = e;
  return lastLine;
}

let lastEvent: AuditEvent | undefined;
let lastLine = "";

/** Tells auditRecordJson the line of `e`, already known (assembled from prepared parts). */
export function rememberAuditRecordJson(e: AuditEvent, line: string): void {
  lastEvent = e;
  lastLine = line;
}

function recordJson(e: AuditEvent): string {
  const r = e.request;
  const d = e.decision;
  // Request text is almost always free of quotes, backslashes and control
  // characters: then it goes into the line as is, with no escaping pass.
  if (
    NEEDS_ESCAPE.test(r.agent) ||
    NEEDS_ESCAPE.test(r.user) ||
    NEEDS_ESCAPE.test(r.action) ||
    NEEDS_ESCAPE.test(r.resource) ||
    NEEDS_ESCAPE.test(r.scope) ||
    NEEDS_ESCAPE.test(r.sessionId) ||
    NEEDS_ESCAPE.test(r.targetAgent)
  ) {
    return escapedRecordJson(e);
  }
  const session = r.sessionId === "" ? ',"session_id":null,"scope":"' : `,"session_id":"${r.sessionId}","scope":"`;
  const target = r.targetAgent === "" ? '","target_agent":null,"evaluation_time_ms":' : `","target_agent":"${r.targetAgent}","evaluation_time_ms":`;
  return (
    `{"timestamp":"${isoTime(e.time)}","event_id":"${d.decisionId}","agent":"${r.agent}","user":"${r.user}","action":"${r.action}","resource":"${r.resource}"` +
    `${decisionPart(d)}${session}${r.scope}${target}${milliseconds(d.evaluationTimeMs)}${recordTail(e.configName, e.configVersion)}${d.decisionId}","policy_revision":"${d.policyRevision}"}`
  );
}

/** The same line, escaping every request string. */
function escapedRecordJson(e: AuditEvent): string {
  const r = e.request;
  const d = e.decision;
  return [
    '{"timestamp":"',
    isoTime(e.time),
    '","event_id":"',
    d.decisionId,
    '","agent":',
    q(r.agent),
    ',"user":',
    q(r.user),
    ',"action":',
    q(r.action),
    ',"resource":',
    q(r.resource),
    decisionPart(d),
    ',"session_id":',
    r.sessionId === "" ? "null" : q(r.sessionId),
    ',"scope":',
    q(r.scope),
    ',"target_agent":',
    r.targetAgent === "" ? "null" : q(r.targetAgent),
    ',"evaluation_time_ms":',
    milliseconds(d.evaluationTimeMs),
    recordTail(e.configName, e.configVersion),
    d.decisionId,
    '","policy_revision":"',
    d.policyRevision,
    '"}',
  ].join("");
}

/**
 * A record's JSON around its decision fields: the line is
 * `head + auditDecisionJson(decision) + tail`. Lets a store finish the line
 * once it knows which of several prepared decisions applies.
 */
export function auditRecordSegments(e: AuditEvent): { readonly head: string; readonly tail: string } {
  const line = auditRecordJson(e);
  const part = decisionPart(e.decision);
  // The decision fields start with `,"allowed":`, which no earlier (escaped) value can contain.
  const at = line.indexOf(',"allowed":');
  return { head: line.slice(0, at), tail: line.slice(at + part.length) };
}

/** The decision fields of a record (allowed … approval_policy) as JSON, with their leading comma. */
export function auditDecisionJson(d: AuthDecision): string {
  return decisionPart(d);
}

/** The record as an object (same fields as {@link auditRecordJson}). */
export function auditRecord(e: AuditEvent): Record<string, unknown> {
  return JSON.parse(auditRecordJson(e)) as Record<string, unknown>;
}

const NO_METADATA = Object.freeze(Object.create(null) as Record<string, unknown>);

/**
 * Rebuilds an event from its JSON line (as read back from a shared stream).
 * Request metadata is not recorded, so it comes back empty. Throws on a line
 * that is not an audit record.
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
      metadata: NO_METADATA,
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
    ),
    configName: opt("config_name"),
    configVersion: opt("config_version"),
  };
}
