import { expect } from "chai";
import { isAgentAuthError } from "../../src/client/index.ts";
import { guard, isApprovalRequiredError, isAuthorizationDeniedError, type ApprovalRequiredError, type AuthorizationDeniedError } from "../../src/integrations/guard/index.ts";
import type { Decider } from "../../src/client/index.ts";
import { DECIDERS, unreachableDecider, type Answer, type ObservedDecider } from "../support/integrations.ts";

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
    let answer: Answer;
    let stop: () => Promise<void>;
    before(async () => ({ decider, answer, stop } = await start()));
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

    it("throws ApprovalRequiredError carrying the decision and the task it requested; the function never runs", async () => {
      const { runs, guarded } = payTool();
      const e = (await rejection(guarded("mallory", 5000, "alice"))) as ApprovalRequiredError;
      expect(isApprovalRequiredError(e)).to.equal(true);
      expect([e.decision.allowed, e.decision.requiresApproval, e.decision.tier, e.decision.approvalPolicy]).to.deep.equal([true, true, "strong", "big-payment"]);
      expect(e.approval!.status).to.equal("pending");
      expect(e.approval!.id).to.match(/^[0-9a-f-]{36}$/);
      expect(Date.parse(e.approval!.expiresAt!)).to.be.greaterThan(Date.now());
      expect(e.message).to.contain(e.approval!.id);
      const task = await decider.getApproval!(e.approval!.id);
      expect([task!.status, (task as { action?: string }).action]).to.deep.equal(["pending", "pay"]);
      expect(runs).to.deep.equal([]);
    });

    it("asks once per distinct call: the same call gets the same task (also from another guard), other arguments another task", async () => {
      const first = payTool();
      const a = (await rejection(first.guarded("trent", 5001, "alice"))) as ApprovalRequiredError;
      const again = (await rejection(first.guarded("trent", 5001, "alice"))) as ApprovalRequiredError;
      const elsewhere = (await rejection(payTool().guarded("trent", 5001, "alice"))) as ApprovalRequiredError;
      const other = (await rejection(first.guarded("trent", 5002, "alice"))) as ApprovalRequiredError;
      expect([again.approval!.id, elsewhere.approval!.id]).to.deep.equal([a.approval!.id, a.approval!.id]);
      expect(other.approval!.id).to.not.equal(a.approval!.id);
    });

    it("once the task is approved, the same call is redeemed and runs — once: the next one needs a new approval", async () => {
      const { runs, guarded } = payTool();
      const e = (await rejection(guarded("victor", 7000, "alice"))) as ApprovalRequiredError;
      await answer(e.approval!.id, true);
      expect(await guarded("victor", 7000, "alice")).to.deep.equal({ paid: 7000, to: "victor" });
      expect(runs).to.deep.equal([["victor", 7000, "alice"]]);
      const redeemed = decider.seen.at(-1)!;
      expect(redeemed.approvalId).to.equal(e.approval!.id);
      const next = (await rejection(guarded("victor", 7000, "alice"))) as ApprovalRequiredError;
      expect(next.approval!.status).to.equal("pending");
      expect(next.approval!.id).to.not.equal(e.approval!.id);
      expect(runs).to.have.length(1);
    });

    it("an approved task is not redeemed by a call with other arguments", async () => {
      const { runs, guarded } = payTool();
      const e = (await rejection(guarded("wendy", 8000, "alice"))) as ApprovalRequiredError;
      await answer(e.approval!.id, true);
      const other = (await rejection(guarded("wendy", 80000, "alice"))) as ApprovalRequiredError;
      expect(other.approval!.id).to.not.equal(e.approval!.id);
      expect(runs).to.deep.equal([]);
    });

    it("a task the approver denied makes the same call throw AuthorizationDeniedError with the task, once; the next call asks again", async () => {
      const { runs, guarded } = payTool();
      const e = (await rejection(guarded("oscar", 9000, "alice"))) as ApprovalRequiredError;
      await answer(e.approval!.id, false, "sec-lead", "not this week");
      const denied = (await rejection(guarded("oscar", 9000, "alice"))) as AuthorizationDeniedError;
      expect(isAuthorizationDeniedError(denied)).to.equal(true);
      expect([denied.approval!.id, denied.approval!.status, denied.approval!.decidedBy]).to.deep.equal([e.approval!.id, "denied", "sec-lead"]);
      expect(denied.message).to.contain("not this week");
      const asked = (await rejection(guarded("oscar", 9000, "alice"))) as ApprovalRequiredError;
      expect([asked.approval!.status, asked.approval!.id === e.approval!.id]).to.deep.equal(["pending", false]);
      expect(runs).to.deep.equal([]);
    });

    /** The decider, telling the test which task the guard started waiting for. */
    function watched(): { decider: Decider; waiting: Promise<string> } {
      let started!: (id: string) => void;
      const waiting = new Promise<string>((resolve) => (started = resolve));
      return {
        waiting,
        decider: {
          authorize: (r) => decider.authorize(r),
          requestApproval: (r) => decider.requestApproval!(r),
          getApproval: (id) => decider.getApproval!(id),
          waitForApproval: (id, o) => (started(id), decider.waitForApproval!(id, o)),
        },
      };
    }

    it("with waitForApproval, waits for the approver and runs the call once it is approved", async () => {
      const { decider: d, waiting } = watched();
      const runs: number[] = [];
      const pay = guard(d, { agent: "api-bot", user: "alice", action: "pay", metadata: (amount: number) => ({ amount }), waitForApproval: 60_000 }, (amount: number) => (runs.push(amount), `paid ${amount}`));
      const call = pay(4321);
      const id = await waiting;
      expect(runs).to.deep.equal([]);
      await answer(id, true, "sec-lead");
      expect(await call).to.equal("paid 4321");
      expect(runs).to.deep.equal([4321]);
      expect((await decider.getApproval!(id))!.status).to.equal("used");
    });

    it("with waitForApproval, a denial throws AuthorizationDeniedError carrying the task; the function never runs", async () => {
      const { decider: d, waiting } = watched();
      let ran = false;
      const pay = guard(d, { agent: "api-bot", user: "alice", action: "pay", metadata: (amount: number) => ({ amount }), waitForApproval: 60_000 }, () => (ran = true));
      const call = rejection(pay(4322));
      const id = await waiting;
      await answer(id, false, "sec-lead", "no");
      const e = (await call) as AuthorizationDeniedError;
      expect(isAuthorizationDeniedError(e)).to.equal(true);
      expect([e.approval!.id, e.approval!.status]).to.deep.equal([id, "denied"]);
      expect(ran).to.equal(false);
    });

    it("with waitForApproval, a wait that ends unanswered throws ApprovalRequiredError with the pending task; an abort ends it with the signal's reason", async () => {
      let ran = false;
      const timedOut = guard(decider, { agent: "api-bot", user: "alice", action: "pay", metadata: { amount: 4323 }, waitForApproval: 0 }, () => (ran = true));
      const e = (await rejection(timedOut())) as ApprovalRequiredError;
      expect([isApprovalRequiredError(e), e.approval!.status]).to.deep.equal([true, "pending"]);
      const controller = new AbortController();
      const { decider: d, waiting } = watched();
      const aborted = guard(d, { agent: "api-bot", user: "alice", action: "pay", metadata: { amount: 4324 }, waitForApproval: 600_000, signal: controller.signal }, () => (ran = true));
      const call = rejection(aborted());
      await waiting;
      controller.abort(new Error("user gave up"));
      expect(((await call) as Error).message).to.equal("user gave up");
      expect(ran).to.equal(false);
    });

    it("requestApproval: false reports the decision alone", async () => {
      const quiet = guard(decider, { agent: "api-bot", user: "alice", action: "pay", metadata: { amount: 4325 }, requestApproval: false }, () => 1);
      const e = (await rejection(quiet())) as ApprovalRequiredError;
      expect([e.decision.requiresApproval, e.approval]).to.deep.equal([true, undefined]);
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
