import { expect } from "chai";
import { isAgentAuthError } from "../../src/client/index.ts";
import { guard, isApprovalRequiredError, isAuthorizationDeniedError, type ApprovalRequiredError, type AuthorizationDeniedError } from "../../src/integrations/guard/index.ts";
import { DECIDERS, unreachableDecider, type ObservedDecider } from "../support/integrations.ts";

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

for (const { name, start } of DECIDERS) {
  describe(`guard() with the ${name}`, () => {
    let decider: ObservedDecider;
    let stop: () => Promise<void>;
    before(async () => ({ decider, stop } = await start()));
    after(() => stop());

    /** A tool that counts its runs: the proof that a refused call never ran. */
    function payTool() {
      const runs: unknown[][] = [];
      const pay = (to: string, amount: number, user: string): { paid: number; to: string } => {
        runs.push([to, amount, user]);
        return { paid: amount, to };
      };
      const guarded = guard(decider, { agent: "api-bot", user: (_to, _amount, user) => user, action: "pay", resource: (to) => `account:${to}`, metadata: (to, amount) => ({ to, amount }) }, pay);
      return { runs, guarded };
    }

    it("runs an allowed call with its arguments and returns its result, typed as the function's", async () => {
      const { runs, guarded } = payTool();
      const result: { paid: number; to: string } = await guarded("bob", 20, "alice");
      expect(result).to.deep.equal({ paid: 20, to: "bob" });
      expect(runs).to.deep.equal([["bob", 20, "alice"]]);
      const asked = decider.seen.at(-1)!;
      expect([asked.agent, asked.user, asked.action, asked.resource, asked.metadata]).to.deep.equal(["api-bot", "alice", "pay", "account:bob", { to: "bob", amount: 20 }]);
    });

    it("throws AuthorizationDeniedError carrying the decision; the function never runs", async () => {
      const runs: string[] = [];
      const remove = guard(decider, { agent: "api-bot", user: "alice", action: "delete:/orders/1" }, (id: string) => runs.push(id));
      const e = (await rejection(remove("1"))) as AuthorizationDeniedError;
      expect(isAuthorizationDeniedError(e)).to.equal(true);
      expect([e.decision.allowed, e.decision.reason, e.request.action]).to.deep.equal([false, "Action 'delete:/orders/1' denied by profile 'api-bot'", "delete:/orders/1"]);
      expect(e.decision.decisionId).to.match(/^[0-9a-f-]{36}$/);
      expect(e.message).to.contain(e.decision.decisionId);
      expect(runs).to.deep.equal([]);
    });

    it("throws ApprovalRequiredError carrying the decision when approval is needed; the function never runs", async () => {
      const { runs, guarded } = payTool();
      const e = (await rejection(guarded("mallory", 5000, "alice"))) as ApprovalRequiredError;
      expect(isApprovalRequiredError(e)).to.equal(true);
      expect([e.decision.allowed, e.decision.requiresApproval, e.decision.tier, e.decision.approvalPolicy, e.approval]).to.deep.equal([true, true, "strong", "big-payment", undefined]);
      expect(runs).to.deep.equal([]);
    });

    it("passes the session and scope, and keeps `this`", async () => {
      const counter = {
        base: 10,
        add: guard(decider, { agent: "api-bot", user: "alice", action: "read", scope: "s", session: (n: number) => (n > 100 ? "no-such-session" : undefined) }, function (this: { base: number }, n: number) {
          return this.base + n;
        }),
      };
      expect(await counter.add(1)).to.equal(11);
      expect(decider.seen.at(-1)!.scope).to.equal("s");
      const e = (await rejection(counter.add(101))) as AuthorizationDeniedError;
      expect(e.decision.reason).to.equal("Invalid or expired session");
    });
  });
}

describe("guard() when no decision can be had", () => {
  it("rethrows the decider's error and never runs the function (fail closed)", async () => {
    const decider = unreachableDecider();
    let ran = false;
    const tool = guard(decider, { agent: "api-bot", user: "alice", action: "read" }, () => (ran = true));
    const e = await rejection(tool());
    expect(isAgentAuthError(e) && e.code).to.equal("UNAVAILABLE");
    expect(ran).to.equal(false);
    decider.close();
  });
});
