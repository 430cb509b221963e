import { expect } from "chai";
import type { AgentAuthServer } from "../../../src/server/app/start-server.ts";
import type { AgentAuthClient } from "../../../src/client/index.ts";
import { call, post, type HttpAnswer } from "../../support/http.ts";
import { startTestServer } from "../../support/server.ts";

/** An evaluation in the user-subject form: the agent as the RFC 8693 actor. */
const asUser = (agent: string, user: string, action: string, resource = "/docs/1", extra: Record<string, unknown> = {}) => ({
  subject: { type: "user", id: user, properties: { act: { sub: agent, sub_profile: "ai_agent" } } },
  action: { name: action },
  resource: { type: "document", id: resource },
  ...extra,
});

describe("AuthZEN Authorization API over HTTP", function () {
  this.timeout(60_000);
  let server: AgentAuthServer;
  let client: AgentAuthClient;
  let base: string;
  const evaluation = (body: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> => post(base, "/access/v1/evaluation", body, headers);
  const evaluations = (body: unknown): Promise<HttpAnswer> => post(base, "/access/v1/evaluations", body);
  const recorded = async (decisionId: string) => (await server.hub.query({ limit: 100_000 })).entries.filter((e) => e.event.decision.decisionId === decisionId);

  before(async () => {
    ({ server, client } = await startTestServer({ http: { port: 0 } }));
    base = server.http!.url;
  });
  after(async () => {
    client?.close();
    await server?.close(1000);
  });

  describe("the certification scenario's 400 cases", () => {
    const ok = { subject: { type: "user", id: "alice", properties: { act: { sub: "assistant" } } }, action: { name: "read" }, resource: { type: "record", id: "record-1" } };
    const cases: Array<[string, { body?: unknown; raw?: string; headers?: Record<string, string> }, string]> = [
      ["missing subject", { body: { action: ok.action, resource: ok.resource } }, "subject: is required"],
      ["missing action", { body: { subject: ok.subject, resource: ok.resource } }, "action: is required"],
      ["missing resource", { body: { subject: ok.subject, action: ok.action } }, "resource: is required"],
      ["subject without type", { body: { ...ok, subject: { id: "alice" } } }, "subject.type: is required"],
      ["subject without id", { body: { ...ok, subject: { type: "user" } } }, "subject.id: is required"],
      ["action without name", { body: { ...ok, action: {} } }, "action.name: is required"],
      ["resource without type", { body: { ...ok, resource: { id: "record-1" } } }, "resource.type: is required"],
      ["resource without id", { body: { ...ok, resource: { type: "record" } } }, "resource.id: is required"],
      ["subject as a string", { body: { ...ok, subject: "alice" } }, "subject: must be a JSON object"],
      ["action.name as a number", { body: { ...ok, action: { name: 123 } } }, "action.name: must be a string"],
      ["a body that is not an object", { raw: "[1,2]", headers: { "content-type": "application/json" } }, "request body: must be a JSON object"],
      ["wrong Content-Type", { raw: JSON.stringify(ok), headers: { "content-type": "text/plain" } }, "Content-Type must be application/json"],
      ["no Content-Type", { raw: JSON.stringify(ok) }, "Content-Type must be application/json"],
      ["malformed JSON", { raw: '{"subject": {', headers: { "content-type": "application/json" } }, "request body: is not valid JSON"],
      ["empty body", { raw: "", headers: { "content-type": "application/json" } }, "request body: is empty"],
    ];
    for (const path of ["/access/v1/evaluation", "/access/v1/evaluations"]) {
      for (const [name, c, message] of cases) {
        it(`${path}: ${name} is 400 naming it`, async () => {
          const r = await call(base, path, c);
          expect(r.status, r.text).to.equal(400);
          expect(r.headers["content-type"]).to.match(/^application\/json/);
          expect(r.json.error).to.include(message);
        });
      }
    }

    it("accepts the valid request of the same shapes (200)", async () => {
      const r = await evaluation(ok);
      expect(r.status, r.text).to.equal(200);
      expect(r.json.decision).to.equal(true);
    });
  });

  describe("evaluation", () => {
    it("answers an allow with its context, and records it exactly like Authorize plus transport and request id", async () => {
      const r = await evaluation(asUser("assistant", "alice", "read", "/docs/1", { resource: { type: "document", id: "/docs/1", properties: { scope: "project:web" } } }), { "x-request-id": "req-42" });
      expect(r.status).to.equal(200);
      expect(r.headers["x-request-id"]).to.equal("req-42");
      expect(r.headers["content-type"]).to.match(/^application\/json/);
      expect(r.json).to.deep.equal({
        decision: true,
        context: { decision_id: r.json.context.decision_id, reason: "Allowed by profile 'assistant'", tier: "autonomous", requires_approval: false, policy_revision: server.engine.revision },
      });
      const [entry] = await recorded(r.json.context.decision_id);
      expect(entry!.event.request).to.deep.include({ agent: "assistant", user: "alice", action: "read", resource: "/docs/1", scope: "project:web" });
      expect(entry!.event.origin).to.deep.equal({ transport: "http", requestId: "req-42" });
      const grpc = await client.authorization.authorize({ agent: "assistant", user: "alice", action: "read", resource: "/docs/1", scope: "project:web" });
      expect(grpc.decision?.reason).to.equal(r.json.context.reason);
    });

    it("echoes X-Request-ID on errors too, and refuses one over the string limit", async () => {
      const bad = await evaluation({ subject: "alice" }, { "x-request-id": "req-bad" });
      expect(bad.status).to.equal(400);
      expect(bad.headers["x-request-id"]).to.equal("req-bad");
      const long = await evaluation(asUser("assistant", "alice", "read"), { "x-request-id": "x".repeat(5000) });
      expect(long.status).to.equal(400);
      expect(long.json.error).to.equal("X-Request-ID: is 5000 characters long; the limit is 4096 (limits.max_string_length)");
      const none = await evaluation(asUser("assistant", "alice", "read"));
      expect(none.status).to.equal(200);
      expect(none.headers["x-request-id"]).to.equal(undefined);
    });

    it("ignores unknown members, and gives the same decision to the same request every time", async () => {
      const body = { ...asUser("assistant", "alice", "write"), foo: "bar", futureField: { nested: true }, action: { name: "write", extra: 1 } };
      const answers = await Promise.all(Array.from({ length: 5 }, () => evaluation(body)));
      for (const a of answers) {
        expect(a.status).to.equal(200);
        expect(a.json.decision).to.equal(true);
        expect(a.json.context.reason).to.equal("Allowed by profile 'assistant'");
      }
      expect(new Set(answers.map((a) => a.json.context.decision_id)).size).to.equal(5);
    });

    it("answers a deny as 200 with decision false and the reason", async () => {
      const r = await evaluation(asUser("assistant", "alice", "delete"));
      expect(r.status).to.equal(200);
      expect(r.json.decision).to.equal(false);
      expect(r.json.context).to.deep.include({ reason: "Action 'delete' denied by profile 'assistant'", tier: "autonomous", requires_approval: false });
      expect(r.json.context).to.not.have.property("approval_policy");
      expect(r.json.context).to.not.have.property("reason_code");
    });

    it("answers an allow that needs approval as decision false, reason_code approval_required and its tier", async () => {
      const r = await evaluation(asUser("assistant", "alice", "write", "/prod/db"));
      expect(r.json.decision).to.equal(false);
      expect(r.json.context).to.deep.include({ reason_code: "approval_required", tier: "strong", requires_approval: true, approval_policy: "prod" });
      expect(r.json.context.reason).to.equal("Allowed by profile 'assistant' (requires strong approval)");
    });

    it("takes the agent from context.agent, or from an agent subject with the user beside it", async () => {
      const viaContext = await evaluation({ subject: { type: "user", id: "alice" }, action: { name: "read" }, resource: { type: "d", id: "x" }, context: { agent: "assistant" } });
      expect(viaContext.json.context.reason).to.equal("Allowed by profile 'assistant'");
      const agentSubject = await evaluation({ subject: { type: "agent", id: "deployer", properties: { user: "bob" } }, action: { name: "deploy" }, resource: { type: "svc", id: "payments" } });
      expect(agentSubject.json.context).to.deep.include({ reason: "Allowed by profile 'deployer' (requires soft approval)", tier: "soft", reason_code: "approval_required" });
      const [entry] = await recorded(agentSubject.json.context.decision_id);
      expect(entry!.event.request).to.deep.include({ agent: "deployer", user: "bob" });
      const userInContext = await evaluation({ subject: { type: "agent", id: "assistant" }, action: { name: "read" }, resource: { type: "svc", id: "payments" }, context: { user: "bob" } });
      expect(userInContext.json.decision).to.equal(true);
      expect((await recorded(userInContext.json.context.decision_id))[0]!.event.request.user).to.equal("bob");
    });

    it("refuses a request naming no agent with a message saying how to name one (our profile of the spec)", async () => {
      const r = await evaluation({ subject: { type: "user", id: "alice" }, action: { name: "read" }, resource: { type: "record", id: "record-1" } });
      expect(r.status).to.equal(400);
      expect(r.json.error).to.include("no acting agent").and.include("subject.properties.act").and.include("context.agent").and.include('"type": "agent"');
      const noUser = await evaluation({ subject: { type: "agent", id: "assistant" }, action: { name: "read" }, resource: { type: "d", id: "x" } });
      expect(noUser.status).to.equal(400);
      expect(noUser.json.error).to.include("subject.properties.user: is required when the subject is an agent");
    });

    it("refuses two different agents (or users, or scopes) for one request, naming both members", async () => {
      const agents = await evaluation({ ...asUser("assistant", "alice", "read"), context: { agent: "deployer" } });
      expect(agents.status).to.equal(400);
      expect(agents.json.error).to.equal('subject.properties.act.sub ("assistant") and context.agent ("deployer") name different agents; give one');
      const same = await evaluation({ ...asUser("assistant", "alice", "read"), context: { agent: "assistant" } });
      expect(same.status).to.equal(200);
      const users = await evaluation({ subject: { type: "agent", id: "assistant", properties: { user: "alice" } }, action: { name: "read" }, resource: { type: "d", id: "x" }, context: { user: "bob" } });
      expect(users.json.error).to.include("subject.properties.user").and.include("context.user");
      const scopes = await evaluation({ ...asUser("assistant", "alice", "read"), resource: { type: "d", id: "x", properties: { scope: "project:a" } }, context: { scope: "project:b" } });
      expect(scopes.status).to.equal(400);
      expect(scopes.json.error).to.include("resource.properties.scope").and.include("context.scope");
      const badAct = await evaluation({ subject: { type: "user", id: "alice", properties: { act: "assistant" } }, action: { name: "read" }, resource: { type: "d", id: "x" } });
      expect(badAct.json.error).to.include("subject.properties.act: must be an object");
    });

    it("maps scope, session_id and target_agent as Authorize does", async () => {
      const outOfScope = await evaluation({ ...asUser("assistant", "alice", "read"), context: { scope: "billing:x" } });
      expect(outOfScope.json.context.reason).to.equal("Scope 'billing:x' not allowed by profile 'assistant'");
      const session = await client.sessions.createSession({ agent: "assistant", user: "alice", scope: "project:*" });
      const inSession = await evaluation({ ...asUser("assistant", "alice", "read"), context: { session_id: session.session!.sessionId, scope: "project:web" } });
      expect(inSession.json.decision).to.equal(true);
      const wrongAgent = await evaluation({ ...asUser("deployer", "alice", "read"), context: { session_id: session.session!.sessionId } });
      expect(wrongAgent.json.context.reason).to.equal("Session agent mismatch: expected 'assistant', got 'deployer'");
      const a2a = await evaluation({ ...asUser("caller", "alice", "ping"), context: { target_agent: "helper" } });
      expect(a2a.json.decision).to.equal(true);
      const a2aDenied = await evaluation({ ...asUser("assistant", "alice", "read"), context: { target_agent: "helper" } });
      expect(a2aDenied.json.context.reason).to.equal("Denied by default A2A policy");
    });

    it("reads condition fields from resource properties, then action properties, then context; never request fields", async () => {
      const pay = (over: Record<string, unknown>) => evaluation({ ...asUser("caller", "alice", "pay", "/invoices/1"), ...over });
      const big = await pay({ context: { amount: 5000 } });
      expect(big.json.context).to.deep.include({ reason_code: "approval_required", approval_policy: "big" });
      const small = await pay({ context: { amount: 10 } });
      expect(small.json.decision).to.equal(true);
      // Later sources win: the context's amount over the action's over the resource's.
      const layered = await pay({ resource: { type: "d", id: "/invoices/1", properties: { amount: 5000 } }, action: { name: "pay", properties: { amount: 5000 } }, context: { amount: 1 } });
      expect(layered.json.decision).to.equal(true);
      const fromAction = await pay({ action: { name: "pay", properties: { amount: 5000 } } });
      expect(fromAction.json.context.approval_policy).to.equal("big");
      // A property named like a request field cannot move the resource under /prod.
      const sneaky = await evaluation({ ...asUser("assistant", "alice", "write", "/docs/1"), context: { resource: "/prod/db" } });
      expect(sneaky.json.decision).to.equal(true);
    });

    it("names the AuthZEN member when a limit is exceeded", async () => {
      const long = await evaluation(asUser("assistant", "alice", "read", "r".repeat(5000)));
      expect(long.status).to.equal(400);
      expect(long.json.error).to.equal("resource.id: is 5000 characters long; the limit is 4096 (limits.max_string_length)");
      const emptyAgent = await evaluation({ subject: { type: "agent", id: "", properties: { user: "alice" } }, action: { name: "read" }, resource: { type: "d", id: "x" } });
      expect(emptyAgent.json.error).to.equal("subject.id: must not be empty");
      const deep = await evaluation({ ...asUser("assistant", "alice", "read"), context: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } } });
      expect(deep.status).to.equal(400);
      expect(deep.json.error).to.match(/^context\.a\.b\.c\.d\.e\.f\.g\.h: nesting exceeds the limit of 8 levels \(limits\.max_metadata_depth\)$/);
    });

    it("answers 404 for unknown paths and 413 over the body limit", async () => {
      const nothing = await call(base, "/access/v2/evaluation", { body: {} });
      expect(nothing.status).to.equal(404);
      const huge = await call(base, "/access/v1/evaluation", { raw: JSON.stringify({ pad: "x".repeat(4 * 1024 * 1024 + 10) }), headers: { "content-type": "application/json" } });
      expect(huge.status).to.equal(413);
      expect(huge.json.error).to.include("(limits.max_message_bytes)");
    });
  });

  describe("evaluations (batch)", () => {
    const defaults = { subject: { type: "user", id: "alice", properties: { act: { sub: "assistant" } } }, action: { name: "read" } };
    const items = [
      { resource: { type: "d", id: "/docs/1" } },
      { action: { name: "delete" }, resource: { type: "d", id: "/docs/2" } },
      { resource: { type: "d", id: "/docs/3" } },
      { action: { name: "write" }, resource: { type: "d", id: "/docs/4" } },
    ];

    it("executes all by default, in order, each item replacing whole entities of the defaults", async () => {
      const r = await evaluations({ ...defaults, evaluations: items });
      expect(r.status).to.equal(200);
      expect(r.json).to.not.have.property("decision");
      expect(r.json.evaluations.map((e: { decision: boolean }) => e.decision)).to.deep.equal([true, false, true, true]);
      // The second item's own action replaced the default.
      expect(r.json.evaluations[1].context.reason).to.equal("Action 'delete' denied by profile 'assistant'");
      const replaced = await evaluations({ ...defaults, resource: { type: "record" }, evaluations: [{ resource: { id: "x" } }] });
      expect(replaced.json.evaluations[0]).to.deep.equal({ decision: false, context: { error: { status: 400, message: "resource.type: is required" } } });
    });

    it("stops after the first deny, or the first permit; later items are neither evaluated nor recorded", async () => {
      const before = (await server.hub.query({ limit: 100_000 })).entries.length;
      const deny = await evaluations({ ...defaults, evaluations: items, options: { evaluations_semantic: "deny_on_first_deny" } });
      expect(deny.json.evaluations.map((e: { decision: boolean }) => e.decision)).to.deep.equal([true, false]);
      const permit = await evaluations({ ...defaults, evaluations: [items[1], items[0], items[2]], options: { evaluations_semantic: "permit_on_first_permit" } });
      expect(permit.json.evaluations.map((e: { decision: boolean }) => e.decision)).to.deep.equal([false, true]);
      const all = await evaluations({ ...defaults, evaluations: items, options: { evaluations_semantic: "execute_all", another_option: 1 } });
      expect(all.json.evaluations).to.have.length(4);
      expect((await server.hub.query({ limit: 100_000 })).entries.length - before).to.equal(2 + 2 + 4);
      const bad = await evaluations({ ...defaults, evaluations: items, options: { evaluations_semantic: "first_come" } });
      expect(bad.status).to.equal(400);
      expect(bad.json.error).to.include("options.evaluations_semantic: must be one of");
    });

    it("answers a per-item problem in that item's context and keeps the batch 200 and its length", async () => {
      const r = await evaluations({ ...defaults, evaluations: [items[0], {}, 5, { resource: { type: "d", id: "x" }, subject: { type: "user", id: "bob" } }, { resource: { type: "d", id: "r".repeat(5000) } }] });
      expect(r.status).to.equal(200);
      const e = r.json.evaluations;
      expect(e).to.have.length(5);
      expect(e[0].decision).to.equal(true);
      expect(e[1]).to.deep.equal({ decision: false, context: { error: { status: 400, message: "resource: is required" } } });
      expect(e[2]).to.deep.equal({ decision: false, context: { error: { status: 400, message: "evaluation: must be a JSON object" } } });
      expect(e[3].decision).to.equal(false);
      expect(e[3].context.error.message).to.include("no acting agent");
      expect(e[4].context.error).to.deep.equal({ status: 400, message: "resource.id: is 5000 characters long; the limit is 4096 (limits.max_string_length)" });
      // An item error counts as a deny for deny_on_first_deny.
      const stop = await evaluations({ ...defaults, evaluations: [items[0], {}, items[2]], options: { evaluations_semantic: "deny_on_first_deny" } });
      expect(stop.json.evaluations).to.have.length(2);
    });

    it("answers like a single evaluation without items, and refuses more items than max_batch", async () => {
      for (const extra of [{}, { evaluations: [] }]) {
        const r = await evaluations({ ...defaults, resource: { type: "d", id: "/docs/1" }, ...extra });
        expect(r.status).to.equal(200);
        expect(r.json.decision).to.equal(true);
        expect(r.json).to.not.have.property("evaluations");
        const missing = await evaluations({ ...defaults, ...extra });
        expect(missing.status).to.equal(400);
        expect(missing.json.error).to.equal("resource: is required");
      }
      const tooMany = await evaluations({ ...defaults, evaluations: Array.from({ length: 1001 }, () => items[0]) });
      expect(tooMany.status).to.equal(400);
      expect(tooMany.json.error).to.equal("evaluations: has 1001 items; the limit is 1000 (limits.max_batch)");
    });
  });

  describe("search", () => {
    const subjectSearch = (body: Record<string, unknown>) => post(base, "/access/v1/search/subject", body);
    const base_ = { subject: { type: "agent" }, action: { name: "read" }, resource: { type: "d", id: "/docs/1" }, context: { user: "alice" } };

    it("finds the agents the engine would allow for the user, with tiers of those needing approval, recording nothing", async () => {
      const before = (await server.hub.query({ limit: 100_000 })).entries.length;
      const r = await subjectSearch(base_);
      expect(r.status).to.equal(200);
      expect(r.json.results).to.deep.equal([
        { type: "agent", id: "assistant" },
        { type: "agent", id: "caller" },
        { type: "agent", id: "deployer" },
      ]);
      expect(r.json.context).to.deep.equal({ approval_tiers: { deployer: "soft" } });
      expect(r.json.page).to.deep.equal({ next_token: "", count: 3, total: 3 });
      expect((await server.hub.query({ limit: 100_000 })).entries.length).to.equal(before);
      // Each result, evaluated, is allowed (or needs approval).
      for (const { id } of r.json.results) {
        const e = await evaluation({ subject: { type: "agent", id, properties: { user: "alice" } }, action: base_.action, resource: base_.resource });
        expect(e.json.decision || e.json.context.reason_code === "approval_required", id).to.equal(true);
      }
    });

    it("counts delegations the user gave, and nothing for other subject types", async () => {
      const none = await subjectSearch({ ...base_, action: { name: "pay" } });
      expect(none.json.results.map((x: { id: string }) => x.id)).to.deep.equal(["caller"]);
      await client.delegations.createDelegation({ fromUser: "carol", toAgent: "stranger-bot", actions: ["pay"], reason: "test" });
      const delegated = await subjectSearch({ ...base_, action: { name: "pay" }, context: { user: "carol", amount: 1 } });
      expect(delegated.json.results.map((x: { id: string }) => x.id)).to.deep.equal(["caller", "stranger-bot"]);
      for (const type of ["user", "spaceship"]) {
        const r = await subjectSearch({ ...base_, subject: { type } });
        expect(r.status).to.equal(200);
        expect(r.json.results).to.deep.equal([]);
      }
      const noUser = await subjectSearch({ ...base_, context: {} });
      expect(noUser.status).to.equal(400);
      expect(noUser.json.error).to.include("context.user: is required");
      const missing = await subjectSearch({ subject: { type: "agent" }, resource: base_.resource });
      expect(missing.status).to.equal(400);
      expect(missing.json.error).to.equal("action: is required");
    });

    it("pages with tokens that are stable and bound to the request", async () => {
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const r = await subjectSearch({ ...base_, page: { limit: 1, ...(token === undefined ? {} : { token }) } });
        expect(r.status, r.text).to.equal(200);
        expect(r.json.page.count).to.equal(1);
        expect(r.json.page.total).to.equal(3);
        seen.push(...r.json.results.map((x: { id: string }) => x.id));
        token = r.json.page.next_token;
        pages++;
      } while (token !== "" && pages < 10);
      expect(seen).to.deep.equal(["assistant", "caller", "deployer"]);
      const first = await subjectSearch({ ...base_, page: { limit: 1 } });
      const changed = await subjectSearch({ ...base_, action: { name: "write" }, page: { limit: 1, token: first.json.page.next_token } });
      expect(changed.status).to.equal(400);
      expect(changed.json.error).to.include("page.token: was returned for a different request");
      const otherLimit = await subjectSearch({ ...base_, page: { limit: 2, token: first.json.page.next_token } });
      expect(otherLimit.status).to.equal(400);
      const garbage = await subjectSearch({ ...base_, page: { token: "not-a-token" } });
      expect(garbage.json.error).to.equal("page.token: is not a token this server returned");
    });

    it("lists the concrete actions an agent may do, says which patterns it cannot list, and refuses resource search", async () => {
      const r = await post(base, "/access/v1/search/action", { subject: { type: "agent", id: "assistant", properties: { user: "alice" } }, resource: { type: "d", id: "/prod/db" } });
      expect(r.status).to.equal(200);
      expect(r.json.results).to.deep.equal([{ name: "list" }, { name: "read" }, { name: "write" }]);
      expect(r.json.context).to.deep.equal({ approval_tiers: { list: "strong", read: "strong", write: "strong" } });
      const caller = await post(base, "/access/v1/search/action", { subject: { type: "user", id: "alice" }, resource: { type: "d", id: "/docs/1" }, context: { agent: "caller" } });
      expect(caller.json.results).to.deep.equal([]);
      expect(caller.json.context).to.deep.equal({ patterns_not_enumerated: ["*"] });
      const resource = await post(base, "/access/v1/search/resource", { subject: { type: "agent", id: "assistant" }, action: { name: "read" }, resource: { type: "d" } });
      expect(resource.status).to.equal(501);
      expect(resource.json.error).to.include("resource search is not supported");
    });
  });

  describe("discovery", () => {
    it("lists the endpoints actually served under the URL the client used, and the access-request capability", async () => {
      const r = await call(base, "/.well-known/authzen-configuration");
      expect(r.status).to.equal(200);
      expect(r.headers["content-type"]).to.match(/^application\/json/);
      expect(r.json).to.deep.equal({
        policy_decision_point: base,
        access_evaluation_endpoint: `${base}/access/v1/evaluation`,
        access_evaluations_endpoint: `${base}/access/v1/evaluations`,
        search_subject_endpoint: `${base}/access/v1/search/subject`,
        search_action_endpoint: `${base}/access/v1/search/action`,
        access_request_endpoint: `${base}/access/v1/requests`,
        jwks_uri: `${base}/.well-known/jwks.json`,
        capabilities: ["urn:openid:authzen:capability:access-request"],
      });
      const viaLocalhost = await call(base.replace("127.0.0.1", "localhost"), "/.well-known/authzen-configuration");
      expect(viaLocalhost.json.policy_decision_point).to.equal(base.replace("127.0.0.1", "localhost"));
      // Every advertised endpoint answers.
      for (const key of ["access_evaluation_endpoint", "access_evaluations_endpoint", "search_subject_endpoint", "search_action_endpoint", "access_request_endpoint"]) {
        const answer = await call(r.json[key], "", { body: {} });
        expect(answer.status, key).to.equal(400);
      }
      expect((await call(r.json.jwks_uri, "")).status).to.equal(200);
    });

    it("publishes a configured base URL, and also answers at the well-known URL of its path", async () => {
      const { server: proxied, client: c } = await startTestServer({ http: { port: 0, policyDecisionPoint: "https://gateway.example/authz" } });
      try {
        for (const path of ["/.well-known/authzen-configuration", "/.well-known/authzen-configuration/authz"]) {
          const r = await call(proxied.http!.url, path);
          expect(r.json.policy_decision_point).to.equal("https://gateway.example/authz");
          expect(r.json.access_evaluation_endpoint).to.equal("https://gateway.example/authz/access/v1/evaluation");
        }
      } finally {
        c.close();
        await proxied.close(500);
      }
    });
  });

  it("uses the policy revision gRPC serves, before and after a reload", async () => {
    const r = await evaluation(asUser("assistant", "alice", "read"));
    const grpc = await client.authorization.authorize({ agent: "assistant", user: "alice", action: "read" });
    expect(r.json.context.policy_revision).to.equal(grpc.decision!.policyRevision);
  });
});
