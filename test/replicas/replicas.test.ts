import { expect } from "chai";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { Effect } from "../../gen/agentauth/v1/decision_pb.ts";
import type { SubscribeResponse } from "../../gen/agentauth/v1/audit_pb.ts";
import { createAgentAuthClient, type AgentAuthClient } from "../../src/client/index.ts";
import { startServe, exited } from "../support/processes.ts";
import { deletePrefix, requireRedis, testPrefix } from "../support/redis.ts";

const POLICY = (auditPath: string) => `
version: "1.0"
metadata: {name: replicas}
profiles:
  assistant: {allow: [read], max_session_duration: 600}
delegation: {rules: [{name: any, allowed_actions: ["*"], max_duration: 3600}]}
audit: {enabled: true, path: ${JSON.stringify(auditPath)}, durability: sync, stream_max_length: 100000}
`;

async function take(stream: AsyncIterable<SubscribeResponse>, n: number): Promise<SubscribeResponse[]> {
  const out: SubscribeResponse[] = [];
  for await (const r of stream) {
    out.push(r);
    if (out.length === n) break;
  }
  return out;
}

describe("three replicas sharing Redis (separate processes)", function () {
  // Generous: 1,000 rounds across three processes on a busy machine can take minutes; nothing here is timed.
  this.timeout(600_000);
  let url: string;
  let prefix: string;
  let dir: string;
  const children: ChildProcess[] = [];
  let A: AgentAuthClient;
  let B: AgentAuthClient;
  let C: AgentAuthClient;

  before(async function () {
    url = await requireRedis(this);
    prefix = testPrefix("replicas");
    dir = mkdtempSync(join(tmpdir(), "agent-auth-replicas-"));
    const clients: AgentAuthClient[] = [];
    for (const name of ["a", "b", "c"]) {
      const policy = join(dir, `${name}.yaml`);
      writeFileSync(policy, POLICY(join(dir, `${name}-audit.jsonl`)));
      const { child, address } = await startServe(["serve", "-c", policy, "--port", "0", "--redis", url, "--redis-prefix", prefix]);
      children.push(child);
      const client = createAgentAuthClient(address, { defaultDeadlineMs: 10_000 });
      await client.ready(5000);
      clients.push(client);
    }
    [A, B, C] = clients as [AgentAuthClient, AgentAuthClient, AgentAuthClient];
  });

  after(async () => {
    for (const c of [A, B, C]) c?.close();
    for (const child of children) {
      child.kill("SIGTERM");
      await exited(child);
    }
    if (url !== undefined) await deletePrefix(url, prefix);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const ask = (client: AgentAuthClient, sessionId: string, user = "alice") =>
    client.authorization.authorize({ agent: "assistant", user, action: "read", sessionId }).then((r) => r.decision!);

  it("a session created on A is valid on B and C", async () => {
    const { session } = await A.sessions.createSession({ agent: "assistant", user: "alice" });
    for (const replica of [A, B, C]) {
      const d = await ask(replica, session!.sessionId);
      expect([d.effect, d.reason]).to.deep.equal([Effect.ALLOW, "Allowed by profile 'assistant'"]);
    }
    expect((await C.sessions.getSession({ sessionId: session!.sessionId })).session?.agent).to.equal("assistant");
  });

  it("a revocation on B is seen by the next decision on A and C: 1,000 rounds, zero stale allows", async () => {
    let stale = 0;
    let checkedBefore = 0;
    for (let round = 0; round < 1000; round++) {
      const creator = [A, B, C][round % 3]!;
      const { session } = await creator.sessions.createSession({ agent: "assistant", user: "alice" });
      const id = session!.sessionId;
      if (round % 50 === 0) {
        // The session really is usable before the revocation.
        expect((await ask(A, id)).effect).to.equal(Effect.ALLOW);
        expect((await ask(C, id)).effect).to.equal(Effect.ALLOW);
        checkedBefore++;
      }
      const revoked = await B.sessions.revokeSession({ sessionId: id });
      expect(revoked.alreadyRevoked).to.equal(false);
      const [a, c] = await Promise.all([ask(A, id), ask(C, id)]);
      for (const d of [a, c]) {
        if (d.effect === Effect.ALLOW) stale++;
        else expect(d.reason).to.equal("Invalid or expired session");
      }
    }
    expect(stale).to.equal(0);
    expect(checkedBefore).to.equal(20);
  });

  it("a delegation created on C is used on A and bound to its user", async () => {
    const { delegation } = await C.delegations.createDelegation({ fromUser: "carol", toAgent: "assistant", actions: ["write:*"] });
    const used = await A.authorization.authorize({ agent: "assistant", user: "carol", action: "write:doc" });
    expect([used.decision?.effect, used.decision?.reason]).to.deep.equal([Effect.ALLOW, "Delegated by user 'carol'"]);
    const other = await B.authorization.authorize({ agent: "assistant", user: "dave", action: "write:doc" });
    expect(other.decision?.effect).to.equal(Effect.DENY);
    await B.delegations.revokeDelegation({ delegationId: delegation!.delegationId });
    expect((await A.authorization.authorize({ agent: "assistant", user: "carol", action: "write:doc" })).decision?.effect).to.equal(Effect.DENY);
  });

  it("expires records by Redis TTL", async () => {
    const { session } = await A.sessions.createSession({ agent: "assistant", user: "alice", durationSeconds: 1n });
    const id = session!.sessionId;
    expect((await ask(B, id)).effect).to.equal(Effect.ALLOW);
    const redis = new Redis(url);
    try {
      const ttl = await redis.pttl(`{${prefix}}:s:${id}`);
      expect(ttl).to.be.within(1, 1000);
      await new Promise((r) => setTimeout(r, 1100));
      expect(await redis.exists(`{${prefix}}:s:${id}`)).to.equal(0);
    } finally {
      redis.disconnect();
    }
    expect((await ask(C, id)).reason).to.equal("Invalid or expired session");
  });

  it("a subscriber on A receives the decisions made on B and C exactly once, in order", async () => {
    const stream = A.audit.subscribe({ filter: { users: ["stream-user"] } });
    await new Promise((r) => setTimeout(r, 300));
    const made: string[] = [];
    for (let i = 0; i < 60; i++) {
      const d = await ask(i % 2 === 0 ? B : C, "", "stream-user");
      made.push(d.decisionId);
    }
    const got = await take(stream, 60);
    expect(got.map((r) => r.event!.decisionId)).to.deep.equal(made);
    const cursors = got.map((r) => r.event!.cursor);
    expect(new Set(cursors).size).to.equal(60);
  });

  it("a client that disconnects and resumes by cursor on another replica loses nothing and gets nothing twice", async () => {
    const first = B.audit.subscribe({ filter: { users: ["resume-user"] } });
    await new Promise((r) => setTimeout(r, 300));
    const made: string[] = [];
    for (let i = 0; i < 30; i++) made.push((await ask([A, B, C][i % 3]!, "", "resume-user")).decisionId);
    const seen = await take(first, 12); // leaving the loop cancels the stream
    for (let i = 0; i < 30; i++) made.push((await ask([A, B, C][i % 3]!, "", "resume-user")).decisionId);
    const rest = await take(C.audit.subscribe({ filter: { users: ["resume-user"] }, afterCursor: seen.at(-1)!.event!.cursor }), 48);
    expect([...seen, ...rest].map((r) => r.event!.decisionId)).to.deep.equal(made);
  });

  it("every replica serves the same policy revision, and each reports it", async () => {
    const revisions = await Promise.all([A, B, C].map(async (c) => (await c.policy.describePolicy({})).revision));
    expect(new Set(revisions).size).to.equal(1);
    const listed = (await B.policy.describePolicy({})).replicas;
    expect(listed).to.have.length(3);
    expect(listed.map((r) => r.revision)).to.deep.equal([revisions[0], revisions[0], revisions[0]]);
  });

  it("replicas converge on a new revision when their policy files change, and A sees all three", async () => {
    const before = (await A.policy.describePolicy({})).revision;
    for (const name of ["a", "b", "c"]) {
      const path = join(dir, `${name}.yaml`);
      writeFileSync(path, POLICY(join(dir, `${name}-audit.jsonl`)).replace("allow: [read]", "allow: [read, list]"));
    }
    const start = Date.now();
    let listed: { revision: string }[] = [];
    for (;;) {
      listed = (await A.policy.describePolicy({})).replicas;
      if (listed.length === 3 && listed.every((r) => r.revision !== before) && new Set(listed.map((r) => r.revision)).size === 1) break;
      if (Date.now() - start > 10_000) expect.fail(`replicas did not converge: ${JSON.stringify(listed)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log(`      three replicas converged on the new revision in ${Date.now() - start} ms`);
    const d = await A.authorization.authorize({ agent: "assistant", user: "alice", action: "list" });
    expect(d.decision?.policyRevision).to.equal(listed[0]!.revision);
  });
});
