import { expect } from "chai";
import { loadConfig } from "../../src/config/index.ts";
import { AuthEngine } from "../../src/engine/auth-engine.ts";
import type { Explanation } from "../../src/engine/explain.ts";
import { compileExpression, traceExpression } from "../../src/expr/index.ts";
import { ManualClock } from "../../src/model/clock.ts";
import { approvalFields } from "../../src/policy/index.ts";
import { createMemoryStore } from "../../src/state/memory/memory-store.ts";

const step = (e: Explanation, name: string): Explanation["steps"][number] => e.steps.find((s) => s.step === name) ?? expect.fail(`no ${name} step in ${e.steps.map((s) => s.step).join(", ")}`);

describe("explain (the path of a decision)", () => {
  const clock = new ManualClock();
  const engine = new AuthEngine(loadConfig("examples/agent_auth.yaml", { env: {} }), { clock, store: createMemoryStore({ clock }) });
  after(() => engine.close());

  it("says when there is no profile, and why nothing allowed the action", async () => {
    const e = await engine.explain({ agent: "unknown-bot", user: "alice", action: "read" });
    expect(step(e, "profile")).to.deep.include({ outcome: "missing" });
    expect(step(e, "profile").summary).to.contain("no profile named 'unknown-bot'");
    expect(step(e, "delegation").outcome).to.equal("none");
    expect(e.steps.at(-1)).to.deep.include({ step: "authorization", outcome: "deny" });
    expect(e.decision).to.deep.include({ allowed: false, reason: "Action 'read' not authorized for agent 'unknown-bot'" });
  });

  it("names the role that granted the action, through extends", async () => {
    const e = await engine.explain({ agent: "deploy-bot", user: "bob", action: "read", scope: "service:api" });
    expect(step(e, "allow").summary).to.equal("action 'read' is allowed by pattern 'read' of role 'reader', inherited through 'operator' → 'contributor'");
    expect(step(e, "allow").details).to.deep.include({ role: "reader", via: ["operator", "contributor", "reader"] });
    expect(step(e, "scope").summary).to.contain("matches the profile's scope 'service:*'");
  });

  it("gives each approval policy's condition value, and which operand was null", async () => {
    const e = await engine.explain({ agent: "payments-agent", user: "carol", action: "pay", resource: "/invoices/7" });
    const large = e.steps.find((s) => s.step === "approval_policy" && s.details["policy"] === "large-payment")!;
    expect(large.outcome).to.equal("match");
    expect(large.summary).to.contain("could not be evaluated").and.contain("fail closed");
    expect(large.details["steps"]).to.deep.include("amount > $payment_limit: amount is null (absent), $payment_limit is 1000 → error: cannot compare null > a number: ordering needs two numbers or two strings");
    const rollback = e.steps.find((s) => s.step === "approval_policy" && s.details["policy"] === "rollback")!;
    expect(rollback).to.deep.include({ outcome: "no_match" });
    expect(rollback.summary).to.contain('action in ["rollback", "restart"]: action is "pay" → false');
    expect(step(e, "tier").summary).to.equal("tier strong, set by approval policy 'large-payment' (the first matching policy with the highest tier)");
    expect(e.decision).to.deep.include({ tier: "strong", approval_policy: "large-payment" });
  });

  it("walks the A2A rules: the first matching deny wins", async () => {
    const e = await engine.explain({ agent: "copilot", user: "alice", action: "pr:open", targetAgent: "deploy-bot", scope: "project:web" });
    const rules = e.steps.filter((s) => s.step === "a2a_rule");
    expect(rules.map((r) => [r.details["rule"], r.outcome])).to.deep.equal([
      ["copilot-asks-reviewer", "no_match"],
      ["no-deploys-from-copilot", "match"],
    ]);
    expect(e.decision.reason).to.equal("Denied by A2A policy: The copilot never triggers deployments");
  });

  it("reads the session and delegation it would use, and records nothing", async () => {
    const records: unknown[] = [];
    const e2 = new AuthEngine(loadConfig("examples/agent_auth.yaml", { env: {} }), { clock, store: createMemoryStore({ clock }), audit: [{ write: (ev) => void records.push(ev), flush: async () => {}, close: async () => {} }] });
    const s = await e2.createSession({ agent: "security-scanner", user: "alice" });
    const d = await e2.createDelegation({ fromUser: "alice", toAgent: "security-scanner", actions: ["write"], reason: "x" });
    const e = await e2.explain({ agent: "security-scanner", user: "alice", action: "write", sessionId: s.sessionId });
    expect(step(e, "session").outcome).to.equal("pass");
    expect(step(e, "delegation").summary).to.equal(`delegation ${d.delegationId} from user 'alice' covers 'write'`);
    expect(e.decision.reason).to.equal("Delegated by user 'alice'");
    expect(records).to.deep.equal([]);
    await e2.close();
  });
});

describe("traceExpression", () => {
  it("takes the truth from the compiled condition and shows each comparison with its operands", () => {
    const expr = compileExpression<{ agent: string; user: string; action: string; resource: string; scope: string; sessionId: string; targetAgent: string; metadata: Record<string, unknown> }>(
      'action == "deploy" and resource starts_with "/prod"',
      { fields: approvalFields },
    );
    const req = { agent: "a", user: "u", action: "deploy", resource: "/staging/x", scope: "", sessionId: "", targetAgent: "", metadata: {} };
    const t = traceExpression(expr, req, approvalFields, new Map());
    expect(t.value).to.equal(false);
    expect(t.steps).to.deep.equal(['action == "deploy": action is "deploy" → true', 'resource starts_with "/prod": resource is "/staging/x" → false']);
  });
});
