import { expect } from "chai";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { parseConfig, type AuthConfig } from "../../src/config/index.ts";
import type { AuthzCase } from "../../src/conformance/cases.ts";
import { runSetupOp } from "../../src/conformance/setup-ops.ts";
import { AuthEngine } from "../../src/engine/auth-engine.ts";
import { ManualClock } from "../../src/model/clock.ts";
import type { AuthDecision, AuthRequest } from "../../src/model/types.ts";
import { createMemoryStore } from "../../src/state/memory/memory-store.ts";
import { fuzzRuns, fuzzSeed } from "../support/fuzz.ts";
import { BASIC_POLICY } from "../support/policies.ts";

const decisionOf = (d: AuthDecision) => ({ allowed: d.allowed, tier: d.tier, reason: d.reason, requires_approval: d.requiresApproval, approval_policy: d.approvalPolicy, policy_revision: d.policyRevision });

/** An engine with sessions and delegations in place, and a user-permissions provider for one user. */
async function stagedEngine(config: AuthConfig): Promise<{ engine: AuthEngine; sessions: string[] }> {
  const clock = new ManualClock();
  const engine = new AuthEngine(config, {
    clock,
    store: createMemoryStore({ clock }),
    userPermissions: (user) => (user === "erin" ? ["pay", "deploy"] : user === "boom" ? Promise.reject(new Error("down")) : []),
  });
  const sessions: string[] = [];
  for (const [agent, user, scope] of [["assistant", "alice", "project:*"], ["deployer", "bob", ""], ["pinned", "alice", ""]] as const) {
    sessions.push((await engine.createSession({ agent, user, scope })).sessionId);
  }
  const revoked = await engine.createSession({ agent: "assistant", user: "bob" });
  await engine.revokeSession(revoked.sessionId);
  sessions.push(revoked.sessionId);
  for (const [fromUser, toAgent, actions] of [["alice", "deployer", ["pay", "write*"]], ["bob", "unknown-bot", ["read"]], ["carol", "assistant", ["pay"]]] as const) {
    await engine.createDelegation({ fromUser, toAgent, actions: [...actions], reason: "test" });
  }
  return { engine, sessions };
}

describe("explain (its decision is decide's, for random requests)", function () {
  this.timeout(120_000);

  it("arrives at exactly the decision AuthEngine.decide gives, with state, A2A, approvals and metadata", async () => {
    const { engine, sessions } = await stagedEngine(parseConfig(BASIC_POLICY, { env: {} }));
    const request = fc.record({
      agent: fc.constantFrom("assistant", "deployer", "pinned", "reviewer", "unknown-bot"),
      user: fc.constantFrom("alice", "bob", "carol", "erin", "boom"),
      action: fc.constantFrom("read", "write", "writer", "delete", "pay", "deploy", "list:x", "admin"),
      resource: fc.constantFrom("", "/prod/api", "/docs/1", "/production"),
      scope: fc.constantFrom("", "project:web", "repo:x"),
      sessionId: fc.constantFrom("", "nope", ...sessions),
      targetAgent: fc.constantFrom("", "reviewer", "helper"),
      metadata: fc.option(fc.record({ amount: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.constant("lots"), fc.constant(null)) }, { requiredKeys: [] }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const req = r as AuthRequest;
        const decided = decisionOf(await engine.authorize(req));
        const explained = await engine.explain(req);
        expect(explained.decision, JSON.stringify(r)).to.deep.equal(decided);
        // A step that denies is the last one.
        const denies = explained.steps.findIndex((s) => s.outcome === "deny" || (s.outcome === "error" && s.step !== "approval_policy"));
        if (denies >= 0) expect(denies, JSON.stringify(explained.steps.map((s) => s.step))).to.equal(explained.steps.length - 1);
      }),
      { numRuns: fuzzRuns(1500), seed: fuzzSeed(161) },
    );
    await engine.close();
  });

  it("arrives at the recorded decision of every conformance case (the original's decisions)", async () => {
    const cases = readFileSync("test/fixtures/conformance/authz.jsonl", "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as AuthzCase);
    let checked = 0;
    for (const c of cases) {
      if (Object.hasOwn(c.expect, "config_error") || c.request === null) continue;
      const clock = new ManualClock();
      const permissions = c.user_permissions;
      const engine = new AuthEngine(parseConfig(c.config, { env: c.env ?? {} }), {
        clock,
        store: createMemoryStore({ clock }),
        userPermissions: permissions === undefined ? undefined : (user) => new Set(Object.hasOwn(permissions, user) ? permissions[user] : []),
      });
      const ids = new Map<string, string>();
      for (const { op, expect_error, error, ...args } of c.setup) await runSetupOp({ engine, clock, ids }, op, args, expect_error === true ? error : undefined);
      const r = c.request;
      const e = await engine.explain({
        agent: r.agent,
        user: r.user,
        action: r.action,
        resource: r.resource,
        scope: r.scope,
        targetAgent: r.target_agent,
        sessionId: r.session_id?.startsWith("$") ? (ids.get(r.session_id.slice(1)) ?? r.session_id) : r.session_id,
        metadata: r.metadata,
      });
      const { policy_revision: _revision, ...got } = e.decision;
      expect(got, c.id).to.deep.equal(c.expect);
      checked++;
      await engine.close();
    }
    expect(checked).to.be.greaterThan(100);
  });
});
