import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, importJWK, jwtVerify, SignJWT } from "jose";
import { parseConfig } from "../../../src/config/index.ts";
import { parseRedisTarget } from "../../../src/state/redis/redis-target.ts";
import { ManualClock } from "../../../src/model/clock.ts";
import type { AgentAuthServer } from "../../../src/server/app/start-server.ts";
import type { CallerConfig } from "../../../src/server/server-config.ts";
import { call, post, type HttpAnswer } from "../../support/http.ts";
import { fuzzRuns, fuzzSeed } from "../../support/fuzz.ts";
import { deletePrefix, requireRedis, testPrefix } from "../../support/redis.ts";
import { SERVER_POLICY, startTestServer } from "../../support/server.ts";

const ERROR = "urn:openid:authzen:access-request:error:";

/** An evaluation in the user-subject form: the agent as the RFC 8693 actor. */
const asUser = (agent: string, user: string, action: string, resource: string, context?: Record<string, unknown>) => ({
  subject: { type: "user", id: user, properties: { act: { sub: agent, sub_profile: "ai_agent" } } },
  action: { name: action },
  resource: { type: "thing", id: resource },
  ...(context === undefined ? {} : { context }),
});

/** The submission the profile asks a PEP to send for a requestable deny. */
const submission = (evaluation: ReturnType<typeof asUser>, denied: HttpAnswer, justification?: string) => ({
  ...evaluation,
  context: { ...evaluation.context, ...(justification === undefined ? {} : { business_justification: justification }) },
  denial: {
    evaluation_id: denied.json.context.evaluation_id,
    expires_at: denied.json.context.access_request.expires_at,
    binding_token: denied.json.context.access_request.binding_token,
    reason: denied.json.context.reason_code,
  },
});

function expectProblem(r: HttpAnswer, status: number, type: string, detail?: RegExp | string): void {
  expect(r.status, r.text).to.equal(status);
  expect(r.headers["content-type"]).to.match(/^application\/problem\+json/);
  expect(r.json.type).to.equal(type);
  expect(r.json.status).to.equal(status);
  expect(r.json.title).to.be.a("string").and.not.equal("");
  if (detail instanceof RegExp) expect(r.json.detail).to.match(detail);
  else if (detail !== undefined) expect(r.json.detail).to.include(detail);
}

describe("AuthZEN access-request and approval profile over HTTP", function () {
  this.timeout(60_000);
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
  let server: AgentAuthServer;
  let base: string;
  const deploy = asUser("deployer", "alice", "deploy", "/staging/app", { change: 42 });
  const evaluate = (body: unknown): Promise<HttpAnswer> => post(base, "/access/v1/evaluation", body);
  const submit = (body: unknown, key?: string): Promise<HttpAnswer> => post(base, "/access/v1/requests", body, key === undefined ? {} : { "idempotency-key": key });
  /** A fresh requestable deny for `evaluation` and a task for it. */
  const requested = async (evaluation = deploy, key?: string): Promise<HttpAnswer> => {
    const denied = await evaluate(evaluation);
    return submit(submission(evaluation, denied, "release 1.2"), key);
  };

  before(async () => {
    ({ server } = await startTestServer({ http: { port: 0 }, clock }));
    base = server.http!.url;
  });
  after(async () => {
    await server?.close(1000);
  });

  describe("discovery and keys", () => {
    it("advertises the access-request endpoint, the JWK Set and the capability", async () => {
      const r = await call(base, "/.well-known/authzen-configuration");
      expect(r.status).to.equal(200);
      expect(r.json.access_request_endpoint).to.equal(`${base}/access/v1/requests`);
      expect(r.json.jwks_uri).to.equal(`${base}/.well-known/jwks.json`);
      expect(r.json.capabilities).to.include("urn:openid:authzen:capability:access-request");
    });

    it("publishes the Ed25519 verification key, public and cacheable", async () => {
      const r = await call(base, "/.well-known/jwks.json");
      expect(r.status).to.equal(200);
      expect(r.headers["cache-control"]).to.equal("max-age=60");
      expect(r.json.keys).to.have.length(1);
      const [jwk] = r.json.keys;
      expect(jwk).to.include({ kty: "OKP", crv: "Ed25519", use: "sig", alg: "EdDSA" });
      expect(jwk.kid).to.be.a("string").and.not.equal("");
      expect(jwk).to.not.have.property("d");
    });
  });

  describe("the requestable deny", () => {
    it("answers an allow that needs approval as decision false with context.access_request and a binding token that verifies against the published JWKS", async () => {
      const r = await evaluate(deploy);
      expect(r.status).to.equal(200);
      expect(r.json.decision).to.equal(false);
      const ctx = r.json.context;
      expect(ctx).to.deep.include({ reason_code: "approval_required", tier: "soft", requires_approval: true, evaluation_id: ctx.decision_id });
      const ar = ctx.access_request;
      expect(ar.endpoint).to.equal(`${base}/access/v1/requests`);
      // The default approvals.pending_ttl: 3600 s from the engine's clock.
      expect(ar.expires_at).to.equal(new Date(clock.now() + 3600_000).toISOString().replace(".000Z", "Z"));

      const discovery = await call(base, "/.well-known/authzen-configuration");
      const keys = createRemoteJWKSet(new URL(discovery.json.jwks_uri));
      const { payload, protectedHeader } = await jwtVerify(ar.binding_token, keys, { algorithms: ["EdDSA"], currentDate: new Date(clock.now()) });
      expect(protectedHeader.alg).to.equal("EdDSA");
      expect(protectedHeader.kid).to.equal((await call(base, "/.well-known/jwks.json")).json.keys[0].kid);
      expect(payload).to.include({
        iss: "urn:agent-auth:pdp",
        aud: "urn:agent-auth:access-request",
        evaluation_id: ctx.decision_id,
        agent: "deployer",
        user: "alice",
        action: "deploy",
        resource: "/staging/app",
        scope: "",
        session_id: "",
        target_agent: "",
        metadata_digest: createHash("sha256").update('{"change":42}').digest("hex"),
        tier: "soft",
        approval_policy: "",
        policy_revision: server.engine.revision,
      });
      expect(payload.exp).to.equal(Date.parse(ar.expires_at) / 1000);
      expect(payload.jti).to.be.a("string");
    });

    it("verifies with the JWK fetched and imported by hand too; the strong tier and its approval policy are bound", async () => {
      const r = await evaluate(asUser("deployer", "alice", "deploy", "/prod/app"));
      expect(r.json.context.tier).to.equal("strong");
      const jwks = await call(base, "/.well-known/jwks.json");
      const key = await importJWK(jwks.json.keys[0], "EdDSA");
      const { payload } = await jwtVerify(r.json.context.access_request.binding_token, key, { currentDate: new Date(clock.now()) });
      expect(payload).to.include({ tier: "strong", approval_policy: "prod", resource: "/prod/app" });
    });

    it("adds nothing to an allow or a deny, which are not requestable", async () => {
      const allowed = await evaluate(asUser("assistant", "alice", "read", "/docs/1"));
      expect(allowed.json.decision).to.equal(true);
      expect(allowed.json.context).to.not.have.any.keys("access_request", "evaluation_id");
      const denied = await evaluate(asUser("assistant", "alice", "delete", "/docs/1"));
      expect(denied.json.decision).to.equal(false);
      expect(denied.json.context).to.not.have.any.keys("access_request", "evaluation_id");
    });

    it("makes every requestable item of a batch requestable", async () => {
      const r = await post(base, "/access/v1/evaluations", { evaluations: [deploy, asUser("assistant", "alice", "read", "/docs/1")] });
      expect(r.status).to.equal(200);
      expect(r.json.evaluations[0].context.access_request.binding_token).to.be.a("string");
      expect(r.json.evaluations[1].context).to.not.have.property("access_request");
    });
  });

  describe("submitting an access request", () => {
    it("creates a pending task: 201, Location, the task handle with its status endpoint, expiry and cancel link", async () => {
      const r = await requested(deploy);
      expect(r.status, r.text).to.equal(201);
      expect(r.headers["content-type"]).to.match(/^application\/json/);
      const t = r.json.task;
      expect(t.status).to.equal("pending");
      expect(t.status_endpoint).to.equal(`${base}/access/v1/requests/${t.id}`);
      expect(r.headers["location"]).to.equal(t.status_endpoint);
      expect(t.links).to.deep.equal({ cancel: `${t.status_endpoint}/cancel` });
      expect(t.expires_at).to.equal(new Date(clock.now() + 3600_000).toISOString().replace(".000Z", "Z"));
      expect(r.json).to.not.have.property("result");
      const task = await server.engine.getApproval(t.id);
      expect(task).to.include({ agent: "deployer", user: "alice", action: "deploy", resource: "/staging/app", justification: "release 1.2", tier: "soft", status: "pending" });
    });

    it("is idempotent: the same Idempotency-Key and body give the same task; the same key with another body is duplicate_request", async () => {
      const evaluation = asUser("deployer", "bob", "deploy", "/staging/idem");
      const denied = await evaluate(evaluation);
      const body = submission(evaluation, denied, "first");
      const first = await submit(body, "key-1");
      expect(first.status, first.text).to.equal(201);
      const again = await submit(body, '"key-1"');
      expect(again.status, again.text).to.equal(201);
      expect(again.json.task.id).to.equal(first.json.task.id);
      expectProblem(await submit(submission(evaluation, denied, "second"), "key-1"), 409, `${ERROR}duplicate_request`, "key-1");
      const other = asUser("deployer", "bob", "deploy", "/staging/other");
      expectProblem(await submit(submission(other, await evaluate(other), "first"), "key-1"), 409, `${ERROR}duplicate_request`);
      // Without a key, a binding token creates one task: a replay gets it back; a fresh denial makes a new one.
      const a = await submit(body);
      const b = await submit(body);
      expect(a.status, a.text).to.equal(201);
      expect(b.json.task.id).to.equal(a.json.task.id).and.not.equal(first.json.task.id);
      expectProblem(await submit(submission(evaluation, denied, "changed")), 409, `${ERROR}duplicate_request`, "this binding token");
      const fresh = await submit(submission(evaluation, await evaluate(evaluation), "first"));
      expect(fresh.status, fresh.text).to.equal(201);
      expect(fresh.json.task.id).to.not.equal(a.json.task.id);
    });

    it("refuses a tampered binding token, one signed by another key, and a request other than the denied one (invalid_denial_binding)", async () => {
      const denied = await evaluate(deploy);
      const body = submission(deploy, denied);
      const [h, p, s] = body.denial.binding_token.split(".");
      const claims = JSON.parse(Buffer.from(p!, "base64url").toString("utf8"));
      const forged = Buffer.from(JSON.stringify({ ...claims, resource: "/prod/app" })).toString("base64url");
      expectProblem(await submit({ ...body, denial: { ...body.denial, binding_token: `${h}.${forged}.${s}` } }), 400, `${ERROR}invalid_denial_binding`, "denial.binding_token");
      const flipped = s!.slice(0, -2) + (s!.endsWith("AA") ? "BA" : "AA");
      expectProblem(await submit({ ...body, denial: { ...body.denial, binding_token: `${h}.${p}.${flipped}` } }), 400, `${ERROR}invalid_denial_binding`);

      const { privateKey } = generateKeyPairSync("ed25519");
      const own = await new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid: decodeProtectedHeader(body.denial.binding_token).kid! }).sign(privateKey);
      expectProblem(await submit({ ...body, denial: { ...body.denial, binding_token: own } }), 400, `${ERROR}invalid_denial_binding`, "signature");

      expectProblem(await submit({ ...body, resource: { type: "thing", id: "/staging/other" } }), 400, `${ERROR}invalid_denial_binding`, "differs from the denied one in resource");
      expectProblem(await submit({ ...body, context: { change: 43 } }), 400, `${ERROR}invalid_denial_binding`, "metadata_digest");
      expectProblem(await submit({ ...body, denial: { ...body.denial, expires_at: "2999-01-01T00:00:00Z" } }), 400, `${ERROR}invalid_denial_binding`, "denial.expires_at");
      expectProblem(await submit({ ...deploy }), 400, `${ERROR}invalid_denial_binding`, "denial: is required");
      expectProblem(await submit({ ...body, denial: { expires_at: body.denial.expires_at } }), 400, `${ERROR}invalid_denial_binding`, "denial.binding_token: is required");
      // The JWKS of another PDP cannot verify ours either.
      const otherKey = await importJWK(await exportJWK(generateKeyPairSync("ed25519").publicKey), "EdDSA");
      let refused = false;
      await jwtVerify(body.denial.binding_token, otherKey).catch(() => (refused = true));
      expect(refused).to.equal(true);
    });

    it("refuses a submission after the denial expired (expired_denial, 410)", async () => {
      const denied = await evaluate(deploy);
      const body = submission(deploy, denied);
      const start = clock.now();
      clock.advance(3601);
      try {
        expectProblem(await submit(body), 410, `${ERROR}expired_denial`, "expired at");
      } finally {
        clock.set(start);
      }
      expect((await submit(body)).status).to.equal(201);
    });

    it("refuses a token issued under another policy revision; the request, now allowed without approval, offers no access request", async () => {
      const denied = await evaluate(deploy);
      const before = server.engine.config;
      // The deployer no longer needs approval for deploys.
      server.engine.setConfig(parseConfig(SERVER_POLICY.replace("deployer: {allow: [deploy, read], default_tier: soft}", "deployer: {allow: [deploy, read]}"), { env: {} }));
      try {
        expectProblem(await submit(submission(deploy, denied)), 400, `${ERROR}invalid_denial_binding`, "the policy changed since the denial");
        const now = await evaluate(deploy);
        expect(now.json.decision).to.equal(true);
        expect(now.json.context).to.not.have.property("access_request");
      } finally {
        server.engine.setConfig(before);
      }
    });

    it("answers problems for what is not an access request: bulk items, bad shapes, bad JSON, refused callbacks", async () => {
      const body = submission(deploy, await evaluate(deploy));
      const items = await submit({ ...body, items: [] });
      expectProblem(items, 400, "about:blank", "items");
      expectProblem(await submit({ ...body, subject: { type: "user" } }), 400, "about:blank", "subject.id: is required");
      // An approval the denied evaluation presented (e.g. one already used) may be echoed: it is not bound.
      const echoed = await submit({ ...body, context: { ...body.context, approval: { id: "used-before" } } });
      expect(echoed.status, echoed.text).to.equal(201);
      expectProblem(await call(base, "/access/v1/requests", { raw: "{", headers: { "content-type": "application/json" } }), 400, "about:blank", "not valid JSON");
      expectProblem(await submit({ ...body, callback: { endpoint: "https://hooks.example.com/x" } }), 400, "about:blank", "callback.endpoint");
    });
  });

  it("answers damaged submissions with 201 or a problem, never a 500 (fuzz)", async () => {
    const denied = await evaluate(deploy);
    const valid = submission(deploy, denied) as Record<string, unknown>;
    const token = (valid["denial"] as { binding_token: string }).binding_token;
    const json = fc.jsonValue({ maxDepth: 3 });
    const damage = fc.oneof(
      // A member replaced by anything, or removed.
      fc.record({ member: fc.constantFrom("subject", "action", "resource", "context", "denial", "callback", "items", "requested_access"), value: fc.option(json, { nil: undefined }) }).map(({ member, value }) => ({ ...valid, [member]: value })),
      // The token cut, extended or with one character changed.
      fc.record({ at: fc.nat({ max: token.length - 1 }), ch: fc.constantFrom("A", "-", "_", ".", "="), cut: fc.boolean() }).map(({ at, ch, cut }) => ({
        ...valid,
        denial: { ...(valid["denial"] as object), binding_token: cut ? token.slice(0, at) : token.slice(0, at) + ch + token.slice(at + 1) },
      })),
      // Context members added.
      fc.dictionary(fc.constantFrom("change", "agent", "user", "scope", "approval", "business_justification", "x"), json, { maxKeys: 3 }).map((extra) => ({ ...valid, context: { ...(valid["context"] as object), ...extra } })),
    );
    const statuses = new Map<number, number>();
    await fc.assert(
      // A few keys only, so that accepted submissions stay within approvals.max_pending.
      fc.asyncProperty(damage, fc.constantFrom("fz-1", "fz-2", '"fz-3"', "fz-4"), async (body, key) => {
        const r = await submit(body, key);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        expect([201, 400, 409, 410], r.text).to.include(r.status);
        if (r.status !== 201) {
          expect(r.headers["content-type"]).to.match(/^application\/problem\+json/);
          expect(r.json.detail, r.text).to.be.a("string").and.not.equal("");
        }
      }),
      { numRuns: fuzzRuns(150), seed: fuzzSeed(431) },
    );
    expect(statuses.get(400) ?? 0, JSON.stringify([...statuses])).to.be.greaterThan(0);
  });

  describe("task status, cancellation and re-evaluation", () => {
    it("reads a task, and answers unknown_task (404) for an id it does not know", async () => {
      const r = await requested();
      const status = await call(r.json.task.status_endpoint, "");
      expect(status.status).to.equal(200);
      expect(status.json).to.deep.equal(r.json);
      expectProblem(await call(base, "/access/v1/requests/no-such-task"), 404, `${ERROR}unknown_task`, "no-such-task");
      expectProblem(await call(base, "/access/v1/requests/no-such-task/cancel", { method: "POST" }), 404, `${ERROR}unknown_task`);
    });

    it("cancels a pending task by POST or DELETE on links.cancel; a terminal one is invalid_task_state (409)", async () => {
      const viaPost = (await requested()).json.task;
      const cancelled = await call(viaPost.links.cancel, "", { method: "POST" });
      expect(cancelled.status, cancelled.text).to.equal(200);
      expect(cancelled.json.task).to.include({ id: viaPost.id, status: "cancelled" });
      expect(cancelled.json.task).to.not.have.property("expires_at");
      expectProblem(await call(viaPost.links.cancel, "", { method: "DELETE" }), 409, `${ERROR}invalid_task_state`, "cancelled");
      const viaDelete = (await requested()).json.task;
      const deleted = await call(viaDelete.links.cancel, "", { method: "DELETE" });
      expect(deleted.status, deleted.text).to.equal(200);
      expect(deleted.json.task.status).to.equal("cancelled");
      expect((await call(viaDelete.status_endpoint, "")).json.task.status).to.equal("cancelled");
    });

    it("answers task_expired (410) for a task past its expiry", async () => {
      const t = (await requested(asUser("deployer", "carol", "deploy", "/staging/late"))).json.task;
      const start = clock.now();
      clock.advance(3601);
      try {
        expectProblem(await call(t.status_endpoint, ""), 410, `${ERROR}task_expired`);
      } finally {
        clock.set(start);
      }
    });

    it("after approval: the status carries the reevaluate result, and the re-evaluation with context.approval is decision true exactly once", async () => {
      const evaluation = asUser("deployer", "alice", "deploy", "/staging/redeem", { change: 7 });
      const t = (await requested(evaluation)).json.task;
      await server.engine.decideApproval({ id: t.id, approve: true, approver: "lead-dana", comment: "ok" });
      const status = await call(t.status_endpoint, "");
      expect(status.status).to.equal(200);
      expect(status.json.task.status).to.equal("approved");
      const approval = status.json.result.approval;
      expect(status.json.result.mode).to.equal("reevaluate");
      expect(approval.id).to.equal(t.id);
      expect(approval.approved_until).to.equal(new Date(clock.now() + 900_000).toISOString().replace(".000Z", "Z"));
      expect(approval.approved_at).to.be.a("string");

      // Another request cannot use it, and trying consumes nothing.
      const other = await evaluate({ ...evaluation, context: { change: 8, approval } });
      expect(other.json.decision).to.equal(false);
      expect(other.json.context.approval).to.deep.equal({ id: t.id, status: "mismatch" });

      const redeemed = await evaluate({ ...evaluation, context: { ...evaluation.context, approval } });
      expect(redeemed.status).to.equal(200);
      expect(redeemed.json.decision).to.equal(true);
      expect(redeemed.json.context).to.deep.include({ reason: `Approved by 'lead-dana' (approval ${t.id})`, requires_approval: false, tier: "soft", approval: { id: t.id, approved_by: "lead-dana" } });
      expect(redeemed.json.context).to.not.have.property("access_request");

      const again = await evaluate({ ...evaluation, context: { ...evaluation.context, approval } });
      expect(again.json.decision).to.equal(false);
      expect(again.json.context.approval).to.deep.equal({ id: t.id, status: "used" });
      expect(again.json.context.access_request.binding_token).to.be.a("string");
      const used = await call(t.status_endpoint, "");
      expect(used.json.task.status).to.equal("used");
      expect(used.json).to.not.have.property("result");
      expectProblem(await call(t.links.cancel, "", { method: "POST" }), 409, `${ERROR}invalid_task_state`);
    });

    it("refuses a malformed approval reference naming the member", async () => {
      const r = await evaluate({ ...deploy, context: { approval: { state: "x" } } });
      expect(r.status).to.equal(400);
      expect(r.json.error).to.include("context.approval.id: is required");
      const unknown = await evaluate({ ...deploy, context: { ...deploy.context, approval: { id: "no-such-approval" } } });
      expect(unknown.json.decision).to.equal(false);
      expect(unknown.json.context.approval).to.deep.equal({ id: "no-such-approval", status: "unknown" });
    });
  });
});

describe("AuthZEN access requests: caller rights and a configured signing key", function () {
  this.timeout(60_000);
  const sha = (token: string): string => createHash("sha256").update(token).digest("hex");
  let dir: string;
  let server: AgentAuthServer;
  let base: string;
  const callers: CallerConfig[] = [
    { name: "gateway", tokenHashes: [sha("gw-token")], certificates: [], groups: new Set(["authorize"] as const) },
    { name: "orchestrator", tokenHashes: [sha("orch-token")], certificates: [], groups: new Set(["authorize", "approvals"] as const) },
  ];
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const deploy = asUser("deployer", "alice", "deploy", "/staging/app");

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-access-requests-"));
    const keyFile = join(dir, "pdp.pem");
    writeFileSync(keyFile, generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }));
    ({ server } = await startTestServer({ http: { port: 0, policyDecisionPoint: "https://pdp.example.com", signingKey: { path: keyFile, kid: "pdp-test-1" } }, callers }));
    base = server.http!.url;
  });
  after(async () => {
    await server?.close(1000);
    rmSync(dir, { recursive: true, force: true });
  });

  it("signs with the configured key and kid, issued by the configured PDP URL", async () => {
    const jwks = await call(base, "/.well-known/jwks.json");
    expect(jwks.status, "the JWK Set is public").to.equal(200);
    expect(jwks.json.keys[0].kid).to.equal("pdp-test-1");
    const r = await post(base, "/access/v1/evaluation", deploy, bearer("gw-token"));
    const token = r.json.context.access_request.binding_token;
    expect(r.json.context.access_request.endpoint).to.equal("https://pdp.example.com/access/v1/requests");
    expect(decodeProtectedHeader(token).kid).to.equal("pdp-test-1");
    const { payload } = await jwtVerify(token, await importJWK(jwks.json.keys[0], "EdDSA"), { issuer: "https://pdp.example.com", audience: "https://pdp.example.com/access/v1/requests" });
    expect(payload.agent).to.equal("deployer");
    expect(decodeJwt(token).iss).to.equal("https://pdp.example.com");
  });

  it("needs the approvals group to submit, read and cancel: 401 without a token, 403 outside the group, as problem+json", async () => {
    const denied = await post(base, "/access/v1/evaluation", deploy, bearer("gw-token"));
    const body = submission(deploy, denied);
    const none = await post(base, "/access/v1/requests", body);
    expectProblem(none, 401, "about:blank");
    expect(none.headers["www-authenticate"]).to.equal('Bearer realm="agent-auth"');
    expectProblem(await post(base, "/access/v1/requests", body, bearer("gw-token")), 403, "about:blank", "gateway");
    const ok = await post(base, "/access/v1/requests", body, bearer("orch-token"));
    expect(ok.status, ok.text).to.equal(201);
    expect((await server.engine.getApproval(ok.json.task.id))!.requestedBy).to.equal("orchestrator");
    const path = `/access/v1/requests/${ok.json.task.id}`;
    expectProblem(await call(base, path, { headers: bearer("gw-token") }), 403, "about:blank");
    expectProblem(await call(base, `${path}/cancel`, { method: "POST", headers: bearer("gw-token") }), 403, "about:blank");
    expect((await call(base, path, { headers: bearer("orch-token") })).json.task.status).to.equal("pending");
    const cancelled = await call(base, `${path}/cancel`, { method: "POST", headers: bearer("orch-token") });
    expect(cancelled.json.task.status).to.equal("cancelled");
    expect((await server.engine.getApproval(ok.json.task.id))!.decidedBy).to.equal("orchestrator");
  });
});

describe("AuthZEN access requests across replicas sharing Redis", function () {
  this.timeout(60_000);
  let url: string;
  let prefix: string;
  let dir: string;
  const servers: AgentAuthServer[] = [];
  before(async function () {
    url = await requireRedis(this);
    prefix = testPrefix("access-requests");
    dir = mkdtempSync(join(tmpdir(), "agent-auth-access-replicas-"));
  });
  after(async () => {
    for (const s of servers) await s.close(1000);
    if (url !== undefined) await deletePrefix(url, prefix);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("a token issued by one replica is accepted by another with the same key, refused by one with another key; the task is redeemed once across both", async () => {
    const shared = join(dir, "shared.pem");
    const other = join(dir, "other.pem");
    writeFileSync(shared, generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }));
    writeFileSync(other, generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }));
    const start = async (key: string): Promise<string> => {
      const { server, client } = await startTestServer({ http: { port: 0, signingKey: { path: key } }, redis: { connection: parseRedisTarget(url), prefix } });
      client.close();
      servers.push(server);
      return server.http!.url;
    };
    const [a, b, c] = [await start(shared), await start(shared), await start(other)];
    const evaluation = asUser("deployer", "replicated", "deploy", "/staging/replicas");
    const denied = await post(a, "/access/v1/evaluation", evaluation);
    expectProblem(await post(c, "/access/v1/requests", submission(evaluation, denied)), 400, `${ERROR}invalid_denial_binding`, "signature");
    const created = await post(b, "/access/v1/requests", submission(evaluation, denied), { "idempotency-key": "replicas-1" });
    expect(created.status, created.text).to.equal(201);
    const id = created.json.task.id;
    // The same key on the first replica finds the task the second made.
    expect((await post(a, "/access/v1/requests", submission(evaluation, denied), { "idempotency-key": "replicas-1" })).json.task.id).to.equal(id);
    await servers[2]!.engine.decideApproval({ id, approve: true, approver: "lead-lee" });
    expect((await call(a, `/access/v1/requests/${id}`)).json.task.status).to.equal("approved");
    const redeem = { ...evaluation, context: { approval: { id } } };
    const answers = await Promise.all([post(a, "/access/v1/evaluation", redeem), post(b, "/access/v1/evaluation", redeem), post(c, "/access/v1/evaluation", redeem)]);
    expect(answers.map((r) => r.json.decision).filter(Boolean)).to.have.length(1);
    expect((await call(c, `/access/v1/requests/${id}`)).json.task.status).to.equal("used");
  });
});
