import { expect } from "chai";
import { Redis } from "ioredis";
import { parseConfig } from "../../src/config/parse-config.ts";
import { AuthEngine } from "../../src/embedded-engine.ts";
import { createRedisStore, type RedisStore } from "../../src/state/redis/redis-store.ts";
import { auditRecordJson, type AuditEvent } from "../../src/audit/event.ts";
import { ManualClock } from "../../src/model/clock.ts";
import { freePort, PrivateRedis } from "../support/private-redis.ts";
import { deletePrefix, requireRedis, testPrefix } from "../support/redis.ts";

const POLICY = (approvals: string): string => `
version: "1.0"
profiles:
  assistant: {allow: ["payments:*"]}
approval_policies:
  - {name: payments, condition: 'action starts_with "payments:"', tier: strong}
approvals: ${approvals}
`;

const PAY = { agent: "assistant", user: "alice", action: "payments:send", resource: "acct-1", metadata: { amount: 700 } };

describe("approvals in Redis", function () {
  let url: string;
  const prefixes: string[] = [];
  const stores: RedisStore[] = [];
  const clients: Redis[] = [];
  before(async function () {
    url = await requireRedis(this);
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const c of clients.splice(0)) c.disconnect();
  });
  after(async () => {
    for (const p of prefixes) await deletePrefix(url, p);
  });

  async function storeOn(prefix: string, audit?: "sync"): Promise<RedisStore> {
    const store = createRedisStore({ connection: { url }, prefix, ...(audit === undefined ? {} : { audit: { durability: audit, streamMaxLength: 1000 } }) });
    stores.push(store);
    await store.ready(5000);
    return store;
  }

  function client(): Redis {
    const c = new Redis(url);
    clients.push(c);
    return c;
  }

  it("across 3 engines on one Redis, 50 concurrent redemptions of a one-use approval give exactly one allow", async () => {
    const prefix = testPrefix("approvals-race");
    prefixes.push(prefix);
    const config = parseConfig(POLICY("{max_uses: 1}"));
    const engines = await Promise.all([0, 1, 2].map(async () => new AuthEngine(config, { store: await storeOn(prefix), audit: false })));
    const { task } = await engines[0]!.requestApproval(PAY);
    await engines[1]!.decideApproval({ id: task.id, approve: true, approver: "sec-carol" });
    const decisions = await Promise.all(Array.from({ length: 50 }, (_, i) => engines[i % 3]!.authorize({ ...PAY, approvalId: task.id })));
    const allowed = decisions.filter((d) => d.allowed && !d.requiresApproval);
    expect(allowed).to.have.length(1);
    expect(allowed[0]!.approvedBy).to.equal("sec-carol");
    expect(decisions.filter((d) => d.approvalStatus === "used")).to.have.length(49);
    expect((await engines[2]!.getApproval(task.id))?.status).to.equal("used");
  });

  it("with max_uses 3, three of 30 concurrent redemptions are allowed", async () => {
    const prefix = testPrefix("approvals-uses");
    prefixes.push(prefix);
    const config = parseConfig(POLICY("{max_uses: 3}"));
    const engines = await Promise.all([0, 1].map(async () => new AuthEngine(config, { store: await storeOn(prefix), audit: false })));
    const { task } = await engines[0]!.requestApproval(PAY);
    await engines[1]!.decideApproval({ id: task.id, approve: true, approver: "sec-carol" });
    const decisions = await Promise.all(Array.from({ length: 30 }, (_, i) => engines[i % 2]!.authorize({ ...PAY, approvalId: task.id })));
    expect(decisions.filter((d) => d.approvedBy === "sec-carol")).to.have.length(3);
  });

  it("gives each task a Redis TTL to the end of its history, so Redis drops it with no sweeper", async () => {
    const prefix = testPrefix("approvals-ttl");
    prefixes.push(prefix);
    const store = await storeOn(prefix);
    const engine = new AuthEngine(parseConfig(POLICY("{pending_ttl: 1, grant_ttl: 100, history_ttl: 1}")), { store, audit: false });
    const redis = client();
    const { task: pending } = await engine.requestApproval(PAY);
    const ttl = await redis.pttl(store.keys.approval(pending.id));
    expect(ttl).to.be.within(1, 2000);
    const { task: granted } = await engine.requestApproval({ ...PAY, resource: "acct-2" });
    await engine.decideApproval({ id: granted.id, approve: true, approver: "sec-carol" });
    // Approved: kept for the grant (100 s) and its history (1 s).
    expect(await redis.pttl(store.keys.approval(granted.id))).to.be.within(99_000, 101_000);
    // The pending task's key goes away by itself (poll; no fixed sleep decides the outcome).
    const deadline = Date.now() + 10_000;
    while ((await redis.exists(store.keys.approval(pending.id))) === 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await redis.exists(store.keys.approval(pending.id))).to.equal(0);
    expect(await engine.getApproval(pending.id)).to.equal(undefined);
    expect((await engine.authorize({ ...PAY, approvalId: pending.id })).approvalStatus).to.equal("unknown");
  });

  it("with sync audit, the redeeming decision and the redeemed event are both in the stream, with their approval fields", async () => {
    const prefix = testPrefix("approvals-audit");
    prefixes.push(prefix);
    const store = await storeOn(prefix, "sync");
    const engine = new AuthEngine(parseConfig(POLICY("{}") + "audit: {durability: sync}\n"), { store, audit: false, sameTripAudit: store.audit });
    const { task } = await engine.requestApproval(PAY);
    await engine.decideApproval({ id: task.id, approve: true, approver: "sec-carol", comment: "fine" });
    const redeemed = await engine.authorize({ ...PAY, approvalId: task.id });
    expect(redeemed.approvedBy).to.equal("sec-carol");
    const entries = await client().xrange(store.keys.audit, "-", "+");
    const records = entries.map(([, fields]) => JSON.parse(fields[1]!) as Record<string, unknown>);
    expect(records.map((r) => r["kind"] ?? "decision")).to.deep.equal(["decision", "approval_requested", "approval_approved", "decision", "approval_redeemed"]);
    expect(records[3]).to.deep.include({ decision_id: redeemed.decisionId, allowed: true, requires_approval: false, approval_id: task.id, approved_by: "sec-carol", approval_status: "" });
    expect(records[2]).to.deep.include({ approval_id: task.id, task_status: "approved", actor: "sec-carol", comment: "fine" });
    expect(records[4]).to.deep.include({ approval_id: task.id, task_status: "used", linked_decision_id: redeemed.decisionId });
  });

  it("with sync audit, every decision that presents an approval is one EVALSHA, and the stream holds exactly the records the other sinks get", async function () {
    // A server of its own: command counts on the shared one include other clients.
    const own = new PrivateRedis(await freePort());
    await own.start();
    const clock = new ManualClock(Date.UTC(2031, 0, 1));
    const store = createRedisStore({ connection: { url: own.url }, prefix: "one-trip", clock, audit: { durability: "sync", streamMaxLength: 1000 } });
    stores.push(store);
    await store.ready(5000);
    const lines: string[] = [];
    const sink = { write: (e: AuditEvent): undefined => void lines.push(auditRecordJson(e)), flush: async () => {}, close: async () => {} };
    const engine = new AuthEngine(parseConfig(POLICY("{grant_ttl: 60, max_uses: 1}") + "audit: {durability: sync}\n"), { store, clock, audit: sink, sameTripAudit: store.audit });
    const redis = new Redis(own.url);
    try {
      const session = await engine.createSession({ agent: "assistant", user: "alice" });
      const inSession = { ...PAY, sessionId: session.sessionId };
      const { task } = await engine.requestApproval(inSession);
      const { task: waiting } = await engine.requestApproval({ ...inSession, resource: "acct-9" });
      const { task: lapsing } = await engine.requestApproval({ ...inSession, resource: "acct-7" });
      await engine.decideApproval({ id: lapsing.id, approve: true, approver: "sec-dave" });
      clock.advance(30);
      await engine.decideApproval({ id: task.id, approve: true, approver: "sec-carol \"q\" ü/" });
      clock.advance(31);
      // Scripts are counted by EVALSHA and EVAL (the commands a script runs are counted too, so only these say how many calls were made).
      const calls = async (): Promise<number> => {
        const info = await redis.info("commandstats");
        let n = 0;
        for (const m of info.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)) n += Number(m[2]);
        return n;
      };
      const asks = [
        { ...inSession, approvalId: waiting.id, resource: "acct-9" },
        { ...inSession, approvalId: task.id, resource: "acct-2" },
        { ...inSession, approvalId: lapsing.id, resource: "acct-7" },
        { ...inSession, approvalId: "no-such-task" },
        { ...inSession, approvalId: task.id, sessionId: "no-such-session" },
        { ...inSession, approvalId: task.id },
        { ...inSession, approvalId: task.id },
      ];
      const decisions = [];
      for (const ask of asks) {
        const before = await calls();
        decisions.push(await engine.authorize(ask));
        expect((await calls()) - before, ask.approvalId).to.equal(1);
      }
      expect(decisions.map((d) => [d.allowed && !d.requiresApproval, d.approvalStatus, d.approvedBy])).to.deep.equal([
        [false, "pending", ""],
        [false, "mismatch", ""],
        [false, "expired", ""],
        [false, "unknown", ""],
        [false, "", ""],
        [true, "", 'sec-carol "q" ü/'],
        [false, "used", ""],
      ]);
      expect(decisions[5]!.reason).to.equal(`Approved by 'sec-carol "q" ü/' (approval ${task.id})`);
      const stream = (await redis.xrange(store.keys.audit, "-", "+")).map(([, f]) => f[1]!);
      expect(stream).to.deep.equal(lines);
      const kinds = stream.map((l) => (JSON.parse(l) as { kind?: string }).kind ?? "decision");
      expect(kinds.slice(-9)).to.deep.equal(["decision", "decision", "decision", "approval_expired", "decision", "decision", "decision", "approval_redeemed", "decision"]);
    } finally {
      redis.disconnect();
      await engine.close();
      await own.stop();
    }
  });
});
