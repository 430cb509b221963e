import { expect } from "chai";
import { ManualClock } from "../../src/engine/clock.ts";
import type { DelegationRecord, SessionRecord, StateStore } from "../../src/state/store.ts";

/** What a backend's test file provides to the shared contract suite. */
export interface StoreFixture {
  /** A fresh, empty store whose expiry follows `clock`. */
  create(clock: ManualClock): Promise<StateStore>;
  /** Releases what `create` made (keys, connections). */
  destroy(store: StateStore): Promise<void>;
}

let seq = 0;
const id = (prefix: string): string => `${prefix}-${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

function session(clock: ManualClock, over: Partial<SessionRecord> = {}): SessionRecord {
  const now = clock.now();
  return { id: id("s"), agent: "assistant", user: "alice", scope: "", createdAt: now, expiresAt: now + 60_000, ...over };
}

function delegation(clock: ManualClock, over: Partial<DelegationRecord> = {}): DelegationRecord {
  const now = clock.now();
  return {
    id: id("d"),
    fromUser: "alice",
    toAgent: "assistant",
    actions: ["read", "write:*"],
    grantedAt: now,
    expiresAt: now + 60_000,
    reason: "",
    ...over,
  };
}

/**
 * The state store contract. Every backend runs exactly this suite: sessions and
 * delegations round-trip, expire by the clock, stay readable as revoked until
 * they would have expired, and a decision's state comes back in one read.
 */
export function runStateStoreContract(name: string, fixture: StoreFixture): void {
  describe(`StateStore contract: ${name}`, () => {
    let clock: ManualClock;
    let store: StateStore;

    beforeEach(async () => {
      clock = new ManualClock(Date.UTC(2030, 0, 1));
      store = await fixture.create(clock);
    });
    afterEach(async () => {
      await fixture.destroy(store);
    });

    it("round-trips a session", async () => {
      const s = session(clock, { scope: "project:*" });
      await store.createSession(s);
      expect(await store.getSession(s.id)).to.deep.include({ ...s });
      expect((await store.getSession(s.id))?.revokedAt).to.equal(undefined);
    });

    it("returns undefined for an unknown session", async () => {
      expect(await store.getSession("no-such-session")).to.equal(undefined);
    });

    it("expires a session exactly at expiresAt", async () => {
      const s = session(clock, { expiresAt: clock.now() + 5000 });
      await store.createSession(s);
      clock.advance(4.999);
      expect(await store.getSession(s.id)).to.not.equal(undefined);
      clock.advance(0.001);
      expect(await store.getSession(s.id)).to.equal(undefined);
      expect(await store.listSessions()).to.deep.equal([]);
      expect((await store.fetchDecisionState({ sessionId: s.id, agent: s.agent, user: s.user, delegations: false })).session).to.equal(undefined);
    });

    it("keeps a revoked session readable as revoked until it would have expired", async () => {
      const s = session(clock);
      await store.createSession(s);
      clock.advance(10);
      const outcome = await store.revokeSession(s.id);
      expect(outcome.status).to.equal("revoked");
      const read = await store.getSession(s.id);
      expect(read?.revokedAt).to.equal(clock.now());
      expect((await store.fetchDecisionState({ sessionId: s.id, agent: s.agent, user: s.user, delegations: false })).session?.revokedAt).to.equal(clock.now());
      clock.advance(50);
      expect(await store.getSession(s.id)).to.equal(undefined);
    });

    it("reports a second revocation and an unknown id", async () => {
      const s = session(clock);
      await store.createSession(s);
      expect((await store.revokeSession(s.id)).status).to.equal("revoked");
      const again = await store.revokeSession(s.id);
      expect(again.status).to.equal("already_revoked");
      expect((await store.revokeSession("nope")).status).to.equal("not_found");
    });

    it("does not revoke an expired session", async () => {
      const s = session(clock, { expiresAt: clock.now() + 1000 });
      await store.createSession(s);
      clock.advance(1);
      expect((await store.revokeSession(s.id)).status).to.equal("not_found");
    });

    it("lists sessions by agent and user, oldest first, revoked only on request", async () => {
      const a = session(clock, { agent: "a1", user: "u1" });
      clock.advance(1);
      const b = session(clock, { agent: "a1", user: "u2" });
      clock.advance(1);
      const c = session(clock, { agent: "a2", user: "u1" });
      for (const s of [a, b, c]) await store.createSession(s);
      const ids = async (f: Parameters<StateStore["listSessions"]>[0]): Promise<string[]> => (await store.listSessions(f)).map((s) => s.id);
      expect(await ids({})).to.deep.equal([a.id, b.id, c.id]);
      expect(await ids({ agent: "a1" })).to.deep.equal([a.id, b.id]);
      expect(await ids({ user: "u1" })).to.deep.equal([a.id, c.id]);
      expect(await ids({ agent: "a1", user: "u2" })).to.deep.equal([b.id]);
      await store.revokeSession(a.id);
      expect(await ids({ agent: "a1" })).to.deep.equal([b.id]);
      expect(await ids({ agent: "a1", includeRevoked: true })).to.deep.equal([a.id, b.id]);
    });

    it("round-trips a delegation", async () => {
      const d = delegation(clock, { reason: "on call" });
      await store.createDelegation(d);
      const read = await store.getDelegation(d.id);
      expect(read).to.deep.include({ ...d, actions: d.actions });
      expect(read?.actions).to.deep.equal(["read", "write:*"]);
    });

    it("fetches the session and the agent's grants from that user in one read", async () => {
      const s = session(clock);
      await store.createSession(s);
      const first = delegation(clock);
      clock.advance(1);
      const otherUser = delegation(clock, { fromUser: "bob" });
      const otherAgent = delegation(clock, { toAgent: "reviewer" });
      clock.advance(1);
      const second = delegation(clock, { actions: ["deploy"] });
      for (const d of [first, otherUser, otherAgent, second]) await store.createDelegation(d);
      const state = await store.fetchDecisionState({ sessionId: s.id, agent: "assistant", user: "alice", delegations: true });
      expect(state.session?.id).to.equal(s.id);
      expect(state.delegations.map((d) => d.id)).to.deep.equal([first.id, second.id]);
      const noGrants = await store.fetchDecisionState({ sessionId: "", agent: "assistant", user: "alice", delegations: false });
      expect(noGrants.session).to.equal(undefined);
      expect(noGrants.delegations).to.deep.equal([]);
    });

    it("drops revoked and expired grants from decision state", async () => {
      const shortLived = delegation(clock, { expiresAt: clock.now() + 2000 });
      const revoked = delegation(clock);
      const kept = delegation(clock);
      for (const d of [shortLived, revoked, kept]) await store.createDelegation(d);
      expect((await store.revokeDelegation(revoked.id)).status).to.equal("revoked");
      expect((await store.revokeDelegation(revoked.id)).status).to.equal("already_revoked");
      clock.advance(2);
      const state = await store.fetchDecisionState({ sessionId: "", agent: "assistant", user: "alice", delegations: true });
      expect(state.delegations.map((d) => d.id)).to.deep.equal([kept.id]);
      expect((await store.getDelegation(revoked.id))?.revokedAt).to.be.a("number");
      expect(await store.getDelegation(shortLived.id)).to.equal(undefined);
    });

    it("lists delegations by receiving agent and granting user", async () => {
      const a = delegation(clock, { toAgent: "x", fromUser: "u1" });
      clock.advance(1);
      const b = delegation(clock, { toAgent: "x", fromUser: "u2" });
      clock.advance(1);
      const c = delegation(clock, { toAgent: "y", fromUser: "u1" });
      for (const d of [a, b, c]) await store.createDelegation(d);
      const ids = async (f: Parameters<StateStore["listDelegations"]>[0]): Promise<string[]> => (await store.listDelegations(f)).map((d) => d.id);
      expect(await ids({})).to.deep.equal([a.id, b.id, c.id]);
      expect(await ids({ agent: "x" })).to.deep.equal([a.id, b.id]);
      expect(await ids({ user: "u1" })).to.deep.equal([a.id, c.id]);
      await store.revokeDelegation(b.id);
      expect(await ids({ agent: "x" })).to.deep.equal([a.id]);
      expect(await ids({ agent: "x", includeRevoked: true })).to.deep.equal([a.id, b.id]);
    });

    it("treats ids and names as data (prototype names, unicode, separators)", async () => {
      const odd = session(clock, { id: "__proto__", agent: "constructor", user: "ユーザー\u0000:x", scope: "a:{b}" });
      await store.createSession(odd);
      expect(await store.getSession("__proto__")).to.deep.include({ agent: "constructor", user: "ユーザー\u0000:x", scope: "a:{b}" });
      const d = delegation(clock, { toAgent: "constructor", fromUser: "ユーザー\u0000:x", actions: ["*"] });
      await store.createDelegation(d);
      const state = await store.fetchDecisionState({ sessionId: "__proto__", agent: "constructor", user: "ユーザー\u0000:x", delegations: true });
      expect(state.session?.id).to.equal("__proto__");
      expect(state.delegations.map((x) => x.id)).to.deep.equal([d.id]);
    });

    describe("resolveOutcome", () => {
      const base = { agent: "assistant", user: "alice", scope: "", action: "read", delegations: false };
      it("checks the session: missing, revoked, expired, agent, user, scope", async () => {
        const s = session(clock, { scope: "project:[ab]*" });
        await store.createSession(s);
        const q = { ...base, sessionId: s.id };
        expect(await store.resolveOutcome(q)).to.deep.equal({ kind: "ok", grant: undefined });
        expect(await store.resolveOutcome({ ...q, sessionId: "missing" })).to.deep.equal({ kind: "session_invalid" });
        expect(await store.resolveOutcome({ ...q, agent: "other" })).to.deep.equal({ kind: "agent_mismatch", expected: "assistant" });
        expect(await store.resolveOutcome({ ...q, user: "bob" })).to.deep.equal({ kind: "user_mismatch", expected: "alice" });
        expect(await store.resolveOutcome({ ...q, scope: "project:alpha" })).to.deep.equal({ kind: "ok", grant: undefined });
        expect(await store.resolveOutcome({ ...q, scope: "project:c" })).to.deep.equal({ kind: "scope_outside", pattern: "project:[ab]*" });
        await store.revokeSession(s.id);
        expect(await store.resolveOutcome(q)).to.deep.equal({ kind: "session_invalid" });
        const short = session(clock, { expiresAt: clock.now() + 1000 });
        await store.createSession(short);
        clock.advance(1);
        expect(await store.resolveOutcome({ ...q, sessionId: short.id })).to.deep.equal({ kind: "session_invalid" });
      });

      it("finds the oldest active grant from the requesting user covering the action", async () => {
        const first = delegation(clock, { actions: ["write:*"] });
        clock.advance(1);
        const second = delegation(clock, { actions: ["deploy", "read?"] });
        const bobs = delegation(clock, { fromUser: "bob", actions: ["*"] });
        const revoked = delegation(clock, { actions: ["*"] });
        for (const d of [first, second, bobs, revoked]) await store.createDelegation(d);
        await store.revokeDelegation(revoked.id);
        const q = { ...base, sessionId: "", delegations: true };
        expect(await store.resolveOutcome({ ...q, action: "write:docs" })).to.deep.equal({ kind: "ok", grant: { id: first.id, fromUser: "alice" } });
        expect(await store.resolveOutcome({ ...q, action: "reads" })).to.deep.equal({ kind: "ok", grant: { id: second.id, fromUser: "alice" } });
        expect(await store.resolveOutcome({ ...q, action: "delete" })).to.deep.equal({ kind: "ok", grant: undefined });
        expect(await store.resolveOutcome({ ...q, action: "write:docs", delegations: false })).to.deep.equal({ kind: "ok", grant: undefined });
      });

      it("does not look for grants when the session check fails", async () => {
        await store.createDelegation(delegation(clock, { actions: ["*"] }));
        const q = { ...base, sessionId: "nope", delegations: true };
        expect(await store.resolveOutcome(q)).to.deep.equal({ kind: "session_invalid" });
      });
    });

    it("reports itself healthy", () => {
      expect(store.health().ok).to.equal(true);
    });
  });
}
