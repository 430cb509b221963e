import { expect } from "chai";
import { ManualClock } from "../../src/model/clock.ts";
import type { ApprovalRecord, ApprovalRedemption } from "../../src/state/approval-records.ts";
import type { OutcomeQuery } from "../../src/state/outcome.ts";
import type { StateStore } from "../../src/state/store.ts";
import type { StoreFixture } from "./contract.ts";

let seq = 0;
const newId = (): string => `ap-${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

/** A pending task created now: 60 s to answer, 1 use, 1 h of history. */
export function approvalRecord(clock: ManualClock, over: Partial<ApprovalRecord> = {}): ApprovalRecord {
  const now = clock.now();
  return {
    id: newId(),
    status: "pending",
    agent: "assistant",
    user: "alice",
    action: "payments:send",
    resource: "acct-1",
    scope: "",
    sessionId: "",
    metadataDigest: "d".repeat(64),
    binding: "b".repeat(64),
    tier: "strong",
    approvalPolicy: "big-payments",
    policyRevision: "rev-1",
    justification: "rent",
    requestedBy: "assistant",
    idempotencyKey: "",
    callbackUrl: "",
    requestDecisionId: "dec-1",
    createdAt: now,
    expiresAt: now + 60_000,
    decidedAt: 0,
    decidedBy: "",
    comment: "",
    maxUses: 1,
    usesLeft: 1,
    historyMs: 3_600_000,
    ...over,
  };
}

const query = (approval: ApprovalRedemption, over: Partial<OutcomeQuery> = {}): OutcomeQuery => ({
  sessionId: "",
  agent: "assistant",
  user: "alice",
  scope: "",
  action: "payments:send",
  delegations: false,
  approval,
  ...over,
});

/**
 * The approvals part of the state store contract: every backend keeps tasks,
 * moves them once out of pending, expires them by the clock (the first read
 * stores it and says so), bounds pending tasks, honours idempotency keys,
 * lists them in pages and redeems approvals in the decision's one read.
 */
export function runApprovalContract(name: string, fixture: StoreFixture): void {
  describe(`StateStore contract, approvals: ${name}`, () => {
    let clock: ManualClock;
    let store: StateStore;

    beforeEach(async () => {
      clock = new ManualClock(Date.UTC(2030, 0, 1));
      store = await fixture.create(clock);
    });
    afterEach(async () => {
      await fixture.destroy(store);
    });

    const approve = async (r: ApprovalRecord, by = "carol"): Promise<void> => {
      const c = await store.approvals.transition(r.id, { to: "approved", at: clock.now(), by, comment: "ok", expiresAt: clock.now() + 30_000 });
      expect(c.kind).to.equal("changed");
    };

    it("round-trips a task and returns undefined for an unknown one", async () => {
      const r = approvalRecord(clock, { resource: "ünïcode ✓", comment: "" });
      expect(await store.approvals.create(r, 10)).to.deep.equal({ kind: "created", record: r });
      expect(await store.approvals.get(r.id)).to.deep.equal({ record: r, expiredNow: false });
      expect(await store.approvals.get("no-such-task")).to.equal(undefined);
    });

    it("approves a pending task once; a terminal task never changes again", async () => {
      const r = approvalRecord(clock);
      await store.approvals.create(r, 10);
      clock.advance(5);
      const c = await store.approvals.transition(r.id, { to: "approved", at: clock.now(), by: "carol", comment: "fine", expiresAt: clock.now() + 30_000 });
      expect(c).to.deep.equal({ kind: "changed", record: { ...r, status: "approved", decidedAt: clock.now(), decidedBy: "carol", comment: "fine", expiresAt: clock.now() + 30_000 } });
      for (const to of ["approved", "denied", "cancelled"] as const) {
        const again = await store.approvals.transition(r.id, { to, at: clock.now(), by: "dave", comment: "", expiresAt: clock.now() + 1 });
        expect(again.kind).to.equal("terminal");
        if (again.kind === "terminal") expect(again.read.record).to.deep.include({ status: "approved", decidedBy: "carol" });
      }
      const denied = approvalRecord(clock);
      await store.approvals.create(denied, 10);
      const d = await store.approvals.transition(denied.id, { to: "denied", at: clock.now(), by: "carol", comment: "no", expiresAt: clock.now() + 30_000 });
      expect(d.kind === "changed" && d.record).to.deep.include({ status: "denied", expiresAt: clock.now() });
      expect((await store.approvals.transition(denied.id, { to: "approved", at: clock.now(), by: "x", comment: "", expiresAt: 0 })).kind).to.equal("terminal");
      expect((await store.approvals.transition("no-such-task", { to: "cancelled", at: clock.now(), by: "x", comment: "", expiresAt: 0 })).kind).to.equal("not_found");
    });

    it("expires a pending task at expiresAt: the first read stores it and says so, later reads do not", async () => {
      const r = approvalRecord(clock);
      await store.approvals.create(r, 10);
      clock.advance(59.999);
      expect((await store.approvals.get(r.id))?.record.status).to.equal("pending");
      clock.advance(0.001);
      expect(await store.approvals.get(r.id)).to.deep.equal({ record: { ...r, status: "expired" }, expiredNow: true });
      expect(await store.approvals.get(r.id)).to.deep.equal({ record: { ...r, status: "expired" }, expiredNow: false });
      const late = await store.approvals.transition(r.id, { to: "approved", at: clock.now(), by: "carol", comment: "", expiresAt: clock.now() + 1000 });
      expect(late.kind === "terminal" && late.read).to.deep.equal({ record: { ...r, status: "expired" }, expiredNow: false });
    });

    it("a transition that meets an expired task reports the expiry (once) and changes nothing", async () => {
      const r = approvalRecord(clock);
      await store.approvals.create(r, 10);
      clock.advance(61);
      const late = await store.approvals.transition(r.id, { to: "approved", at: clock.now(), by: "carol", comment: "", expiresAt: clock.now() + 1000 });
      expect(late.kind === "terminal" && late.read.expiredNow).to.equal(true);
    });

    it("keeps a finished task for its history, then forgets it", async () => {
      const r = approvalRecord(clock);
      await store.approvals.create(r, 10);
      await store.approvals.transition(r.id, { to: "cancelled", at: clock.now(), by: "assistant", comment: "", expiresAt: clock.now() });
      clock.advance(3599);
      expect((await store.approvals.get(r.id))?.record.status).to.equal("cancelled");
      clock.advance(1);
      expect(await store.approvals.get(r.id)).to.equal(undefined);
    });

    it("bounds pending tasks per agent and user; decided and expired ones do not count", async () => {
      const a = approvalRecord(clock);
      const b = approvalRecord(clock, { expiresAt: clock.now() + 10_000 });
      expect((await store.approvals.create(a, 2)).kind).to.equal("created");
      expect((await store.approvals.create(b, 2)).kind).to.equal("created");
      expect(await store.approvals.create(approvalRecord(clock), 2)).to.deep.equal({ kind: "limit", pending: 2 });
      // Another user, another agent: their own bounds.
      expect((await store.approvals.create(approvalRecord(clock, { user: "bob" }), 2)).kind).to.equal("created");
      expect((await store.approvals.create(approvalRecord(clock, { agent: "other" }), 2)).kind).to.equal("created");
      await approve(a);
      expect((await store.approvals.create(approvalRecord(clock), 2)).kind).to.equal("created");
      expect((await store.approvals.create(approvalRecord(clock), 2)).kind).to.equal("limit");
      clock.advance(10);
      expect((await store.approvals.create(approvalRecord(clock), 2)).kind).to.equal("created");
    });

    it("returns the task an idempotency key names instead of creating another", async () => {
      const r = approvalRecord(clock, { idempotencyKey: "k-1:none" });
      await store.approvals.create(r, 10);
      const again = await store.approvals.create(approvalRecord(clock, { idempotencyKey: "k-1:none", justification: "other" }), 10);
      expect(again).to.deep.equal({ kind: "existing", read: { record: r, expiredNow: false } });
      // The key is per agent and user.
      expect((await store.approvals.create(approvalRecord(clock, { idempotencyKey: "k-1:none", user: "bob" }), 10)).kind).to.equal("created");
      expect((await store.approvals.list({}, { limit: 100 })).records).to.have.length(2);
    });

    it("lists tasks oldest first in pages, filtered by status now, agent and user, reporting expiries once", async () => {
      const made: ApprovalRecord[] = [];
      for (let i = 0; i < 7; i++) {
        const r = approvalRecord(clock, { user: i % 2 === 0 ? "alice" : "bob", expiresAt: clock.now() + (i === 3 ? 1000 : 60_000) });
        made.push(r);
        await store.approvals.create(r, 100);
        clock.advance(0.01);
      }
      await approve(made[0]!);
      clock.advance(2);
      const seen: string[] = [];
      let after = "";
      let pages = 0;
      const expired: string[] = [];
      do {
        const page = await store.approvals.list({}, { after, limit: 3 });
        seen.push(...page.records.map((r) => r.id));
        expired.push(...page.expiredNow.map((r) => r.id));
        after = page.next;
        pages++;
      } while (after !== "");
      expect(seen).to.deep.equal(made.map((r) => r.id));
      expect(pages).to.be.at.least(3);
      expect(expired).to.deep.equal([made[3]!.id]);
      expect((await store.approvals.list({ status: "expired" }, { limit: 100 })).records.map((r) => r.id)).to.deep.equal([made[3]!.id]);
      expect((await store.approvals.list({ status: "approved" }, { limit: 100 })).records.map((r) => r.id)).to.deep.equal([made[0]!.id]);
      expect((await store.approvals.list({ user: "bob", status: "pending" }, { limit: 100 })).records.map((r) => r.id)).to.deep.equal([made[1]!.id, made[5]!.id]);
      expect((await store.approvals.list({ agent: "nobody" }, { limit: 100 })).records).to.deep.equal([]);
    });

    it("reports an expiry a listing finds even when the task does not match its filter", async () => {
      const r = approvalRecord(clock, { expiresAt: clock.now() + 1000 });
      await store.approvals.create(r, 10);
      clock.advance(1);
      const page = await store.approvals.list({ status: "approved" }, { limit: 10 });
      expect(page.records).to.deep.equal([]);
      expect(page.expiredNow.map((x) => x.id)).to.deep.equal([r.id]);
      expect((await store.approvals.get(r.id))?.expiredNow).to.equal(false);
    });

    describe("redemption in resolveOutcome", () => {
      const redemption = (r: ApprovalRecord, over: Partial<ApprovalRedemption> = {}): ApprovalRedemption => ({ id: r.id, binding: r.binding, rankIfGrant: 2, rankIfNoGrant: 2, ...over });

      it("spends one use of an approved task, then says it is used", async () => {
        const r = approvalRecord(clock, { maxUses: 2, usesLeft: 2 });
        await store.approvals.create(r, 10);
        await approve(r);
        expect((await store.resolveOutcome(query(redemption(r)))).approval).to.deep.equal({ kind: "redeemed", approvedBy: "carol", usesLeft: 1 });
        expect((await store.approvals.get(r.id))?.record).to.deep.include({ status: "approved", usesLeft: 1 });
        expect((await store.resolveOutcome(query(redemption(r)))).approval).to.deep.equal({ kind: "redeemed", approvedBy: "carol", usesLeft: 0 });
        expect((await store.approvals.get(r.id))?.record).to.deep.include({ status: "used", usesLeft: 0, expiresAt: clock.now() });
        expect((await store.resolveOutcome(query(redemption(r)))).approval).to.deep.equal({ kind: "unusable", status: "used", expiredNow: false });
      });

      it("consumes nothing and says why when the approval cannot be used", async () => {
        const r = approvalRecord(clock);
        await store.approvals.create(r, 10);
        expect((await store.resolveOutcome(query(redemption(r)))).approval).to.deep.equal({ kind: "unusable", status: "pending", expiredNow: false });
        expect((await store.resolveOutcome(query(redemption(r, { id: "no-such-task" })))).approval).to.deep.equal({ kind: "unusable", status: "unknown", expiredNow: false });
        await approve(r);
        expect((await store.resolveOutcome(query(redemption(r, { binding: "c".repeat(64) })))).approval).to.deep.equal({ kind: "unusable", status: "mismatch", expiredNow: false });
        const soft = approvalRecord(clock, { tier: "soft" });
        await store.approvals.create(soft, 10);
        await approve(soft);
        // The decision now needs strong approval; soft was approved.
        expect((await store.resolveOutcome(query(redemption(soft)))).approval).to.deep.equal({ kind: "unusable", status: "mismatch", expiredNow: false });
        expect((await store.approvals.get(soft.id))?.record.usesLeft).to.equal(1);
        expect((await store.approvals.get(r.id))?.record.usesLeft).to.equal(1);
        const denied = approvalRecord(clock);
        await store.approvals.create(denied, 10);
        await store.approvals.transition(denied.id, { to: "denied", at: clock.now(), by: "carol", comment: "", expiresAt: 0 });
        expect((await store.resolveOutcome(query(redemption(denied)))).approval).to.deep.equal({ kind: "unusable", status: "denied", expiredNow: false });
      });

      it("expires an approval at the end of its grant; the redemption that finds it says so once", async () => {
        const r = approvalRecord(clock);
        await store.approvals.create(r, 10);
        await approve(r);
        clock.advance(30);
        expect((await store.resolveOutcome(query(redemption(r)))).approval).to.deep.equal({ kind: "unusable", status: "expired", expiredNow: true });
        expect((await store.resolveOutcome(query(redemption(r)))).approval).to.deep.equal({ kind: "unusable", status: "expired", expiredNow: false });
      });

      it("does not look at the approval when the session check fails or the decision needs no approval", async () => {
        const r = approvalRecord(clock);
        await store.approvals.create(r, 10);
        await approve(r);
        const badSession = await store.resolveOutcome(query(redemption(r), { sessionId: "no-such-session" }));
        expect(badSession.kind).to.equal("session_invalid");
        expect(badSession.approval).to.deep.equal({ kind: "skipped" });
        expect((await store.resolveOutcome(query(redemption(r, { rankIfNoGrant: -1 })))).approval).to.deep.equal({ kind: "skipped" });
        expect((await store.approvals.get(r.id))?.record.usesLeft).to.equal(1);
      });

      it("uses the rank of the decision the grant picks", async () => {
        const r = approvalRecord(clock, { agent: "assistant", user: "alice" });
        await store.approvals.create(r, 10);
        await approve(r);
        await store.delegations.create({ id: newId(), fromUser: "alice", toAgent: "assistant", actions: ["payments:*"], createdAt: clock.now(), expiresAt: clock.now() + 60_000, reason: "" });
        const withGrant = await store.resolveOutcome(query(redemption(r, { rankIfGrant: -1, rankIfNoGrant: 2 }), { delegations: true }));
        expect(withGrant.kind === "ok" && withGrant.grant !== undefined).to.equal(true);
        expect(withGrant.approval).to.deep.equal({ kind: "skipped" });
        expect((await store.resolveOutcome(query(redemption(r, { rankIfGrant: 2, rankIfNoGrant: -1 }), { delegations: true }))).approval).to.deep.include({ kind: "redeemed" });
      });

      it("leaves decisions without an approval as they were", async () => {
        expect(await store.resolveOutcome({ sessionId: "", agent: "a", user: "u", scope: "", action: "x", delegations: false })).to.deep.equal({ kind: "ok", grant: undefined });
      });
    });
  });
}
