import { expect } from "chai";
import { auditEventFromJson, auditRecordJson, withDecision, type AuditEvent } from "../../src/audit/event.ts";
import { decisionFieldsBytes, decisionFieldsJson, encodeAuditRecord } from "../../src/audit/record-bytes.ts";
import { AuthDecision } from "../../src/model/types.ts";
import type { NormalizedRequest } from "../../src/model/request.ts";

function event(over: Partial<NormalizedRequest>, decision?: Partial<AuthDecision>, ms = 0.0123): AuditEvent {
  const d = { allowed: true, tier: "soft", reason: "Allowed by profile 'p' (requires soft approval)", requiresApproval: true, approvalPolicy: "pol", ...decision } as AuthDecision;
  return {
    time: Date.UTC(2026, 10, 22, 12, 0, 0, 123),
    request: { agent: "a", user: "u", action: "x", resource: "r", scope: "", sessionId: "", targetAgent: "", metadata: {}, ...over },
    decision: new AuthDecision(d.allowed, d.tier, d.reason, d.requiresApproval, d.approvalPolicy, ms, "0b7c1a2e-1f43-4b5f-9d2e-3a4b5c6d7e8f", "0123456789abcdef"),
    configName: 'cfg "x"',
    configVersion: "1.0",
  };
}

describe("audit records", () => {
  const strings = ["plain", 'quote " inside', "back\\slash", "tab\tnew\nline\u0001", "ünïcödé 🙂", "", "</script>", "\u2028"];
  for (const s of strings) {
    it(`round-trips ${JSON.stringify(s)} in every request field`, () => {
      const e = event({ agent: s || "a", user: s, action: s, resource: s, scope: s, sessionId: s, targetAgent: s });
      const r = JSON.parse(auditRecordJson(e)) as Record<string, unknown>;
      expect(r).to.deep.equal({
        timestamp: "2026-11-22T12:00:00.123Z",
        event_id: "0b7c1a2e-1f43-4b5f-9d2e-3a4b5c6d7e8f",
        agent: s || "a",
        user: s,
        action: s,
        resource: s,
        allowed: true,
        tier: "soft",
        reason: "Allowed by profile 'p' (requires soft approval)",
        requires_approval: true,
        approval_policy: "pol",
        session_id: s === "" ? null : s,
        scope: s,
        target_agent: s === "" ? null : s,
        evaluation_time_ms: 0.012,
        config_name: 'cfg "x"',
        config_version: "1.0",
        decision_id: "0b7c1a2e-1f43-4b5f-9d2e-3a4b5c6d7e8f",
        policy_revision: "0123456789abcdef",
      });
    });
  }

  it("rounds the evaluation time to microseconds like round(x, 3)", () => {
    for (const ms of [0, 0.0004, 0.0005, 0.001, 0.01, 0.1, 0.12, 1, 1.5, 12.3456, 999.9999, 1234567.891]) {
      const r = JSON.parse(auditRecordJson(event({}, {}, ms))) as { evaluation_time_ms: number };
      expect(r.evaluation_time_ms, String(ms)).to.equal(Math.round(ms * 1000) / 1000);
    }
  });

  it("keeps decision fields apart for different decisions with the same reason", () => {
    const a = JSON.parse(auditRecordJson(event({}, { allowed: true, tier: "strong", requiresApproval: true, approvalPolicy: "p1", reason: "same" }))) as Record<string, unknown>;
    const b = JSON.parse(auditRecordJson(event({}, { allowed: false, tier: "autonomous", requiresApproval: false, approvalPolicy: "", reason: "same" }))) as Record<string, unknown>;
    expect([a["allowed"], a["tier"], a["approval_policy"]]).to.deep.equal([true, "strong", "p1"]);
    expect([b["allowed"], b["tier"], b["approval_policy"], b["requires_approval"]]).to.deep.equal([false, "autonomous", "", false]);
  });

  it("marks where a line's decision fields are, for a store to replace them", () => {
    const e = event({ resource: ',"allowed":true trap', user: '"allowed"' });
    const r = encodeAuditRecord(e);
    const line = r.line.toString("utf8");
    expect(line).to.equal(auditRecordJson(e));
    expect(r.line.subarray(r.partStart, r.partEnd).equals(decisionFieldsBytes(e.decision))).to.equal(true);
    const head = r.line.toString("utf8", 0, r.partStart);
    const tail = r.line.toString("utf8", r.partEnd);
    const denied = new AuthDecision(false, "autonomous", "Invalid or expired session", false, "", e.decision.evaluationTimeMs, e.decision.decisionId, e.decision.policyRevision);
    // The shape the Redis script writes for a failed session check.
    const luaPart = ',"allowed":false,"tier":"autonomous","reason":' + JSON.stringify(denied.reason) + ',"requires_approval":false,"approval_policy":""';
    expect(decisionFieldsJson(denied)).to.equal(luaPart);
    expect(head + luaPart + tail).to.equal(auditRecordJson({ ...e, decision: denied }));
    expect(JSON.parse(head + luaPart + tail)).to.deep.include({ allowed: false, reason: "Invalid or expired session", resource: ',"allowed":true trap' });
  });

  it("rebuilds an event from its line", () => {
    const e = event({ sessionId: "s1", targetAgent: "t" });
    const back = auditEventFromJson(auditRecordJson(e));
    expect(back.request).to.deep.include({ agent: "a", sessionId: "s1", targetAgent: "t" });
    expect(back.decision.decisionId).to.equal(e.decision.decisionId);
    expect(back.time).to.equal(e.time);
  });

  it("rebuilds the origin (transport, request id, caller) and keeps it through withDecision", () => {
    const e: AuditEvent = { ...event({}), origin: { transport: "http", requestId: "req-7", caller: "gateway" } };
    expect(auditEventFromJson(auditRecordJson(e)).origin).to.deep.equal({ transport: "http", requestId: "req-7", caller: "gateway" });
    expect(auditEventFromJson(auditRecordJson({ ...e, origin: { transport: "http" } })).origin).to.deep.equal({ transport: "http" });
    expect(auditEventFromJson(auditRecordJson(event({}))).origin).to.equal(undefined);
    const denied = new AuthDecision(false, "autonomous", "x", false, "", 0, "id", "rev");
    expect(withDecision(e, denied).origin).to.equal(e.origin);
  });
});
