import { Buffer } from "node:buffer";
import type { DecisionOrigin } from "../model/origin.ts";
import type { AuthDecision } from "../model/types.ts";
import type { AuditEvent } from "./event.ts";
import { writeLatin1, writeUtf8 } from "../bytes/utf8.ts";

/**
 * An audit record's JSON line as UTF-8 bytes (no newline), in scratch memory
 * shared by every caller. Valid until the next call of
 * {@link encodeAuditRecord} for another event, which reuses this very object
 * — copy what you need out at once.
 */
export interface EncodedRecord {
  /** The line: a view of exactly its bytes (views are reused, so copying one allocates nothing). */
  readonly line: Buffer;
  /** Where the decision fields (see {@link decisionFieldsJson}) start and end in the line. */
  readonly partStart: number;
  readonly partEnd: number;
}

/**
 * Encodes an event's record as UTF-8, with the original's fields (timestamp,
 * event_id, agent, user, action, resource, allowed, tier, reason,
 * requires_approval, approval_policy, session_id, scope, target_agent,
 * evaluation_time_ms, config_name, config_version) plus decision_id and
 * policy_revision; `event_id` is the decision id. Optional fields come last,
 * each only when the event has it (in this order: transport, request_id,
 * caller, the approval fields, metadata), so a reader of the older lines
 * reads these too. A record without `kind` is a decision.
 *
 * The line is written piece by piece into bytes, never built as a string:
 * joining a few dozen pieces into one string and encoding that cost more
 * than the pieces themselves. Short text is copied a character at a time
 * (checking that it needs no escaping), longer text with one native call;
 * what repeats (the second's timestamp, decision fields, policy name
 * and revision) is cached as bytes. Several sinks ask for the same event in
 * turn; it is encoded once.
 */
export function encodeAuditRecord(e: AuditEvent): EncodedRecord {
  if (e === last.event) return last;
  const r = e.request;
  const d = e.decision;
  const part = decisionPart(d);
  const tail = policyTail(e.configName, e.configVersion);
  const revision = revisionTail(d.policyRevision);
  // Escaped text takes at most 6 bytes per UTF-16 unit.
  const origin = e.origin;
  const text =
    r.agent.length + r.user.length + r.action.length + r.resource.length + r.scope.length + r.sessionId.length + r.targetAgent.length + 2 * d.decisionId.length +
    (origin === undefined ? 0 : originLength(origin));
  // Opt-in (audit.include_metadata) and off the measured path: plain JSON.stringify.
  const metadata = e.metadata === undefined ? undefined : JSON.stringify(e.metadata);
  // Approval fields are rare (a decision that presented an approval, an approval event): plain JSON too.
  const approval = e.kind === undefined && d.approval === undefined ? undefined : approvalFields(e);
  const bound =
    400 + part.bytes.length + tail.length + revision.length + 6 * text + (metadata === undefined ? 0 : 16 + 3 * metadata.length) + (approval === undefined ? 0 : 3 * approval.length);
  if (bound > scratch.length) {
    scratch = Buffer.allocUnsafeSlow(Math.max(bound, 2 * scratch.length));
    views = noViews();
  }
  const b = scratch;
  let o = put(b, 0, K_TIMESTAMP);
  o = putTimestamp(b, o, e.time);
  o = put(b, o, K_EVENT_ID);
  const idStart = o;
  o = putString(b, o, d.decisionId);
  const idEnd = o;
  o = put(b, o, K_AGENT);
  o = putString(b, o, r.agent);
  o = put(b, o, K_USER);
  o = putString(b, o, r.user);
  o = put(b, o, K_ACTION);
  o = putString(b, o, r.action);
  o = put(b, o, K_RESOURCE);
  o = putString(b, o, r.resource);
  const partStart = o;
  b.set(part.bytes, o);
  o += part.bytes.length;
  const partEnd = o;
  o = putNullable(b, o, r.sessionId, K_SESSION_ID, K_SCOPE, K_NO_SESSION);
  o = putString(b, o, r.scope);
  o = putNullable(b, o, r.targetAgent, K_TARGET_AGENT, K_EVALUATION_TIME, K_NO_TARGET);
  o = putMilliseconds(b, o, d.evaluationTimeMs);
  b.set(tail, o);
  o += tail.length;
  b.copyWithin(o, idStart, idEnd);
  o += idEnd - idStart;
  b.set(revision, o);
  o += revision.length;
  if (origin !== undefined || metadata !== undefined || approval !== undefined) {
    // The revision tail closed the object: reopen it for the optional fields.
    o--;
    if (origin !== undefined) o = putOrigin(b, o, origin);
    if (approval !== undefined) o += writeUtf8(b, approval, o);
    if (metadata !== undefined) {
      o = put(b, o, K_METADATA);
      o += writeUtf8(b, metadata, o);
    }
    b[o++] = 0x7d; // }
  }
  // One object, updated in place: an encoding allocates nothing.
  last.event = e;
  last.line = view(o);
  last.partStart = partStart;
  last.partEnd = partEnd;
  return last;
}

/**
 * The approval fields of a record, with their leading commas: for an approval
 * event `kind`, `approval_id` (the task), `task_status`, `actor`, `comment`
 * and `linked_decision_id`; for a decision that presented an approval
 * `approval_id`, `approved_by` and `approval_status`.
 */
function approvalFields(e: AuditEvent): string {
  const a = e.approval;
  if (e.kind !== undefined && a !== undefined) {
    return `,"kind":${JSON.stringify(e.kind)},"approval_id":${JSON.stringify(a.taskId)},"task_status":${JSON.stringify(a.status)},"actor":${JSON.stringify(a.by)},"comment":${JSON.stringify(a.comment)},"linked_decision_id":${JSON.stringify(a.linkedDecisionId)}`;
  }
  const d = e.decision.approval;
  if (d === undefined) return "";
  return `,"approval_id":${JSON.stringify(d.approvalId)},"approved_by":${JSON.stringify(d.approvedBy)},"approval_status":${JSON.stringify(d.approvalStatus)}`;
}

/**
 * The decision fields of a record, with their leading comma:
 * `,"allowed":…,"tier":…,"reason":…,"requires_approval":…,"approval_policy":…`.
 * A store that learns the outcome later splices these between a line's head
 * and tail.
 */
export function decisionFieldsJson(d: AuthDecision): string {
  return decisionPart(d).json;
}

/** The decision fields as UTF-8 bytes (cached; do not modify). */
export function decisionFieldsBytes(d: AuthDecision): Buffer {
  return decisionPart(d).bytes;
}

let scratch = Buffer.allocUnsafeSlow(16 * 1024);
const last: { event: AuditEvent | undefined; line: Buffer; partStart: number; partEnd: number } = { event: undefined, line: scratch.subarray(0, 0), partStart: 0, partEnd: 0 };
/** Records up to this long get a cached view (longer ones are rare: a view each). */
const VIEWED = 4096;
/**
 * Views of the scratch's first n bytes, by n: records take a few hundred
 * distinct lengths. Filled in from the start, so that the array stays dense
 * (an array with holes is a dictionary, and each look-up hashes its index).
 */
let views: Array<Buffer | undefined> = noViews();

function noViews(): Array<Buffer | undefined> {
  return Array.from({ length: VIEWED + 1 }, () => undefined);
}

function view(length: number): Buffer {
  let v = length <= VIEWED ? views[length] : undefined;
  if (v === undefined) {
    v = scratch.subarray(0, length);
    if (length <= VIEWED) views[length] = v;
  }
  return v;
}

const ascii = (s: string): Buffer => Buffer.from(s, "latin1");
const K_TIMESTAMP = ascii('{"timestamp":"');
const K_EVENT_ID = ascii('","event_id":');
const K_AGENT = ascii(',"agent":');
const K_USER = ascii(',"user":');
const K_ACTION = ascii(',"action":');
const K_RESOURCE = ascii(',"resource":');
const K_NO_SESSION = ascii(',"session_id":null,"scope":');
const K_SESSION_ID = ascii(',"session_id":');
const K_SCOPE = ascii(',"scope":');
const K_NO_TARGET = ascii(',"target_agent":null,"evaluation_time_ms":');
const K_TARGET_AGENT = ascii(',"target_agent":');
const K_EVALUATION_TIME = ascii(',"evaluation_time_ms":');
const K_METADATA = ascii(',"metadata":');
const K_TRANSPORT = ascii(',"transport":');
const K_REQUEST_ID = ascii(',"request_id":');
const K_CALLER = ascii(',"caller":');

/** The origin's members that are present, after the policy revision. */
function putOrigin(b: Buffer, o: number, origin: DecisionOrigin): number {
  if (origin.transport !== undefined) o = putString(b, put(b, o, K_TRANSPORT), origin.transport);
  if (origin.requestId !== undefined) o = putString(b, put(b, o, K_REQUEST_ID), origin.requestId);
  if (origin.caller !== undefined) o = putString(b, put(b, o, K_CALLER), origin.caller);
  return o;
}

function originLength(origin: DecisionOrigin): number {
  return (origin.transport?.length ?? 0) + (origin.requestId?.length ?? 0) + (origin.caller?.length ?? 0);
}

/** Constant bytes. */
function put(b: Buffer, o: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (n > 16) b.set(bytes, o);
  else for (let i = 0; i < n; i++) b[o + i] = bytes[i]!;
  return o + n;
}

/**
 * `key` `s` `next` — or, for "" (absent), `none`, the same keys with `null`
 * between them (`,"session_id":null,"scope":`), one constant.
 */
function putNullable(b: Buffer, o: number, s: string, key: Uint8Array, next: Uint8Array, none: Uint8Array): number {
  if (s === "") return put(b, o, none);
  return put(b, putString(b, put(b, o, key), s), next);
}

/** Longest text copied a character at a time; longer text costs one native call. */
const SHORT = 48;

/** Text that can stand between JSON quotes as it is: printable ASCII except `"` and `\`. */
const PLAIN = /^[\u0020\u0021\u0023-\u005b\u005d-\u007e]*$/;

/** A JSON string literal: as it is when plain printable ASCII (the usual case), else escaped. */
function putString(b: Buffer, o: number, s: string): number {
  const n = s.length;
  b[o] = 0x22;
  if (n <= SHORT) {
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return o + writeUtf8(b, JSON.stringify(s), o);
      b[o + 1 + i] = c;
    }
  } else if (PLAIN.test(s)) {
    writeLatin1(b, s, o + 1);
  } else {
    return o + writeUtf8(b, JSON.stringify(s), o);
  }
  b[o + 1 + n] = 0x22;
  return o + n + 2;
}

/** Milliseconds rounded to 3 decimals, as a JSON number without trailing zeros (Python's round(x, 3)). */
function putMilliseconds(b: Buffer, o: number, ms: number): number {
  const us = Math.round(ms * 1000);
  if (!(us >= 0 && us < 1e15)) {
    b[o] = 0x30;
    return o + 1;
  }
  const whole = Math.floor(us / 1000);
  let frac = us - whole * 1000;
  o = putInteger(b, o, whole);
  if (frac === 0) return o;
  b[o++] = 0x2e; // .
  let digits = 3;
  while (frac % 10 === 0) {
    frac /= 10;
    digits--;
  }
  for (let i = digits - 1; i >= 0; i--) {
    b[o + i] = 0x30 + (frac % 10);
    frac = Math.floor(frac / 10);
  }
  return o + digits;
}

function putInteger(b: Buffer, o: number, n: number): number {
  let digits = 1;
  for (let p = 10; p <= n; p *= 10) digits++;
  for (let i = digits - 1; i >= 0; i--) {
    b[o + i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return o + digits;
}

let secondStart = Number.NaN;
let secondPrefix: Uint8Array = new Uint8Array(0);

/**
 * ISO 8601 text of an instant (`2026-12-01T07:30:34.123Z`). Formatting a Date
 * is slow, so the text up to the seconds is cached for the current second and
 * only the milliseconds are written each time.
 */
function putTimestamp(b: Buffer, o: number, time: number): number {
  const ms = Math.trunc(time); // as Date does
  const inSecond = ms - secondStart;
  if (!(inSecond >= 0 && inSecond < 1000)) {
    const iso = new Date(ms).toISOString();
    // Years beyond 9999 (or before 0) have other shapes: written in full, not cached.
    if (iso.length !== 24) return o + writeLatin1(b, iso, o);
    secondStart = ms - (ms % 1000 + 1000) % 1000;
    secondPrefix = Buffer.from(iso.slice(0, 20), "latin1");
  }
  const m = ms - secondStart;
  b.set(secondPrefix, o);
  o += secondPrefix.length;
  b[o] = 0x30 + Math.floor(m / 100);
  b[o + 1] = 0x30 + (Math.floor(m / 10) % 10);
  b[o + 2] = 0x30 + (m % 10);
  b[o + 3] = 0x5a; // Z
  return o + 4;
}

// The decision fields take few distinct values — reasons are mostly strings
// built once per policy — so they are cached by reason.
interface DecisionPart {
  readonly allowed: boolean;
  readonly tier: string;
  readonly requiresApproval: boolean;
  readonly approvalPolicy: string;
  readonly json: string;
  readonly bytes: Buffer;
}
const decisionParts = new Map<string, DecisionPart>();

function decisionPart(d: AuthDecision): DecisionPart {
  const cached = decisionParts.get(d.reason);
  if (
    cached !== undefined &&
    cached.allowed === d.allowed &&
    cached.tier === d.tier &&
    cached.requiresApproval === d.requiresApproval &&
    cached.approvalPolicy === d.approvalPolicy
  ) {
    return cached;
  }
  const json =
    `,"allowed":${d.allowed},"tier":${JSON.stringify(d.tier)},"reason":${JSON.stringify(d.reason)}` +
    `,"requires_approval":${d.requiresApproval},"approval_policy":${JSON.stringify(d.approvalPolicy)}`;
  const part = { allowed: d.allowed, tier: d.tier, requiresApproval: d.requiresApproval, approvalPolicy: d.approvalPolicy, json, bytes: Buffer.from(json, "utf8") };
  if (decisionParts.size >= 4096) decisionParts.clear();
  decisionParts.set(d.reason, part);
  return part;
}

let tailName: string | undefined;
let tailVersion: string | undefined;
let tailBytes = Buffer.alloc(0);

/** The per-policy part of every record, encoded once per (name, version); ends where the decision id begins. */
function policyTail(configName: string, configVersion: string): Buffer {
  if (configName !== tailName || configVersion !== tailVersion) {
    tailBytes = Buffer.from(`,"config_name":${JSON.stringify(configName)},"config_version":${JSON.stringify(configVersion)},"decision_id":`, "utf8");
    tailName = configName;
    tailVersion = configVersion;
  }
  return tailBytes;
}

let lastRevision: string | undefined;
let revisionBytes = Buffer.alloc(0);

/** The end of every record of one policy revision (reopened when optional fields follow). */
function revisionTail(revision: string): Buffer {
  if (revision !== lastRevision) {
    revisionBytes = Buffer.from(`,"policy_revision":${JSON.stringify(revision)}}`, "utf8");
    lastRevision = revision;
  }
  return revisionBytes;
}
