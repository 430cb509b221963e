import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditEventFromJson, auditRecordJson, type AuditEvent } from "../../src/audit/event.ts";
import { compileAuditFilter } from "../../src/audit/filter.ts";
import { AuditHub } from "../../src/audit/hub.ts";
import { parseConfig } from "../../src/config/parse-config.ts";
import { approvalEvent } from "../../src/engine/approval-desk.ts";
import { forEachRecordedDecision } from "../../src/engine/replay.ts";
import { AuthDecision } from "../../src/model/types.ts";
import { compilePolicy } from "../../src/policy/index.ts";

const policy = compilePolicy(parseConfig("metadata: {name: p}"));
const request = { agent: "a", user: "u", action: "pay", resource: "r", scope: "", sessionId: "", targetAgent: "", metadata: {} };
const task = { id: "t-1", status: "approved", agent: "a", user: "u", action: "pay", resource: "r", scope: "", sessionId: "", approvalPolicy: "big" } as const;
const approved = approvalEvent(policy, Date.UTC(2031, 0, 1), "approval_approved", task, "carol", "ok \"quoted\"", "");
const decision: AuditEvent = {
  time: Date.UTC(2031, 0, 1),
  request,
  decision: new AuthDecision(true, "strong", "Approved by 'carol' (approval t-1)", false, "big", 1, "d-1", policy.revision, { approvalId: "t-1", approvedBy: "carol", approvalStatus: "" }),
  configName: "p",
  configVersion: "1.0",
};
const plain: AuditEvent = { ...decision, decision: new AuthDecision(false, "autonomous", "no", false, "", 1, "d-2", policy.revision) };

describe("approval events on the record", () => {
  it("round-trip through the JSON line with their kind and task fields; old-style records stay decisions", () => {
    const line = JSON.parse(auditRecordJson(approved)) as Record<string, unknown>;
    expect(line).to.deep.include({ kind: "approval_approved", approval_id: "t-1", task_status: "approved", actor: "carol", comment: 'ok "quoted"', linked_decision_id: "", reason: "Approval granted by 'carol'" });
    const back = auditEventFromJson(auditRecordJson(approved));
    expect(back.kind).to.equal("approval_approved");
    expect(back.approval).to.deep.equal(approved.approval);
    const d = auditEventFromJson(auditRecordJson(decision));
    expect(d.kind).to.equal(undefined);
    expect(d.decision.approval).to.deep.equal({ approvalId: "t-1", approvedBy: "carol", approvalStatus: "" });
    const p = auditEventFromJson(auditRecordJson(plain));
    expect(p.decision.approval).to.equal(undefined);
    expect(JSON.parse(auditRecordJson(plain))).to.not.have.any.keys("kind", "approval_id");
  });

  it("filters: decisions only by default, approval kinds when asked, both with 'decision'", () => {
    const all = [approved, decision, plain];
    expect(all.filter(compileAuditFilter())).to.deep.equal([decision, plain]);
    expect(all.filter(compileAuditFilter({ agents: ["a"] }))).to.deep.equal([decision, plain]);
    expect(all.filter(compileAuditFilter({ kinds: ["approval_approved"] }))).to.deep.equal([approved]);
    expect(all.filter(compileAuditFilter({ kinds: ["approval_denied"] }))).to.deep.equal([]);
    expect(all.filter(compileAuditFilter({ kinds: ["decision", "approval_approved"], effect: "deny" }))).to.deep.equal([approved, plain]);
  });

  it("a hub subscription with a kinds filter is the watch stream: it gets approval events, and plain subscribers do not", async () => {
    const hub = new AuditHub();
    const watch = await hub.subscribe({ filter: { kinds: ["approval_approved", "approval_redeemed"] } });
    const decisions = await hub.subscribe();
    hub.write(decision);
    hub.write(approved);
    const first = async (sub: AsyncIterable<{ event: AuditEvent }>): Promise<AuditEvent> => {
      for await (const e of sub) return e.event;
      throw new Error("the subscription ended");
    };
    expect((await first(watch)).kind).to.equal("approval_approved");
    expect((await first(decisions)).decision.decisionId).to.equal("d-1");
    watch.close();
    decisions.close();
  });

  it("replay skips approval events in an audit file", () => {
    const dir = mkdtempSync(join(tmpdir(), "approvals-replay-"));
    try {
      const file = join(dir, "audit.jsonl");
      writeFileSync(file, [auditRecordJson(approved), auditRecordJson(plain)].join("\n") + "\n");
      const seen: unknown[] = [];
      forEachRecordedDecision(file, (r) => seen.push(r?.reason));
      expect(seen).to.deep.equal(["no"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
