import { expect } from "chai";
import { parseConfig } from "../../../src/config/index.ts";
import { createAgentAuthClient, type AgentAuthClient } from "../../../src/client/index.ts";
import { readCases } from "../../../src/conformance/run-file.ts";
import type { AuthzCase } from "../../../src/conformance/cases.ts";
import { Effect, Tier } from "../../../gen/agentauth/v1/decision_pb.ts";
import { ManualClock } from "../../../src/model/clock.ts";
import { startAgentAuthServer, type AgentAuthServer } from "../../../src/server/app/start-server.ts";
import { silentLogger } from "../../../src/server/logger.ts";
import { post } from "../../support/http.ts";

const FILE = "test/fixtures/conformance/authz.jsonl";
const TIERS: Readonly<Record<number, string>> = { [Tier.AUTONOMOUS]: "autonomous", [Tier.SOFT]: "soft", [Tier.STRONG]: "strong" };

/** Why a case cannot go through a server at all, or undefined when it maps. */
function doesNotMap(c: AuthzCase): string | undefined {
  if (Object.hasOwn(c.expect, "config_error")) return "a config that must be refused (no request)";
  if (c.user_permissions !== undefined) return "a user-permissions provider (a library hook; the server has none)";
  return undefined;
}

/** The case's request as an AuthZEN evaluation: the user as subject, the agent as its RFC 8693 actor, the rest in context. */
function toEvaluation(r: NonNullable<AuthzCase["request"]>, sessionId: string | null): Record<string, unknown> {
  const context: Record<string, unknown> = { ...r.metadata };
  if (r.scope !== "") context["scope"] = r.scope;
  if (sessionId !== null && sessionId !== "") context["session_id"] = sessionId;
  if (r.target_agent !== null) context["target_agent"] = r.target_agent;
  return {
    subject: { type: "user", id: r.user, properties: { act: { sub: r.agent, sub_profile: "ai_agent" } } },
    action: { name: r.action },
    resource: { type: "resource", id: r.resource },
    context,
  };
}

/** Runs the setup ops over gRPC (the clock by hand); returns the ids they created. */
async function setUp(c: AuthzCase, client: AgentAuthClient, clock: ManualClock): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const op of c.setup) {
    const duration = op.duration === null || op.duration === undefined ? {} : { durationSeconds: BigInt(op.duration) };
    let failed: unknown;
    try {
      switch (op.op) {
        case "advance_clock":
          clock.advance(op.seconds ?? 0);
          break;
        case "session": {
          const s = await client.sessions.createSession({ agent: op.agent ?? "", user: op.user ?? "", scope: op.scope ?? "", ...duration });
          if (op.id !== undefined) ids.set(op.id, s.session!.sessionId);
          break;
        }
        case "delegation": {
          const d = await client.delegations.createDelegation({ fromUser: op.from_user ?? "", toAgent: op.to_agent ?? "", actions: [...(op.actions ?? [])], reason: op.reason ?? "", ...duration });
          if (op.id !== undefined) ids.set(op.id, d.delegation!.delegationId);
          break;
        }
        case "revoke_session":
          await client.sessions.revokeSession({ sessionId: ids.get(op.id ?? "") ?? op.id ?? "" });
          break;
        case "revoke_delegation":
          await client.delegations.revokeDelegation({ delegationId: ids.get(op.id ?? "") ?? op.id ?? "" });
          break;
      }
    } catch (error) {
      failed = error;
    }
    expect(failed !== undefined, `setup op ${op.op} ${op.id ?? ""}: ${String(failed)}`).to.equal(op.expect_error === true);
  }
  return ids;
}

describe(`conformance through the HTTP binding: ${FILE} (decisions equal to gRPC's and to the recorded ones)`, function () {
  this.timeout(60_000);
  const cases = readCases(FILE).map((x) => x.parsed).filter((p): p is AuthzCase => !(p instanceof Error) && "config" in p);
  const mapped = cases.filter((c) => doesNotMap(c) === undefined);

  it("maps every case except config errors and user-permissions providers", () => {
    const skipped = cases.filter((c) => doesNotMap(c) !== undefined);
    expect(skipped.every((c) => Object.hasOwn(c.expect, "config_error") || c.user_permissions !== undefined)).to.equal(true);
    expect(mapped.length).to.be.greaterThan(100);
  });

  // One server for every case, its policy swapped in per case as a reload would: starting a server
  // per case cost about half a second each. What a case leaves behind cannot reach the next: its
  // delegations are revoked after it, sessions are only used by their own ids, and the clock
  // only moves forward, as each case's times are relative to its start.
  let server: AgentAuthServer;
  let client: AgentAuthClient;
  const clock = new ManualClock();
  before(async () => {
    server = await startAgentAuthServer({ config: parseConfig('version: "1.0"\naudit: {enabled: true, path: /dev/null}\n', { env: {} }), port: 0, http: { port: 0 }, clock, logger: silentLogger });
    client = createAgentAuthClient(`127.0.0.1:${server.port}`, { defaultDeadlineMs: 10_000 });
  });
  after(async () => {
    client?.close();
    await server?.close(500);
  });
  afterEach(async () => {
    for (const d of (await client.delegations.listDelegations({})).delegations) await client.delegations.revokeDelegation({ delegationId: d.delegationId });
  });

  for (const c of mapped) {
    it(c.id, async () => {
      server.engine.setConfig(parseConfig(c.config, { env: c.env ?? {} }));
      const ids = await setUp(c, client, clock);
      const r = c.request!;
      const sessionId = r.session_id !== null && r.session_id.startsWith("$") ? (ids.get(r.session_id.slice(1)) ?? r.session_id) : r.session_id;
      const grpc = (
        await client.authorization.authorize({
          agent: r.agent,
          user: r.user,
          action: r.action,
          resource: r.resource,
          scope: r.scope,
          ...(sessionId === null ? {} : { sessionId }),
          ...(r.target_agent === null ? {} : { targetAgent: r.target_agent }),
          ...(Object.keys(r.metadata).length === 0 ? {} : { metadata: r.metadata as never }),
        })
      ).decision!;
      const http = await post(server.http!.url, "/access/v1/evaluation", toEvaluation(r, sessionId));
      expect(http.status, http.text).to.equal(200);
      const want = c.expect as { allowed: boolean; tier: string; requires_approval: boolean; approval_policy: string; reason: string };
      const ctx = http.json.context as Record<string, unknown>;
      const got = { allowed: http.json.decision === true || ctx["reason_code"] === "approval_required", tier: ctx["tier"], requires_approval: ctx["requires_approval"], approval_policy: ctx["approval_policy"] ?? "", reason: ctx["reason"] };
      expect(got, "HTTP vs recorded").to.deep.equal({ allowed: want.allowed, tier: want.tier, requires_approval: want.requires_approval, approval_policy: want.approval_policy, reason: want.reason });
      expect(http.json.decision).to.equal(want.allowed && !want.requires_approval);
      const fromGrpc = { allowed: grpc.effect === Effect.ALLOW, tier: grpc.effect === Effect.ALLOW ? TIERS[grpc.tier] : "autonomous", requires_approval: grpc.requiresApproval, approval_policy: grpc.approvalPolicy, reason: grpc.reason };
      expect(got, "HTTP vs gRPC").to.deep.equal(fromGrpc);
      expect(ctx["policy_revision"]).to.equal(grpc.policyRevision);
    });
  }
});
