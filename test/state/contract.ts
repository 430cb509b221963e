import { expect } from "chai";
import { ManualClock } from "../../src/model/clock.ts";
import { LIST_SCAN_BUDGET, type DelegationRecord, type ListFilter, type RecordTable, type SessionRecord, type StateStore, type StoredRecord } from "../../src/state/store.ts";

/** Every record a listing gives, page by page, with the number of pages it took. */
async function listAll<R extends StoredRecord>(table: RecordTable<R>, filter: ListFilter = {}, limit = 1000): Promise<R[] & { pages: number }> {
  const out = [] as unknown as R[] & { pages: number };
  out.pages = 0;
  let after = "";
  do {
    const page = await table.list(filter, { after, limit });
    expect(page.records.length).to.be.at.most(limit);
    out.push(...page.records);
    out.pages++;
    after = page.next;
  } while (after !== "");
  return out;
}

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
    createdAt: now,
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
      await store.sessions.create(s);
      expect(await store.sessions.get(s.id)).to.deep.include({ ...s });
      expect((await store.sessions.get(s.id))?.revokedAt).to.equal(undefined);
    });

    it("returns undefined for an unknown session", async () => {
      expect(await store.sessions.get("no-such-session")).to.equal(undefined);
    });

    it("expires a session exactly at expiresAt", async () => {
      const s = session(clock, { expiresAt: clock.now() + 5000 });
      await store.sessions.create(s);
      clock.advance(4.999);
      expect(await store.sessions.get(s.id)).to.not.equal(undefined);
      clock.advance(0.001);
      expect(await store.sessions.get(s.id)).to.equal(undefined);
      expect(await listAll(store.sessions)).to.deep.equal([]);
      expect(await store.resolveOutcome({ sessionId: s.id, agent: s.agent, user: s.user, scope: "", action: "x", delegations: false })).to.deep.equal({ kind: "session_invalid" });
    });

    it("keeps a revoked session readable as revoked until it would have expired", async () => {
      const s = session(clock);
      await store.sessions.create(s);
      clock.advance(10);
      const outcome = await store.sessions.revoke(s.id);
      expect(outcome.status).to.equal("revoked");
      const read = await store.sessions.get(s.id);
      expect(read?.revokedAt).to.equal(clock.now());
      expect(await store.resolveOutcome({ sessionId: s.id, agent: s.agent, user: s.user, scope: "", action: "x", delegations: false })).to.deep.equal({ kind: "session_invalid" });
      clock.advance(50);
      expect(await store.sessions.get(s.id)).to.equal(undefined);
    });

    it("reports a second revocation and an unknown id", async () => {
      const s = session(clock);
      await store.sessions.create(s);
      expect((await store.sessions.revoke(s.id)).status).to.equal("revoked");
      const again = await store.sessions.revoke(s.id);
      expect(again.status).to.equal("already_revoked");
      expect((await store.sessions.revoke("nope")).status).to.equal("not_found");
    });

    it("does not revoke an expired session", async () => {
      const s = session(clock, { expiresAt: clock.now() + 1000 });
      await store.sessions.create(s);
      clock.advance(1);
      expect((await store.sessions.revoke(s.id)).status).to.equal("not_found");
    });

    it("lists sessions by agent and user, oldest first, revoked only on request", async () => {
      const a = session(clock, { agent: "a1", user: "u1" });
      clock.advance(1);
      const b = session(clock, { agent: "a1", user: "u2" });
      clock.advance(1);
      const c = session(clock, { agent: "a2", user: "u1" });
      for (const s of [a, b, c]) await store.sessions.create(s);
      const ids = async (f: ListFilter): Promise<string[]> => (await listAll(store.sessions, f)).map((s) => s.id);
      expect(await ids({})).to.deep.equal([a.id, b.id, c.id]);
      expect(await ids({ agent: "a1" })).to.deep.equal([a.id, b.id]);
      expect(await ids({ user: "u1" })).to.deep.equal([a.id, c.id]);
      expect(await ids({ agent: "a1", user: "u2" })).to.deep.equal([b.id]);
      await store.sessions.revoke(a.id);
      expect(await ids({ agent: "a1" })).to.deep.equal([b.id]);
      expect(await ids({ agent: "a1", includeRevoked: true })).to.deep.equal([a.id, b.id]);
    });

    it("lists in pages, by creation time then id, each record once, ties and all", async () => {
      const made: SessionRecord[] = [];
      for (let i = 0; i < 25; i++) {
        // Three records share each millisecond: ties are ordered by id.
        if (i % 3 === 0) clock.advance(0.001);
        made.push(session(clock, { id: `s-${String.fromCharCode(122 - (i % 3))}-${i}` }));
      }
      for (const s of [...made].reverse()) await store.sessions.create(s);
      const expected = [...made].sort((a, b) => a.createdAt - b.createdAt || Buffer.compare(Buffer.from(a.id), Buffer.from(b.id))).map((s) => s.id);
      for (const limit of [1, 2, 7, 25, 1000]) {
        const got = await listAll(store.sessions, {}, limit);
        expect(got.map((s) => s.id), `limit ${limit}`).to.deep.equal(expected);
        expect(got.pages, `limit ${limit}`).to.be.at.most(Math.ceil(25 / limit) + 1);
      }
    });

    it("continues after a position whose record has gone since", async () => {
      const made: SessionRecord[] = [];
      for (let i = 0; i < 6; i++) {
        clock.advance(1);
        made.push(session(clock, { expiresAt: clock.now() + (i === 1 ? 10_000 : 60_000) }));
      }
      for (const s of made) await store.sessions.create(s);
      const first = await store.sessions.list({}, { limit: 2 });
      expect(first.records.map((s) => s.id)).to.deep.equal([made[0]!.id, made[1]!.id]);
      // The record at the position expires, and the next one is revoked.
      clock.advance(10);
      await store.sessions.revoke(made[2]!.id);
      const rest = await listAll(store.sessions);
      expect(rest.map((s) => s.id)).to.deep.equal([made[0]!.id, made[3]!.id, made[4]!.id, made[5]!.id]);
      const next = await store.sessions.list({}, { after: first.next, limit: 10 });
      expect(next.records.map((s) => s.id)).to.deep.equal([made[3]!.id, made[4]!.id, made[5]!.id]);
      expect(next.next).to.equal("");
    });

    it("looks at a bounded number of records per call, whatever the filter, and says where to continue", async function () {
      this.timeout(120_000);
      const many = 2 * LIST_SCAN_BUDGET + 100;
      for (let i = 0; i < many; i++) {
        if (i % 50 === 0) clock.advance(0.001);
        await store.sessions.create(session(clock, { agent: "busy", user: "x" }));
      }
      clock.advance(1);
      const wanted = [session(clock, { agent: "busy", user: "y" }), session(clock, { agent: "busy", user: "y" })];
      for (const s of wanted) await store.sessions.create(s);
      // The first call looks at LIST_SCAN_BUDGET records, finds nothing, and says where to continue.
      const first = await store.sessions.list({ agent: "busy", user: "y" }, { limit: 10 });
      expect(first.records).to.deep.equal([]);
      expect(first.next).to.not.equal("");
      const all = await listAll(store.sessions, { agent: "busy", user: "y" }, 10);
      expect(all.map((s) => s.id).sort()).to.deep.equal(wanted.map((s) => s.id).sort());
      expect(all.pages).to.equal(Math.ceil((many + 2) / LIST_SCAN_BUDGET));
      expect(await listAll(store.sessions, { user: "nobody" })).to.deep.equal([]);
    });

    it("refuses a position no listing gave", async () => {
      let error: unknown;
      try {
        await store.sessions.list({}, { after: "not a position", limit: 10 });
      } catch (e) {
        error = e;
      }
      expect((error as Error | undefined)?.name).to.equal("InvalidListPositionError");
    });

    it("round-trips a delegation", async () => {
      const d = delegation(clock, { reason: "on call" });
      await store.delegations.create(d);
      const read = await store.delegations.get(d.id);
      expect(read).to.deep.include({ ...d, actions: d.actions });
      expect(read?.actions).to.deep.equal(["read", "write:*"]);
    });

    it("finds the grant from this user to this agent, oldest first, in one read", async () => {
      const s = session(clock);
      await store.sessions.create(s);
      const first = delegation(clock);
      clock.advance(1);
      const otherUser = delegation(clock, { fromUser: "bob" });
      const otherAgent = delegation(clock, { toAgent: "reviewer" });
      clock.advance(1);
      const second = delegation(clock, { actions: ["deploy"] });
      for (const d of [first, otherUser, otherAgent, second]) await store.delegations.create(d);
      const q = { sessionId: s.id, agent: "assistant", user: "alice", scope: "", delegations: true };
      // Only grants from this user to this agent count, the oldest covering the action first.
      expect(await store.resolveOutcome({ ...q, action: "write:x" })).to.deep.equal({ kind: "ok", grant: { id: first.id, fromUser: "alice" } });
      expect(await store.resolveOutcome({ ...q, action: "deploy" })).to.deep.equal({ kind: "ok", grant: { id: second.id, fromUser: "alice" } });
      expect(await store.resolveOutcome({ ...q, action: "deploy", delegations: false })).to.deep.equal({ kind: "ok", grant: undefined });
      expect(await store.resolveOutcome({ ...q, user: "bob", sessionId: "", action: "write:x" })).to.deep.equal({ kind: "ok", grant: { id: otherUser.id, fromUser: "bob" } });
    });

    it("drops revoked and expired grants from decision state", async () => {
      const shortLived = delegation(clock, { expiresAt: clock.now() + 2000 });
      const revoked = delegation(clock);
      const kept = delegation(clock);
      for (const d of [shortLived, revoked, kept]) await store.delegations.create(d);
      expect((await store.delegations.revoke(revoked.id)).status).to.equal("revoked");
      expect((await store.delegations.revoke(revoked.id)).status).to.equal("already_revoked");
      clock.advance(2);
      const outcome = await store.resolveOutcome({ sessionId: "", agent: "assistant", user: "alice", scope: "", action: "read", delegations: true });
      expect(outcome).to.deep.equal({ kind: "ok", grant: { id: kept.id, fromUser: "alice" } });
      expect((await store.delegations.get(revoked.id))?.revokedAt).to.be.a("number");
      expect(await store.delegations.get(shortLived.id)).to.equal(undefined);
    });

    it("keeps the active delegations from a user to an agent within a budget of delegated actions", async () => {
      const five = (over: Partial<DelegationRecord> = {}): DelegationRecord => delegation(clock, { actions: ["a", "b:*", "c?", "[d]", "e"], ...over });
      const first = five();
      expect(await store.delegations.createWithin(first, 12)).to.deep.equal({ stored: true, actions: 5 });
      const second = five({ expiresAt: clock.now() + 2000 });
      expect(await store.delegations.createWithin(second, 12)).to.deep.equal({ stored: true, actions: 10 });
      // 15 > 12: refused, nothing written (not readable, not listed, grants nothing).
      const over = five({ actions: ["x", "y", "z", "w", "v"] });
      expect(await store.delegations.createWithin(over, 12)).to.deep.equal({ stored: false, actions: 15 });
      expect(await store.delegations.get(over.id)).to.equal(undefined);
      expect((await listAll(store.delegations)).map((d) => d.id)).to.deep.equal([first.id, second.id]);
      expect(await store.resolveOutcome({ sessionId: "", agent: "assistant", user: "alice", scope: "", action: "x", delegations: true })).to.deep.equal({ kind: "ok", grant: undefined });
      // Other pairs have their own budgets; a delegation without actions counts as one.
      expect(await store.delegations.createWithin(five({ fromUser: "bob" }), 12)).to.deep.equal({ stored: true, actions: 5 });
      expect(await store.delegations.createWithin(five({ toAgent: "other" }), 12)).to.deep.equal({ stored: true, actions: 5 });
      expect(await store.delegations.createWithin(delegation(clock, { actions: [] }), 12)).to.deep.equal({ stored: true, actions: 11 });
      // Revoked and expired delegations no longer count.
      expect((await store.delegations.revoke(first.id)).status).to.equal("revoked");
      expect(await store.delegations.createWithin(five(), 12)).to.deep.equal({ stored: true, actions: 11 });
      clock.advance(2);
      expect(await store.delegations.createWithin(delegation(clock, { actions: ["r"] }), 7)).to.deep.equal({ stored: true, actions: 7 });
      expect(await store.delegations.createWithin(delegation(clock, { actions: ["s"] }), 7)).to.deep.equal({ stored: false, actions: 8 });
      // A revoked delegation stays readable as revoked.
      expect((await store.delegations.get(first.id))?.revokedAt).to.be.a("number");
    });

    it("never lets concurrent creations for one pair pass the budget together", async () => {
      const attempts = Array.from({ length: 24 }, (_, i) => delegation(clock, { actions: i % 2 === 0 ? ["a", "b"] : ["c"] }));
      const results = await Promise.all(attempts.map((d) => store.delegations.createWithin(d, 16)));
      const stored = attempts.filter((_, i) => results[i]!.stored);
      const held = stored.reduce((n, d) => n + d.actions.length, 0);
      expect(held).to.be.at.most(16).and.at.least(15);
      expect((await listAll(store.delegations)).length).to.equal(stored.length);
      for (const r of results) if (!r.stored) expect(r.actions).to.be.above(16);
    });

    it("lists delegations by receiving agent and granting user", async () => {
      const a = delegation(clock, { toAgent: "x", fromUser: "u1" });
      clock.advance(1);
      const b = delegation(clock, { toAgent: "x", fromUser: "u2" });
      clock.advance(1);
      const c = delegation(clock, { toAgent: "y", fromUser: "u1" });
      for (const d of [a, b, c]) await store.delegations.create(d);
      const ids = async (f: ListFilter): Promise<string[]> => (await listAll(store.delegations, f)).map((d) => d.id);
      expect(await ids({})).to.deep.equal([a.id, b.id, c.id]);
      expect(await ids({ agent: "x" })).to.deep.equal([a.id, b.id]);
      expect(await ids({ user: "u1" })).to.deep.equal([a.id, c.id]);
      await store.delegations.revoke(b.id);
      expect(await ids({ agent: "x" })).to.deep.equal([a.id]);
      expect(await ids({ agent: "x", includeRevoked: true })).to.deep.equal([a.id, b.id]);
    });

    it("treats ids and names as data (prototype names, unicode, separators)", async () => {
      const odd = session(clock, { id: "__proto__", agent: "constructor", user: "ユーザー\u0000:x", scope: "a:{b}" });
      await store.sessions.create(odd);
      expect(await store.sessions.get("__proto__")).to.deep.include({ agent: "constructor", user: "ユーザー\u0000:x", scope: "a:{b}" });
      const d = delegation(clock, { toAgent: "constructor", fromUser: "ユーザー\u0000:x", actions: ["*"] });
      await store.delegations.create(d);
      const outcome = await store.resolveOutcome({ sessionId: "__proto__", agent: "constructor", user: "ユーザー\u0000:x", scope: "a:{b}", action: "any", delegations: true });
      expect(outcome).to.deep.equal({ kind: "ok", grant: { id: d.id, fromUser: "ユーザー\u0000:x" } });
    });

    describe("resolveOutcome", () => {
      const base = { agent: "assistant", user: "alice", scope: "", action: "read", delegations: false };
      it("checks the session: missing, revoked, expired, agent, user, scope", async () => {
        const s = session(clock, { scope: "project:[ab]*" });
        await store.sessions.create(s);
        const q = { ...base, sessionId: s.id };
        expect(await store.resolveOutcome(q)).to.deep.equal({ kind: "ok", grant: undefined });
        expect(await store.resolveOutcome({ ...q, sessionId: "missing" })).to.deep.equal({ kind: "session_invalid" });
        expect(await store.resolveOutcome({ ...q, agent: "other" })).to.deep.equal({ kind: "agent_mismatch", expected: "assistant" });
        expect(await store.resolveOutcome({ ...q, user: "bob" })).to.deep.equal({ kind: "user_mismatch", expected: "alice" });
        expect(await store.resolveOutcome({ ...q, scope: "project:alpha" })).to.deep.equal({ kind: "ok", grant: undefined });
        expect(await store.resolveOutcome({ ...q, scope: "project:c" })).to.deep.equal({ kind: "scope_outside", pattern: "project:[ab]*" });
        await store.sessions.revoke(s.id);
        expect(await store.resolveOutcome(q)).to.deep.equal({ kind: "session_invalid" });
        const short = session(clock, { expiresAt: clock.now() + 1000 });
        await store.sessions.create(short);
        clock.advance(1);
        expect(await store.resolveOutcome({ ...q, sessionId: short.id })).to.deep.equal({ kind: "session_invalid" });
      });

      // The review's shapes, sized within the pattern limits (256 characters, 16
      // wildcards): a session scope of a star, 14 '?' and a literal, and 16
      // delegated patterns under a `pr:*` rule, against 4,096-character texts.
      // The old matchers retried the tail at every position; these must answer
      // correctly (and bench/globs.ts times them).
      it("matches the review's attack shapes within the limits correctly", async () => {
        const scope = "*" + "?".repeat(14) + "b";
        const s = session(clock, { scope });
        await store.sessions.create(s);
        const long = "x".repeat(4095);
        const q = { ...base, sessionId: s.id };
        expect(await store.resolveOutcome({ ...q, scope: long + "b" })).to.deep.equal({ kind: "ok", grant: undefined });
        expect(await store.resolveOutcome({ ...q, scope: long + "c" })).to.deep.equal({ kind: "scope_outside", pattern: scope });
        expect(await store.resolveOutcome({ ...q, scope: "b".repeat(14) })).to.deep.equal({ kind: "scope_outside", pattern: scope });
        const actions = Array.from({ length: 16 }, (_, i) => "pr:*" + "?".repeat(14) + String.fromCharCode(0x61 + i));
        const d = delegation(clock, { actions });
        await store.delegations.create(d);
        const dq = { ...base, sessionId: "", delegations: true };
        expect(await store.resolveOutcome({ ...dq, action: "pr:" + "x".repeat(4092) + "p" })).to.deep.equal({ kind: "ok", grant: { id: d.id, fromUser: "alice" } });
        expect(await store.resolveOutcome({ ...dq, action: "pr:" + "x".repeat(4092) + "q" })).to.deep.equal({ kind: "ok", grant: undefined });
        expect(await store.resolveOutcome({ ...dq, action: "pr:" + "🙂".repeat(2040) + "a" })).to.deep.equal({ kind: "ok", grant: { id: d.id, fromUser: "alice" } });
      });

      // The Redis script leaves middle pieces with wildcards (`*a?c*`) to the
      // engine: the grant must still be the first delegation that covers the
      // action, and the session's scope checked exactly, whichever side matched.
      it("grants from the first covering delegation and checks the scope, whatever the patterns' shapes", async () => {
        const first = delegation(clock, { actions: ["*b?d*", "pr:z*"] });
        await store.delegations.create(first);
        clock.advance(1);
        const second = delegation(clock, { actions: ["*a?c*"] });
        await store.delegations.create(second);
        clock.advance(1);
        const third = delegation(clock, { actions: ["pr:*"] });
        await store.delegations.create(third);
        const dq = { ...base, sessionId: "", delegations: true };
        expect(await store.resolveOutcome({ ...dq, action: "pr:abc" })).to.deep.equal({ kind: "ok", grant: { id: second.id, fromUser: "alice" } });
        expect(await store.resolveOutcome({ ...dq, action: "pr:bxd" })).to.deep.equal({ kind: "ok", grant: { id: first.id, fromUser: "alice" } });
        expect(await store.resolveOutcome({ ...dq, action: "pr:xyz" })).to.deep.equal({ kind: "ok", grant: { id: third.id, fromUser: "alice" } });
        expect(await store.resolveOutcome({ ...dq, action: "xabcx" })).to.deep.equal({ kind: "ok", grant: { id: second.id, fromUser: "alice" } });
        expect(await store.resolveOutcome({ ...dq, action: "xyz" })).to.deep.equal({ kind: "ok", grant: undefined });
        await store.delegations.revoke(second.id);
        expect(await store.resolveOutcome({ ...dq, action: "pr:abc" })).to.deep.equal({ kind: "ok", grant: { id: third.id, fromUser: "alice" } });
        const s = session(clock, { scope: "project:*[0-9]?x*" });
        await store.sessions.create(s);
        const q = { ...base, sessionId: s.id };
        expect(await store.resolveOutcome({ ...q, scope: "project:web-7ax-1" })).to.deep.equal({ kind: "ok", grant: undefined });
        expect(await store.resolveOutcome({ ...q, scope: "project:web-a7x-1" })).to.deep.equal({ kind: "scope_outside", pattern: s.scope });
        // Both at once: the scope left to the engine, then the delegations.
        expect(await store.resolveOutcome({ ...q, scope: "project:1zx", action: "zbxd", delegations: true })).to.deep.equal({ kind: "ok", grant: { id: first.id, fromUser: "alice" } });
        expect(await store.resolveOutcome({ ...q, scope: "project:zzx", action: "zbxd", delegations: true })).to.deep.equal({ kind: "scope_outside", pattern: s.scope });
      });

      it("demands a request scope in a scoped session only when asked to (sessions.require_scope)", async () => {
        const scoped = session(clock, { scope: "project:*" });
        const open = session(clock);
        await store.sessions.create(scoped);
        await store.sessions.create(open);
        const q = { ...base, sessionId: scoped.id, scope: "" };
        expect(await store.resolveOutcome(q)).to.deep.equal({ kind: "ok", grant: undefined });
        expect(await store.resolveOutcome({ ...q, requireScope: true })).to.deep.equal({ kind: "scope_required", pattern: "project:*" });
        expect(await store.resolveOutcome({ ...q, requireScope: true, scope: "project:x" })).to.deep.equal({ kind: "ok", grant: undefined });
        expect(await store.resolveOutcome({ ...q, requireScope: true, scope: "other" })).to.deep.equal({ kind: "scope_outside", pattern: "project:*" });
        expect(await store.resolveOutcome({ ...q, requireScope: true, sessionId: open.id })).to.deep.equal({ kind: "ok", grant: undefined });
        // The session's other checks come first.
        expect(await store.resolveOutcome({ ...q, requireScope: true, agent: "other" })).to.deep.equal({ kind: "agent_mismatch", expected: "assistant" });
      });

      it("finds the oldest active grant from the requesting user covering the action", async () => {
        const first = delegation(clock, { actions: ["write:*"] });
        clock.advance(1);
        const second = delegation(clock, { actions: ["deploy", "read?"] });
        const bobs = delegation(clock, { fromUser: "bob", actions: ["*"] });
        const revoked = delegation(clock, { actions: ["*"] });
        for (const d of [first, second, bobs, revoked]) await store.delegations.create(d);
        await store.delegations.revoke(revoked.id);
        const q = { ...base, sessionId: "", delegations: true };
        expect(await store.resolveOutcome({ ...q, action: "write:docs" })).to.deep.equal({ kind: "ok", grant: { id: first.id, fromUser: "alice" } });
        expect(await store.resolveOutcome({ ...q, action: "reads" })).to.deep.equal({ kind: "ok", grant: { id: second.id, fromUser: "alice" } });
        expect(await store.resolveOutcome({ ...q, action: "delete" })).to.deep.equal({ kind: "ok", grant: undefined });
        expect(await store.resolveOutcome({ ...q, action: "write:docs", delegations: false })).to.deep.equal({ kind: "ok", grant: undefined });
      });

      it("does not look for grants when the session check fails", async () => {
        await store.delegations.create(delegation(clock, { actions: ["*"] }));
        const q = { ...base, sessionId: "nope", delegations: true };
        expect(await store.resolveOutcome(q)).to.deep.equal({ kind: "session_invalid" });
      });
    });

    it("reports itself healthy", () => {
      expect(store.health().ok).to.equal(true);
    });
  });
}
