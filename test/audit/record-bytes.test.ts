import { expect } from "chai";
import fc from "fast-check";
import { auditEventFromJson, auditRecordJson, type AuditEvent } from "../../src/audit/event.ts";
import { decisionFieldsBytes, decisionFieldsJson, encodeAuditRecord } from "../../src/audit/record-bytes.ts";
import type { DecisionOrigin } from "../../src/model/origin.ts";
import { AuthDecision, type ApprovalTier } from "../../src/model/types.ts";
import { fuzzRuns, fuzzSeed } from "../support/fuzz.ts";

/** The record the encoder must produce, by the plainest route: JSON.stringify of the object. */
function reference(e: AuditEvent): string {
  const r = e.request;
  const d = e.decision;
  const us = Math.round(d.evaluationTimeMs * 1000);
  return JSON.stringify({
    timestamp: new Date(e.time).toISOString(),
    event_id: d.decisionId,
    agent: r.agent,
    user: r.user,
    action: r.action,
    resource: r.resource,
    allowed: d.allowed,
    tier: d.tier,
    reason: d.reason,
    requires_approval: d.requiresApproval,
    approval_policy: d.approvalPolicy,
    session_id: r.sessionId === "" ? null : r.sessionId,
    scope: r.scope,
    target_agent: r.targetAgent === "" ? null : r.targetAgent,
    evaluation_time_ms: us >= 0 && us < 1e15 ? us / 1000 : 0,
    config_name: e.configName,
    config_version: e.configVersion,
    decision_id: d.decisionId,
    policy_revision: d.policyRevision,
    // Present only when the origin names them, in this order, after everything else.
    ...(e.origin?.transport === undefined ? {} : { transport: e.origin.transport }),
    ...(e.origin?.requestId === undefined ? {} : { request_id: e.origin.requestId }),
    ...(e.origin?.caller === undefined ? {} : { caller: e.origin.caller }),
    ...(e.metadata === undefined ? {} : { metadata: e.metadata }),
  });
}

function event(over: Partial<Record<"agent" | "user" | "action" | "resource" | "scope" | "sessionId" | "targetAgent", string>> = {}, time = Date.UTC(2026, 11, 1, 7, 30, 34, 123), ms = 0.25, reason = "Allowed by profile 'copilot'"): AuditEvent {
  return {
    time,
    request: { agent: "copilot", user: "alice", action: "read", resource: "/docs/1", scope: "project:web", sessionId: "", targetAgent: "", metadata: {}, ...over },
    decision: new AuthDecision(true, "soft", reason, true, "prod", ms, "0b7c1a2e-1f43-4b5f-9d2e-3a4b5c6d7e8f", "0123456789abcdef"),
    configName: "fleet",
    configVersion: "1.0",
  };
}

const text = (r: ReturnType<typeof encodeAuditRecord>): string => r.line.toString("utf8");

describe("audit record bytes", () => {
  it("encodes the same line as JSON.stringify of the record, for any text in any field", () => {
    // Text mixes plain ASCII (copied as is, short and long) with what needs escaping or more than one byte.
    const piece = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }), fc.constantFrom('"', "\\", "\u0000", "\n", "é", "🙂", "\u2028", "\u007f"));
    const str = fc.array(piece, { maxLength: 4 }).map((parts) => parts.join(""));
    const nonEmpty = str.filter((s) => s !== "");
    fc.assert(
      fc.property(
        fc.record({
          agent: nonEmpty, user: nonEmpty, action: nonEmpty, resource: str, scope: str, sessionId: str, targetAgent: str,
          reason: str, approvalPolicy: str, id: str, revision: str, name: str, version: str,
          allowed: fc.boolean(), requiresApproval: fc.boolean(), tier: fc.constantFrom<ApprovalTier>("autonomous", "soft", "strong"),
          // Recorded only with audit.include_metadata: absent, empty, or JSON data of any text.
          metadata: fc.option(fc.dictionary(str, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }), { nil: undefined }),
          time: fc.integer({ min: -62_000_000_000_000, max: 260_000_000_000_000 }),
          origin: fc.option(fc.record({ transport: str, requestId: str, caller: str }, { requiredKeys: [] }), { nil: undefined }),
          ms: fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constantFrom(0, 0.0004, 0.0005, 0.001, 0.1, 1, 999.9995, -1, 1e13)),
        }),
        (v) => {
          const e: AuditEvent = {
            time: v.time,
            request: { agent: v.agent, user: v.user, action: v.action, resource: v.resource, scope: v.scope, sessionId: v.sessionId, targetAgent: v.targetAgent, metadata: {} },
            decision: new AuthDecision(v.allowed, v.tier, v.reason, v.requiresApproval, v.approvalPolicy, v.ms, v.id, v.revision),
            configName: v.name,
            configVersion: v.version,
            origin: v.origin,
            ...(v.metadata === undefined ? {} : { metadata: v.metadata }),
          };
          const r = encodeAuditRecord(e);
          expect(text(r)).to.equal(reference(e));
          expect(r.line.subarray(r.partStart, r.partEnd).equals(decisionFieldsBytes(e.decision))).to.equal(true);
        },
      ),
      { numRuns: fuzzRuns(2000), seed: fuzzSeed(71) },
    );
  });

  it("writes each millisecond of a second, and moves on to the next second and year", () => {
    const start = Date.UTC(2026, 11, 31, 23, 59, 59, 990);
    for (let t = start; t < start + 30; t++) expect(text(encodeAuditRecord(event({}, t)))).to.equal(reference(event({}, t)));
    // Out of the four-digit years, and fractional instants as Date reads them.
    for (const t of [Date.UTC(10000, 0, 1), Date.UTC(-1, 5, 1, 0, 0, 0, 7), 1.9, -0.5, 999.999]) {
      expect(text(encodeAuditRecord(event({}, t))), String(t)).to.equal(reference(event({}, Math.trunc(t))));
    }
  });

  it("encodes an event once for the sinks that ask in turn, and anew for another event", () => {
    const e = event();
    const first = encodeAuditRecord(e);
    expect(encodeAuditRecord(e)).to.equal(first);
    const other = encodeAuditRecord(event({ user: "bob" }));
    expect(text(other)).to.include('"user":"bob"');
    expect(auditRecordJson(e)).to.equal(reference(e));
  });

  it("keeps decision fields apart when decisions share a reason", () => {
    const a = event();
    const b: AuditEvent = { ...a, decision: new AuthDecision(false, "autonomous", a.decision.reason, false, "", 0, "x", "y") };
    expect(decisionFieldsJson(a.decision)).to.include('"allowed":true').and.include('"approval_policy":"prod"');
    expect(decisionFieldsJson(b.decision)).to.equal(`,"allowed":false,"tier":"autonomous","reason":${JSON.stringify(a.decision.reason)},"requires_approval":false,"approval_policy":""`);
    expect(text(encodeAuditRecord(b))).to.equal(reference(b));
  });

  it("writes the metadata last, only when the event has it, and reads it back", () => {
    const plain = event();
    expect(text(encodeAuditRecord(plain))).to.not.include('"metadata"');
    const withMetadata: AuditEvent = { ...plain, metadata: { amount: 1500, tags: ["pii"], note: "é \"q\"" } };
    const line = text(encodeAuditRecord(withMetadata));
    expect(line).to.equal(reference(withMetadata));
    expect(line.endsWith(',"metadata":{"amount":1500,"tags":["pii"],"note":"é \\"q\\""}}')).to.equal(true);
    expect(auditEventFromJson(line).request.metadata).to.deep.equal(withMetadata.metadata);
    expect(auditEventFromJson(line).metadata).to.deep.equal(withMetadata.metadata);
    expect(auditEventFromJson(text(encodeAuditRecord(plain))).metadata).to.equal(undefined);
  });

  it("ends the line with transport, request_id and caller, each only when present", () => {
    const base = event();
    const cases: Array<[DecisionOrigin | undefined, string]> = [
      [undefined, ""],
      [{}, ""],
      [{ transport: "http" }, ',"transport":"http"'],
      [{ transport: "http", requestId: "r-1" }, ',"transport":"http","request_id":"r-1"'],
      [{ transport: "http", caller: "gateway" }, ',"transport":"http","caller":"gateway"'],
      [{ transport: "http", requestId: 'say "hi"', caller: "gateway" }, ',"transport":"http","request_id":"say \\"hi\\"","caller":"gateway"'],
    ];
    for (const [origin, end] of cases) {
      const e: AuditEvent = { ...base, origin };
      const line = text(encodeAuditRecord(e));
      expect(line, JSON.stringify(origin)).to.equal(reference(e));
      expect(line.endsWith(`"policy_revision":"0123456789abcdef"${end}}`), line).to.equal(true);
    }
  });

  it("grows its memory for a record larger than any before", () => {
    const big = event({ resource: "r".repeat(100_000), scope: "\u0001".repeat(5000) });
    expect(text(encodeAuditRecord(big))).to.equal(reference(big));
    const bigOrigin: AuditEvent = { ...event(), origin: { transport: "http", requestId: "\u0001".repeat(30_000), caller: "c".repeat(9000) } };
    expect(text(encodeAuditRecord(bigOrigin))).to.equal(reference(bigOrigin));
  });
});
