import { expect } from "chai";
import { AuditHub } from "../../src/audit/hub.ts";
import { APPROVAL_EVENT_KINDS, type AuditEvent } from "../../src/audit/event.ts";
import { ApprovalError, isApprovalError, type ApprovalErrorCode, type ApprovalTask } from "../../src/approvals/types.ts";
import { parseConfig } from "../../src/config/parse-config.ts";
import { AuthEngine } from "../../src/embedded-engine.ts";
import { ManualClock } from "../../src/model/clock.ts";
import type { AuthRequest } from "../../src/model/types.ts";
import { createMemoryStore } from "../../src/state/memory/memory-store.ts";
import { createRedisStore } from "../../src/state/redis/redis-store.ts";
import type { StateStore } from "../../src/state/store.ts";
import { deletePrefix, redisTestUrl, testPrefix } from "../support/redis.ts";

/** Payments need soft approval, large ones strong; deploys are denied; reads are autonomous. */
const POLICY = `
version: "1.0"
profiles:
  assistant:
    allow: ["payments:*", read]
    deny: [deploy]
approval_policies:
  - name: large-payment
    condition: 'action == "payments:send" and amount > 1000'
    tier: strong
  - name: any-payment
    condition: 'action starts_with "payments:"'
    tier: soft
approvals:
  pending_ttl: 600
  grant_ttl: 60
  max_uses: 1
  max_pending: 3
  approvers:
    soft: [self, "lead-*"]
    strong: ["sec-*", alice]
`;

const pay = (amount: number, over: Partial<AuthRequest> = {}): AuthRequest => ({
  agent: "assistant",
  user: "alice",
  action: "payments:send",
  resource: "acct-1",
  metadata: { amount, currency: "EUR" },
  ...over,
});

async function rejection(p: Promise<unknown>): Promise<ApprovalError> {
  try {
    await p;
  } catch (e) {
    if (isApprovalError(e)) return e;
    throw e;
  }
  throw new Error("expected an ApprovalError");
}

async function expectCode(p: Promise<unknown>, code: ApprovalErrorCode, message?: RegExp): Promise<ApprovalError> {
  const e = await rejection(p);
  expect(e.code, e.message).to.equal(code);
  if (message !== undefined) expect(e.message).to.match(message);
  return e;
}

interface Backend {
  readonly name: string;
  store(clock: ManualClock): Promise<StateStore | undefined>;
}

const prefixes: string[] = [];
let redisUrl: string | undefined;
const backends: Backend[] = [
  { name: "memory", store: async (clock) => createMemoryStore({ clock }) },
  {
    name: "redis",
    async store(clock) {
      if (redisUrl === undefined) return undefined;
      const prefix = testPrefix("approvals");
      prefixes.push(prefix);
      const store = createRedisStore({ connection: { url: redisUrl }, prefix, clock });
      await store.ready(5000);
      return store;
    },
  },
];

describe("approvals through the engine", function () {
  before(async () => {
    redisUrl = await redisTestUrl();
  });
  after(async () => {
    if (redisUrl !== undefined) for (const p of prefixes) await deletePrefix(redisUrl, p);
  });

  for (const backend of backends) {
    describe(`${backend.name} store`, () => {
      let clock: ManualClock;
      let hub: AuditHub;
      let engine: AuthEngine;
      let store: StateStore;

      beforeEach(async function () {
        clock = new ManualClock(Date.UTC(2031, 5, 1));
        const s = await backend.store(clock);
        if (s === undefined) this.skip();
        store = s;
        hub = new AuditHub({ clock });
        engine = new AuthEngine(parseConfig(POLICY), { store, clock, audit: [hub] });
      });
      afterEach(async () => {
        await engine?.close();
        await store?.close();
      });

      const approvalEvents = async (): Promise<AuditEvent[]> => (await hub.query({ filter: { kinds: [...APPROVAL_EVENT_KINDS] }, limit: 1000 })).entries.map((e) => e.event);
      const decisions = async (): Promise<AuditEvent[]> => (await hub.query({ limit: 1000 })).entries.map((e) => e.event);

      it("requests, approves and redeems once: pending, approved, then used", async () => {
        const { decision, task } = await engine.requestApproval({ ...pay(50), justification: "rent", idempotencyKey: "k1" });
        expect(decision).to.deep.include({ allowed: true, tier: "soft", requiresApproval: true, approvalPolicy: "any-payment" });
        expect(task).to.deep.include({
          status: "pending",
          agent: "assistant",
          user: "alice",
          action: "payments:send",
          resource: "acct-1",
          tier: "soft",
          approvalPolicy: "any-payment",
          policyRevision: engine.revision,
          justification: "rent",
          requestedBy: "assistant",
          idempotencyKey: "k1",
          createdAt: new Date(clock.now()).toISOString(),
          expiresAt: new Date(clock.now() + 600_000).toISOString(),
          decidedAt: "",
          maxUses: 1,
          usesLeft: 1,
          requestDecisionId: decision.decisionId,
        });
        expect(task.metadataDigest).to.match(/^[0-9a-f]{64}$/);

        // Before approval: the normal decision, nothing consumed.
        const early = await engine.authorize({ ...pay(50), approvalId: task.id });
        expect(early).to.deep.include({ allowed: true, requiresApproval: true, approvalStatus: "pending", approvalId: task.id });

        clock.advance(10);
        const approved = await engine.decideApproval({ id: task.id, approve: true, approver: "lead-bob", comment: "ok" });
        expect(approved).to.deep.include({ status: "approved", decidedBy: "lead-bob", comment: "ok", decidedAt: new Date(clock.now()).toISOString(), expiresAt: new Date(clock.now() + 60_000).toISOString() });

        const redeemed = await engine.authorize({ ...pay(50), metadata: { currency: "EUR", amount: 50 }, approvalId: task.id });
        expect(redeemed).to.deep.include({
          allowed: true,
          tier: "soft",
          requiresApproval: false,
          approvalPolicy: "any-payment",
          reason: `Approved by 'lead-bob' (approval ${task.id})`,
          approvalId: task.id,
          approvedBy: "lead-bob",
          approvalStatus: "",
        });
        expect(redeemed.toJSON()).to.deep.include({ approval_id: task.id, approved_by: "lead-bob", approval_status: "" });
        expect((await engine.getApproval(task.id))?.status).to.equal("used");

        const again = await engine.authorize({ ...pay(50), approvalId: task.id });
        expect(again).to.deep.include({ allowed: true, requiresApproval: true, approvalStatus: "used", approvedBy: "" });

        const kinds = (await approvalEvents()).map((e) => [e.kind, e.approval?.taskId, e.approval?.status, e.approval?.by]);
        expect(kinds).to.deep.equal([
          ["approval_requested", task.id, "pending", "assistant"],
          ["approval_approved", task.id, "approved", "lead-bob"],
          ["approval_redeemed", task.id, "used", "lead-bob"],
        ]);
        const events = await approvalEvents();
        expect(events[0]!.approval!.linkedDecisionId).to.equal(decision.decisionId);
        expect(events[2]!.approval!.linkedDecisionId).to.equal(redeemed.decisionId);
        // Decisions only, unless asked: the three decisions, no approval events.
        const plain = await decisions();
        expect(plain.map((e) => e.kind)).to.deep.equal([undefined, undefined, undefined, undefined]);
        expect(plain.at(-2)!.decision.approval).to.deep.equal({ approvalId: task.id, approvedBy: "lead-bob", approvalStatus: "" });
      });

      it("refuses to open a task for a denied request or one that needs no approval", async () => {
        await expectCode(engine.requestApproval({ agent: "assistant", user: "alice", action: "deploy" }), "not_requestable", /denied, not requestable: Action 'deploy' denied/);
        await expectCode(engine.requestApproval({ agent: "assistant", user: "alice", action: "read" }), "not_requestable", /needs no approval/);
        expect((await engine.listApprovals({}, { limit: 10 })).tasks).to.deep.equal([]);
      });

      it("applies the four-eyes rule and the approver patterns", async () => {
        const { task: strong } = await engine.requestApproval(pay(5000));
        expect(strong.tier).to.equal("strong");
        // alice is listed under strong, but she is the request's user: four eyes win.
        await expectCode(engine.decideApproval({ id: strong.id, approve: true, approver: "alice" }), "not_allowed", /four-eyes rule: 'alice' is the request's user/);
        await expectCode(engine.decideApproval({ id: strong.id, approve: true, approver: "assistant" }), "not_allowed", /four-eyes rule: the requesting agent/);
        await expectCode(engine.decideApproval({ id: strong.id, approve: true, approver: "lead-bob" }), "not_allowed", /not an approver of strong-tier requests/);
        expect((await engine.getApproval(strong.id))?.status).to.equal("pending");
        expect((await engine.decideApproval({ id: strong.id, approve: false, approver: "sec-eve", comment: "no" })).status).to.equal("denied");

        const { task: soft } = await engine.requestApproval(pay(20));
        await expectCode(engine.decideApproval({ id: soft.id, approve: true, approver: "bob" }), "not_allowed", /'bob' is not an approver of soft-tier requests/);
        // self: the request's own user may approve soft.
        expect((await engine.decideApproval({ id: soft.id, approve: true, approver: "alice" })).status).to.equal("approved");
      });

      it("never changes a terminal task and names unknown ones", async () => {
        const { task } = await engine.requestApproval(pay(20));
        await engine.decideApproval({ id: task.id, approve: false, approver: "lead-x" });
        const e = await expectCode(engine.decideApproval({ id: task.id, approve: true, approver: "lead-y" }), "terminal", /is denied/);
        expect(e.task?.status).to.equal("denied");
        await expectCode(engine.cancelApproval(task.id, "assistant"), "terminal");
        await expectCode(engine.decideApproval({ id: "nope", approve: true, approver: "lead-y" }), "not_found");
        await expectCode(engine.cancelApproval("nope", "assistant"), "not_found");
        expect(await engine.getApproval("nope")).to.equal(undefined);
        const denied = await engine.authorize({ ...pay(20), approvalId: task.id });
        expect(denied).to.deep.include({ requiresApproval: true, approvalStatus: "denied" });
        expect((await engine.authorize({ ...pay(20), approvalId: "nope" })).approvalStatus).to.equal("unknown");
      });

      it("cancels a pending task", async () => {
        const { task } = await engine.requestApproval(pay(20));
        expect(await engine.cancelApproval(task.id, "assistant")).to.deep.include({ status: "cancelled", decidedBy: "assistant" });
        await expectCode(engine.decideApproval({ id: task.id, approve: true, approver: "lead-x" }), "terminal");
        expect((await approvalEvents()).map((e) => e.kind)).to.deep.equal(["approval_requested", "approval_cancelled"]);
      });

      it("is idempotent by key for the same request, and refuses the key for another", async () => {
        const first = await engine.requestApproval({ ...pay(20), idempotencyKey: "same" });
        const second = await engine.requestApproval({ ...pay(20), idempotencyKey: "same" });
        expect(second.task.id).to.equal(first.task.id);
        await expectCode(engine.requestApproval({ ...pay(21), idempotencyKey: "same" }), "invalid", /idempotency key 'same' was used for another request/);
        expect((await engine.listApprovals({}, { limit: 10 })).tasks).to.have.length(1);
      });

      it("limits pending tasks per agent and user (approvals.max_pending)", async () => {
        for (let i = 0; i < 3; i++) await engine.requestApproval(pay(20 + i));
        await expectCode(engine.requestApproval(pay(99)), "limit", /has 3 pending approvals for user 'alice'; the limit is 3 \(approvals.max_pending\)/);
        await engine.requestApproval(pay(99, { user: "bob" }));
      });

      it("binds the exact request: any field or metadata value changed, nothing is redeemed", async () => {
        const { task } = await engine.requestApproval(pay(10));
        await engine.decideApproval({ id: task.id, approve: true, approver: "lead-x" });
        const variants: AuthRequest[] = [
          pay(10000),
          pay(10, { metadata: { amount: 10, currency: "USD" } }),
          pay(10, { metadata: { amount: 10, currency: "EUR", note: "x" } }),
          pay(10, { resource: "acct-2" }),
          pay(10, { action: "payments:refund" }),
          pay(10, { user: "bob" }),
          pay(10, { scope: "s" }),
        ];
        for (const v of variants) {
          const d = await engine.authorize({ ...v, approvalId: task.id });
          expect(d.approvalStatus, JSON.stringify(v)).to.equal("mismatch");
          expect(d.requiresApproval, JSON.stringify(v)).to.equal(true);
        }
        expect((await engine.getApproval(task.id))?.usesLeft).to.equal(1);
        expect((await engine.authorize({ ...pay(10), approvalId: task.id })).approvedBy).to.equal("lead-x");
      });

      it("re-decides on the current policy: a new revision still redeems; a higher tier or a deny does not", async () => {
        const { task } = await engine.requestApproval(pay(10));
        await engine.decideApproval({ id: task.id, approve: true, approver: "lead-x" });
        const before = engine.revision;
        // Every payment is now strong: soft was approved, strong is required.
        engine.setConfig(parseConfig(POLICY.replace("tier: soft", "tier: strong")));
        expect(engine.revision).to.not.equal(before);
        expect(await engine.authorize({ ...pay(10), approvalId: task.id })).to.deep.include({ tier: "strong", requiresApproval: true, approvalStatus: "mismatch" });
        // Payments denied outright: the normal deny, the approval not looked at.
        engine.setConfig(parseConfig(POLICY.replace("deny: [deploy]", 'deny: [deploy, "payments:*"]')));
        const denied = await engine.authorize({ ...pay(10), approvalId: task.id });
        expect(denied).to.deep.include({ allowed: false, approvalStatus: "", approvedBy: "" });
        // Another revision with the same tier: redeemed, on the new revision.
        engine.setConfig(parseConfig(POLICY.replace("pending_ttl: 600", "pending_ttl: 601")));
        const redeemed = await engine.authorize({ ...pay(10), approvalId: task.id });
        expect(redeemed).to.deep.include({ allowed: true, requiresApproval: false, approvedBy: "lead-x", policyRevision: engine.revision });
        expect(redeemed.policyRevision).to.not.equal(task.policyRevision);
      });

      it("expires pending tasks and grants by the clock, recording each expiry once", async () => {
        const { task: waiting } = await engine.requestApproval(pay(10));
        const { task: granted } = await engine.requestApproval(pay(11));
        await engine.decideApproval({ id: granted.id, approve: true, approver: "lead-x" });
        clock.advance(60);
        expect((await engine.authorize({ ...pay(11), approvalId: granted.id })).approvalStatus).to.equal("expired");
        expect((await engine.authorize({ ...pay(11), approvalId: granted.id })).approvalStatus).to.equal("expired");
        clock.advance(540);
        await expectCode(engine.decideApproval({ id: waiting.id, approve: true, approver: "lead-x" }), "terminal", /is expired/);
        expect((await engine.getApproval(waiting.id))?.status).to.equal("expired");
        expect((await engine.listApprovals({ status: "expired" }, { limit: 10 })).tasks.map((t: ApprovalTask) => t.id).sort()).to.deep.equal([waiting.id, granted.id].sort());
        const expiries = (await approvalEvents()).filter((e) => e.kind === "approval_expired").map((e) => e.approval!.taskId);
        expect(expiries.sort()).to.deep.equal([waiting.id, granted.id].sort());
        // Expired tasks no longer count against max_pending.
        for (let i = 0; i < 3; i++) await engine.requestApproval(pay(30 + i));
      });

      it("lists with filters and pages", async () => {
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          ids.push((await engine.requestApproval(pay(10 + i))).task.id);
          clock.advance(1);
        }
        ids.push((await engine.requestApproval(pay(10, { user: "bob" }))).task.id);
        await engine.decideApproval({ id: ids[1]!, approve: true, approver: "lead-x" });
        const all: string[] = [];
        let after = "";
        do {
          const page = await engine.listApprovals({}, { after, limit: 2 });
          all.push(...page.tasks.map((t) => t.id));
          after = page.next;
        } while (after !== "");
        expect(all).to.deep.equal(ids);
        expect((await engine.listApprovals({ status: "approved" }, { limit: 10 })).tasks.map((t) => t.id)).to.deep.equal([ids[1]]);
        expect((await engine.listApprovals({ user: "bob" }, { limit: 10 })).tasks.map((t) => t.id)).to.deep.equal([ids[3]]);
        await expectCode(engine.listApprovals({}, { limit: 0 }), "invalid", /limit/);
        await expectCode(engine.listApprovals({ status: "open" as "pending" }, { limit: 5 }), "invalid", /status/);
        await expectCode(engine.listApprovals({}, { after: "garbage", limit: 5 }), "invalid", /after/);
      });

      it("checks its inputs", async () => {
        await expectCode(engine.decideApproval({ id: "x", approve: true, approver: "" }), "invalid", /approver: is required/);
        await expectCode(engine.requestApproval({ ...pay(10), justification: "x".repeat(5000) }), "invalid", /justification/);
        let thrown: unknown;
        try {
          await engine.authorize({ ...pay(10), approvalId: 42 as unknown as string });
        } catch (e) {
          thrown = e;
        }
        expect(String(thrown)).to.match(/approval_id/);
      });

      it("a preview never spends an approval", async () => {
        const { task } = await engine.requestApproval(pay(10));
        await engine.decideApproval({ id: task.id, approve: true, approver: "lead-x" });
        await engine.preview({ ...pay(10), approvalId: task.id });
        expect((await engine.getApproval(task.id))?.usesLeft).to.equal(1);
      });
    });
  }
});
