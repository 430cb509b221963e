import { expect } from "chai";
import { status } from "@grpc/grpc-js";
import { Effect, Tier } from "../../gen/agentauth/v1/decision_pb.ts";
import { SessionStatus } from "../../gen/agentauth/v1/session_pb.ts";
import { DelegationStatus } from "../../gen/agentauth/v1/delegation_pb.ts";
import { isClientError, type AgentAuthClient, type ClientError } from "../../src/client/index.ts";
import type { AgentAuthServer } from "../../src/server/app/start-server.ts";
import { startTestServer } from "../support/server.ts";

async function failure(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p;
  } catch (e) {
    if (isClientError(e)) return e;
    throw e;
  }
  throw new Error("expected the call to fail");
}

describe("gRPC services (end to end, real sockets)", () => {
  let server: AgentAuthServer;
  let client: AgentAuthClient;
  before(async () => {
    ({ server, client } = await startTestServer({ maxBatch: 5 }));
  });
  after(async () => {
    client.close();
    await server.close(1000);
  });

  describe("AuthorizationService", () => {
    it("states the effect explicitly and carries id, revision and time", async () => {
      const { decision } = await client.authorization.authorize({ agent: "assistant", user: "alice", action: "read", scope: "project:x" });
      expect(decision).to.deep.include({ effect: Effect.ALLOW, tier: Tier.AUTONOMOUS, requiresApproval: false, approvalPolicy: "", reason: "Allowed by profile 'assistant'" });
      expect(decision!.decisionId).to.match(/^[0-9a-f-]{36}$/);
      expect(decision!.policyRevision).to.equal(server.engine.revision);
      expect(decision!.evaluationTime).to.not.equal(undefined);
    });

    it("gives a denial the tier autonomous, as the library does", async () => {
      const { decision } = await client.authorization.authorize({ agent: "assistant", user: "alice", action: "delete" });
      expect(decision).to.deep.include({ effect: Effect.DENY, tier: Tier.AUTONOMOUS, reason: "Action 'delete' denied by profile 'assistant'" });
    });

    it("passes metadata to conditions and escalates tiers", async () => {
      const { decision } = await client.authorization.authorize({ agent: "caller", user: "u", action: "pay", metadata: { amount: 5000 } });
      expect(decision).to.deep.include({ effect: Effect.ALLOW, tier: Tier.STRONG, requiresApproval: true, approvalPolicy: "big" });
      const soft = await client.authorization.authorize({ agent: "deployer", user: "u", action: "deploy" });
      expect(soft.decision).to.deep.include({ tier: Tier.SOFT, requiresApproval: true, approvalPolicy: "" });
    });

    it("checks agent-to-agent rules", async () => {
      const ok = await client.authorization.authorize({ agent: "caller", user: "u", action: "ask", targetAgent: "helper" });
      expect(ok.decision?.effect).to.equal(Effect.ALLOW);
      const no = await client.authorization.authorize({ agent: "caller", user: "u", action: "ask", targetAgent: "stranger" });
      expect(no.decision).to.deep.include({ effect: Effect.DENY, reason: "Denied by default A2A policy" });
    });

    const bad: [string, Record<string, unknown>, string][] = [
      ["an empty agent", { agent: "", user: "u", action: "x" }, "agent"],
      ["a missing user", { agent: "a", action: "x" }, "user"],
      ["an empty action", { agent: "a", user: "u" }, "action"],
      ["an oversized resource", { agent: "a", user: "u", action: "x", resource: "r".repeat(5000) }, "resource"],
      // Request scopes and actions, matched against caller-chosen patterns, are bounded too.
      ["an oversized scope", { agent: "a", user: "u", action: "x", scope: "s".repeat(4097) }, "scope"],
      ["an oversized action", { agent: "a", user: "u", action: "x".repeat(4097) }, "action"],
      ["metadata nested too deep", { agent: "a", user: "u", action: "x", metadata: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } } }, "metadata.a.b.c.d.e.f.g.h"],
    ];
    for (const [title, request, field] of bad) {
      it(`rejects ${title} with INVALID_ARGUMENT naming ${field}`, async () => {
        const e = await failure(client.authorization.authorize(request));
        expect(e.code).to.equal(status.INVALID_ARGUMENT);
        expect(e.fieldViolations.map((v) => v.field)).to.deep.equal([field]);
        expect(e.details).to.match(new RegExp(`^${field.replace(/[.[\]]/g, "\\$&")}: `));
      });
    }

    it("answers a batch in order, with errors for bad items only", async () => {
      const { results } = await client.authorization.authorizeBatch({
        requests: [
          { agent: "assistant", user: "u", action: "read" },
          { agent: "", user: "u", action: "read" },
          { agent: "assistant", user: "u", action: "delete" },
        ],
      });
      expect(results.map((r) => r.result.case)).to.deep.equal(["decision", "error", "decision"]);
      const error = results[1]!.result.value as { code: number; message: string };
      expect([error.code, error.message]).to.deep.equal([status.INVALID_ARGUMENT, "requests[1].agent: must not be empty"]);
      expect((results[2]!.result.value as { effect: Effect }).effect).to.equal(Effect.DENY);
    });

    it("refuses a batch over the limit", async () => {
      const requests = Array.from({ length: 6 }, () => ({ agent: "a", user: "u", action: "x" }));
      const e = await failure(client.authorization.authorizeBatch({ requests }));
      expect([e.code, e.details]).to.deep.equal([status.INVALID_ARGUMENT, "requests: has 6 items; the limit is 5 (limits.max_batch)"]);
    });
  });

  describe("SessionService", () => {
    it("creates, reads, lists, gates requests, and revokes", async () => {
      const { session } = await client.sessions.createSession({ agent: "assistant", user: "alice", scope: "project:a*", durationSeconds: 120n });
      expect(session).to.deep.include({ agent: "assistant", user: "alice", scope: "project:a*", status: SessionStatus.ACTIVE });
      const id = session!.sessionId;
      expect((await client.sessions.getSession({ sessionId: id })).session?.sessionId).to.equal(id);
      const listed = await client.sessions.listSessions({ agent: "assistant" });
      expect(listed.sessions.map((s) => s.sessionId)).to.include(id);
      const inScope = await client.authorization.authorize({ agent: "assistant", user: "alice", action: "read", sessionId: id, scope: "project:alpha" });
      expect(inScope.decision?.effect).to.equal(Effect.ALLOW);
      const outside = await client.authorization.authorize({ agent: "assistant", user: "alice", action: "read", sessionId: id, scope: "project:beta" });
      expect(outside.decision?.reason).to.equal("Scope 'project:beta' outside session scope 'project:a*'");
      const revoked = await client.sessions.revokeSession({ sessionId: id });
      expect([revoked.session?.status, revoked.alreadyRevoked]).to.deep.equal([SessionStatus.REVOKED, false]);
      expect((await client.sessions.revokeSession({ sessionId: id })).alreadyRevoked).to.equal(true);
      const after = await client.authorization.authorize({ agent: "assistant", user: "alice", action: "read", sessionId: id });
      expect(after.decision?.reason).to.equal("Invalid or expired session");
    });

    it("pages listings", async () => {
      for (let i = 0; i < 5; i++) await client.sessions.createSession({ agent: "pager", user: `u${i}` });
      const first = await client.sessions.listSessions({ agent: "pager", pageSize: 2 });
      const second = await client.sessions.listSessions({ agent: "pager", pageSize: 2, pageToken: first.nextPageToken });
      const third = await client.sessions.listSessions({ agent: "pager", pageSize: 2, pageToken: second.nextPageToken });
      expect([first.sessions.length, second.sessions.length, third.sessions.length, third.nextPageToken]).to.deep.equal([2, 2, 1, ""]);
      const e = await failure(client.sessions.listSessions({ pageToken: "garbage" }));
      expect([e.code, e.fieldViolations[0]?.field]).to.deep.equal([status.INVALID_ARGUMENT, "page_token"]);
    });

    it("answers NOT_FOUND and INVALID_ARGUMENT with the field", async () => {
      expect((await failure(client.sessions.getSession({ sessionId: "nope" }))).code).to.equal(status.NOT_FOUND);
      expect((await failure(client.sessions.revokeSession({ sessionId: "nope" }))).code).to.equal(status.NOT_FOUND);
      const e = await failure(client.sessions.createSession({ agent: "a", user: "u", durationSeconds: 0n }));
      expect([e.code, e.fieldViolations[0]?.field]).to.deep.equal([status.INVALID_ARGUMENT, "duration_seconds"]);
      const empty = await failure(client.sessions.createSession({ agent: "a", user: "" }));
      expect(empty.fieldViolations[0]?.field).to.equal("user");
    });

    // The review's session scope: "*", 4,094 "?" and "b", matched by every
    // later decision in that session. Refused at creation, naming the limit.
    it("refuses session scopes over the pattern limits, naming the limit", async () => {
      const long = await failure(client.sessions.createSession({ agent: "assistant", user: "alice", scope: "*" + "?".repeat(4094) + "b" }));
      expect([long.code, long.fieldViolations[0]?.field, long.details]).to.deep.equal([
        status.INVALID_ARGUMENT,
        "scope",
        "scope: is a pattern 4096 characters long; the limit is 256 (limits.max_pattern_length)",
      ]);
      const wild = await failure(client.sessions.createSession({ agent: "assistant", user: "alice", scope: "*" + "?".repeat(16) + "b" }));
      expect([wild.code, wild.details]).to.deep.equal([
        status.INVALID_ARGUMENT,
        "scope: is a pattern with 17 wildcards (*, ?, [...]); the limit is 16 (limits.max_pattern_wildcards)",
      ]);
      const within = await client.sessions.createSession({ agent: "assistant", user: "alice", scope: "*" + "?".repeat(15) + "b" });
      const id = within.session!.sessionId;
      const inside = await client.authorization.authorize({ agent: "assistant", user: "alice", action: "read", sessionId: id, scope: "project:" + "x".repeat(4000) + "b" });
      expect(inside.decision?.effect).to.equal(Effect.ALLOW);
      const outside = await client.authorization.authorize({ agent: "assistant", user: "alice", action: "read", sessionId: id, scope: "project:" + "x".repeat(4000) + "c" });
      expect(outside.decision?.effect).to.equal(Effect.DENY);
    });
  });

  describe("DelegationService", () => {
    it("refuses delegated actions over the pattern limits, naming the item and the limit", async () => {
      const e = await failure(client.delegations.createDelegation({ fromUser: "carol", toAgent: "assistant", actions: ["pay", "[ab]".repeat(17)], reason: "r" }));
      expect([e.code, e.fieldViolations[0]?.field, e.details]).to.deep.equal([
        status.INVALID_ARGUMENT,
        "actions[1]",
        "actions[1]: is a pattern with 17 wildcards (*, ?, [...]); the limit is 16 (limits.max_pattern_wildcards)",
      ]);
      const long = await failure(client.delegations.createDelegation({ fromUser: "carol", toAgent: "assistant", actions: ["p".repeat(257)], reason: "r" }));
      expect(long.details).to.equal("actions[0]: is a pattern 257 characters long; the limit is 256 (limits.max_pattern_length)");
    });

    it("creates, uses, lists and revokes a delegation", async () => {
      const { delegation } = await client.delegations.createDelegation({ fromUser: "carol", toAgent: "assistant", actions: ["pay"], reason: "travel" });
      expect(delegation).to.deep.include({ fromUser: "carol", toAgent: "assistant", actions: ["pay"], status: DelegationStatus.ACTIVE });
      const used = await client.authorization.authorize({ agent: "assistant", user: "carol", action: "pay", metadata: { amount: 1 } });
      expect(used.decision?.reason).to.equal("Delegated by user 'carol'");
      const notBob = await client.authorization.authorize({ agent: "assistant", user: "bob", action: "pay", metadata: { amount: 1 } });
      expect(notBob.decision?.effect).to.equal(Effect.DENY);
      const listed = await client.delegations.listDelegations({ user: "carol" });
      expect(listed.delegations.map((d) => d.delegationId)).to.deep.equal([delegation!.delegationId]);
      const revoked = await client.delegations.revokeDelegation({ delegationId: delegation!.delegationId });
      expect(revoked.delegation?.status).to.equal(DelegationStatus.REVOKED);
      expect((await failure(client.delegations.revokeDelegation({ delegationId: "nope" }))).code).to.equal(status.NOT_FOUND);
    });

    it("refuses what the rules refuse with FAILED_PRECONDITION and the original's messages", async () => {
      const e = await failure(client.delegations.createDelegation({ fromUser: "u", toAgent: "a", actions: ["deploy"], durationSeconds: 7200n }));
      expect(e.code).to.equal(status.FAILED_PRECONDITION);
      expect(e.details).to.equal("Delegation validation failed:\n  Action 'deploy' not allowed by delegation rule 'safe'\n  Duration (7200s) exceeds rule 'safe' max_duration (3600s)");
    });
  });

  describe("PolicyService", () => {
    it("validates a good document and returns its revision", async () => {
      const r = await client.policy.validatePolicy({ yaml: "profiles: {a: {allow: [x]}}\nextra: 1\n" });
      expect(r.revision).to.match(/^[0-9a-f]{16}$/);
      expect(r.summary?.profiles).to.equal(1);
      expect(r.warnings.map((w) => w.message)).to.deep.equal(["extra: unknown key 'extra' (ignored)"]);
    });

    it("returns every problem of a bad document as INVALID_ARGUMENT field violations", async () => {
      const e = await failure(client.policy.validatePolicy({ yaml: "version: '9'\nprofiles: {a: {default_tier: hard}}\n" }));
      expect(e.code).to.equal(status.INVALID_ARGUMENT);
      expect(e.fieldViolations.map((v) => v.field)).to.deep.equal(["version", "profiles.a.default_tier"]);
      expect(e.fieldViolations[1]!.description).to.contain("(line 2)");
      const syntax = await failure(client.policy.validatePolicy({ yaml: "a: [" }));
      expect(syntax.fieldViolations[0]?.field).to.equal("yaml");
    });

    it("describes the policy being served", async () => {
      const r = await client.policy.describePolicy({});
      expect([r.name, r.revision, r.summary?.profiles]).to.deep.equal(["server-test", server.engine.revision, 3]);
      expect(r.roles.find((x) => x.name === "editor")?.effectiveActions).to.have.members(["read", "list", "write"]);
      expect(r.profiles.find((p) => p.name === "deployer")?.defaultTier).to.equal(Tier.SOFT);
    });
  });
});
