import { forEachAuditLine } from "../audit/read-records.ts";
import { emptyRecordFields, readRecordFields } from "../audit/record-fields.ts";
import * as reasons from "../model/reasons.ts";
import type { NormalizedRequest } from "../model/request.ts";
import { TIER_ORDER, type ApprovalTier, type AuthDecision, type RequestMetadata } from "../model/types.ts";
import type { CompiledPolicy } from "../policy/index.ts";
import { conclude, denial, screen, type AllowSource } from "./decide.ts";
import { explainDecision } from "./explain.ts";

/** A recorded decision as replay reads it: the request and the answer given. */
export interface RecordedDecision {
  readonly request: NormalizedRequest;
  /** False when the record kept no metadata (`audit.include_metadata` off). */
  readonly hasMetadata: boolean;
  readonly allowed: boolean;
  readonly tier: string;
  readonly reason: string;
  readonly approvalPolicy: string;
}

/** How a recorded decision fares under another policy. */
export type ReplayKind = "unchanged" | "newly_denied" | "newly_allowed" | "tier_raised" | "tier_lowered" | "reason_changed" | "not_replayable";

/** The outcome of replaying one record. */
export interface ReplayResult {
  readonly kind: ReplayKind;
  /** The new decision; undefined when not replayable. */
  readonly decision: AuthDecision | undefined;
  /** Why a record could not be replayed. */
  readonly why?: string;
}

const NEEDS_METADATA = "the new decision reads request metadata, which the record does not hold (audit.include_metadata)";
const FAILURES = new Set([reasons.STATE_UNAVAILABLE, reasons.AUDIT_UNAVAILABLE, reasons.USER_PERMISSIONS_UNAVAILABLE]);
const SESSION_DENIAL = /^(?:Invalid or expired session$|Session (?:agent|user) mismatch: |Scope '.*' outside session scope '.*'$|Session scope '.*' requires a request scope$)/s;
const DELEGATED = /^Delegated by user '(.*)'(?: \(requires (?:soft|strong) approval\))?$/s;
const BY_PROVIDER = /^Allowed by user permissions(?: \(requires (?:soft|strong) approval\))?$/;

/**
 * Re-decides recorded requests with another policy, with the state taken as
 * recorded: a session check that failed fails again and one that passed
 * passes; a delegation that allowed still covers the action. Records decided
 * by a failure (store, audit, provider) or by the user-permission provider
 * are not replayable, nor are records without metadata whose new decision
 * would read metadata (it is detected, never guessed). Uses the decision
 * path's own steps (screen, conclude); allocation-light for bulk use.
 */
export class PolicyReplayer {
  readonly #policy: CompiledPolicy;
  readonly #probe = new MetadataProbe();

  constructor(policy: CompiledPolicy) {
    this.#policy = policy;
  }

  replay(r: RecordedDecision): ReplayResult {
    if (FAILURES.has(r.reason)) return { kind: "not_replayable", decision: undefined, why: `decided by a failure (${r.reason}), not by the policy` };
    if (BY_PROVIDER.test(r.reason)) return { kind: "not_replayable", decision: undefined, why: "allowed by a user-permissions provider, which replay does not have" };
    const policy = this.#policy;
    // The session check comes first and depends on state only: as recorded.
    if (!r.allowed && SESSION_DENIAL.test(r.reason)) return this.#compare(r, denial(policy, r.reason, 0, ""));
    const probe = this.#probe;
    const req: NormalizedRequest = r.hasMetadata ? r.request : { ...r.request, metadata: probe.reset() };
    const screening = screen(policy, req);
    let source: AllowSource = screening.profileAllows ? { kind: "profile" } : undefined;
    if (screening.needDelegations) {
      const delegated = DELEGATED.exec(r.reason);
      if (delegated !== null) source = { kind: "delegation", fromUser: delegated[1]! };
    }
    const decision = conclude({ policy, req, screening, source, decisionId: "", start: 0, elapsedMs: 0 });
    if (!r.hasMetadata && probe.read) {
      // Without A2A rules metadata only moves the tier: a change of effect is still certain.
      const effectKnown = req.targetAgent === "" && r.allowed !== decision.allowed;
      if (!effectKnown) return { kind: "not_replayable", decision: undefined, why: NEEDS_METADATA };
      return { kind: decision.allowed ? "newly_allowed" : "newly_denied", decision, why: "the tier depends on request metadata the record does not hold: shown as if absent" };
    }
    return this.#compare(r, decision);
  }

  /** The step of the new policy that decided, in words (for examples; slow). */
  responsibleRule(r: RecordedDecision): string {
    const req = r.request;
    const delegated = DELEGATED.exec(r.reason);
    const outcome = { kind: "ok" as const, grant: delegated === null ? undefined : { id: "(as recorded)", fromUser: delegated[1]! } };
    const e = explainDecision(this.#policy, req, { outcome, provider: undefined });
    const decisive = e.decision.allowed ? e.steps.filter((s) => s.step === "allow" || s.step === "delegation" || s.step === "tier") : e.steps.filter((s) => s.outcome === "deny");
    return decisive.map((s) => s.summary).join("; ");
  }

  #compare(r: RecordedDecision, d: AuthDecision): ReplayResult {
    if (r.allowed !== d.allowed) return { kind: d.allowed ? "newly_allowed" : "newly_denied", decision: d };
    if (d.allowed) {
      const before = TIER_ORDER[r.tier as ApprovalTier] ?? 0;
      const after = TIER_ORDER[d.tier];
      if (after > before) return { kind: "tier_raised", decision: d };
      if (after < before) return { kind: "tier_lowered", decision: d };
    }
    if (r.reason !== d.reason || r.approvalPolicy !== d.approvalPolicy) return { kind: "reason_changed", decision: d };
    return { kind: "unchanged", decision: d };
  }
}

/**
 * Empty metadata that notices being read: conditions read a field through
 * `Object.hasOwn`, so a record without metadata is known to need it exactly
 * when the decision asks. One instance, reset per record (decisions are
 * synchronous).
 */
class MetadataProbe {
  read = false;
  readonly #proxy: RequestMetadata;

  constructor() {
    const target = Object.create(null) as Record<string, unknown>;
    const touch = (): undefined => {
      this.read = true;
      return undefined;
    };
    this.#proxy = new Proxy(target, {
      getOwnPropertyDescriptor: touch,
      has: () => {
        this.read = true;
        return false;
      },
      get: touch,
    });
  }

  reset(): RequestMetadata {
    this.read = false;
    return this.#proxy;
  }
}

const NO_METADATA: RequestMetadata = Object.freeze(Object.create(null) as RequestMetadata);

/** A JSONL audit record (as parsed) as replay reads it; undefined when it is not a decision record. */
export function recordedDecisionOf(r: Readonly<Record<string, unknown>>): RecordedDecision | undefined {
  if (typeof r["kind"] === "string") return undefined;
  const text = (k: string): string => (typeof r[k] === "string" ? (r[k] as string) : "");
  if (typeof r["allowed"] !== "boolean" || text("agent") === "" || text("user") === "" || text("action") === "") return undefined;
  const m = r["metadata"];
  const hasMetadata = typeof m === "object" && m !== null && !Array.isArray(m);
  return {
    request: {
      agent: text("agent"),
      user: text("user"),
      action: text("action"),
      resource: text("resource"),
      scope: text("scope"),
      sessionId: text("session_id"),
      targetAgent: text("target_agent"),
      metadata: hasMetadata ? (m as RequestMetadata) : NO_METADATA,
    },
    hasMetadata,
    allowed: r["allowed"],
    tier: text("tier") || "autonomous",
    reason: text("reason"),
    approvalPolicy: text("approval_policy"),
  };
}

/**
 * Reads the decisions of a JSONL audit file for replay, line by line: the
 * fields are picked straight out of each line where the encoder's layout
 * allows, JSON.parse where it does not (escapes, other shapes). `visit` gets
 * undefined for a line that is not a decision record; approval events (a
 * `kind` field) are skipped. Returns the line count.
 */
export function forEachRecordedDecision(path: string, visit: (r: RecordedDecision | undefined) => void): number {
  const fields = emptyRecordFields();
  let lines = 0;
  forEachAuditLine(path, (text, start, end) => {
    lines++;
    // An approval event is not a decision: not replayed, not counted as unreadable. The search
    // stays inside the line (a search of the chunk from `start` would run to its end on every
    // decision line: quadratic in the chunk).
    const line = text.slice(start, end);
    if (line.includes(KIND_FIELD) && isApprovalEvent(line)) return;
    const f = readRecordFields(text, start, end, fields);
    if (f === undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text.slice(start, end));
      } catch {
        visit(undefined);
        return;
      }
      visit(typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? recordedDecisionOf(parsed as Record<string, unknown>) : undefined);
      return;
    }
    let metadata: RequestMetadata = NO_METADATA;
    if (f.metadataJson !== undefined) {
      try {
        metadata = JSON.parse(f.metadataJson) as RequestMetadata;
      } catch {
        visit(undefined);
        return;
      }
    }
    if (f.agent === "" || f.user === "" || f.action === "") {
      visit(undefined);
      return;
    }
    visit({
      request: { agent: f.agent, user: f.user, action: f.action, resource: f.resource, scope: f.scope, sessionId: f.sessionId, targetAgent: f.targetAgent, metadata },
      hasMetadata: f.metadataJson !== undefined,
      allowed: f.allowed,
      tier: f.tier || "autonomous",
      reason: f.reason,
      approvalPolicy: f.approvalPolicy,
    });
  });
  return lines;
}

/** How an approval event's `kind` field starts (decision records have none). */
const KIND_FIELD = ',"kind":"approval_';

function isApprovalEvent(line: string): boolean {
  try {
    const r = JSON.parse(line) as Record<string, unknown>;
    return typeof r["kind"] === "string";
  } catch {
    return false;
  }
}
