import { expect } from "chai";
import { parseConfig } from "../../../src/config/index.ts";
import { AuthEngine } from "../../../src/engine/auth-engine.ts";
import { createMemoryStore } from "../../../src/state/memory/memory-store.ts";
import { createCallerCheck } from "../../../src/server/callers.ts";
import { authzenRoutes } from "../../../src/server/http/authzen/authzen-routes.ts";
import { httpCallerHook } from "../../../src/server/http/caller-auth.ts";
import { startHttpListener, type RunningHttpListener } from "../../../src/server/http/listener.ts";
import { silentLogger } from "../../../src/server/logger.ts";
import type { HttpRouteGroup } from "../../../src/server/http/route-group.ts";
import { call, post } from "../../support/http.ts";
import { createHash } from "node:crypto";

describe("HTTP route groups (how the approvals API and the console plug in)", () => {
  let listener: RunningHttpListener;
  const engine = new AuthEngine(parseConfig('version: "1.0"\nprofiles: {bot: {allow: [read]}}\n', { env: {} }), { store: createMemoryStore() });
  const check = createCallerCheck([{ name: "ops", tokenHashes: [createHash("sha256").update("t").digest("hex")], certificates: [], groups: new Set(["authorize", "audit"] as const) }], () => {});

  before(async () => {
    // A second group with its own routes, caller group, hook and discovery entries, beside AuthZEN.
    const extra: HttpRouteGroup = {
      name: "extra",
      register(scope) {
        scope.addHook("onSend", async (_request, reply, payload) => {
          void reply.header("x-group", "extra");
          return payload;
        });
        scope.get("/extra/status", { onRequest: [httpCallerHook(check, "audit")] }, async (request) => ({ ok: true, caller: request.callerName }));
      },
    };
    listener = await startHttpListener({
      port: 0,
      maxBodyBytes: 1 << 20,
      maxRequestIdLength: 100,
      logger: silentLogger,
      groups: [
        authzenRoutes({
          engine,
          maxBatch: 10,
          callerHooks: (group) => [httpCallerHook(check, group)],
          contextExtensions: [(d) => (d.allowed ? undefined : { access_request: { expires_at: "2030-01-01T00:00:00Z" } }), () => ({ reason: "extensions never replace core members" })],
          scheme: "http",
          fallbackHost: () => "localhost",
          metadata: [{ endpoints: { access_request_endpoint: "/access/v1/requests" }, capabilities: ["urn:openid:authzen:capability:access-request"] }],
        }),
        extra,
      ],
    });
  });
  after(async () => {
    await listener?.close(500);
    await engine.close();
  });

  it("serves each group's routes with its own hooks and caller group", async () => {
    const r = await call(listener.url, "/extra/status", { headers: { authorization: "Bearer t" } });
    expect(r.status).to.equal(200);
    expect(r.json).to.deep.equal({ ok: true, caller: "ops" });
    expect(r.headers["x-group"]).to.equal("extra");
    expect((await call(listener.url, "/extra/status")).status).to.equal(401);
    // The other group's hook does not leak into AuthZEN's routes.
    const d = await call(listener.url, "/.well-known/authzen-configuration");
    expect(d.headers["x-group"]).to.equal(undefined);
  });

  it("adds other groups' endpoints and capabilities to discovery", async () => {
    const d = await call(listener.url, "/.well-known/authzen-configuration");
    expect(d.json.access_request_endpoint).to.equal(`${listener.url}/access/v1/requests`);
    expect(d.json.capabilities).to.deep.equal(["urn:openid:authzen:capability:access-request"]);
  });

  it("lets context extensions add members to decisions, never replace the core ones", async () => {
    const body = (action: string) => ({ subject: { type: "agent", id: "bot", properties: { user: "u" } }, action: { name: action }, resource: { type: "r", id: "x" } });
    const denied = await post(listener.url, "/access/v1/evaluation", body("write"), { authorization: "Bearer t" });
    expect(denied.json.context.access_request).to.deep.equal({ expires_at: "2030-01-01T00:00:00Z" });
    expect(denied.json.context.reason).to.equal("Action 'write' not authorized for agent 'bot'");
    const allowed = await post(listener.url, "/access/v1/evaluation", body("read"), { authorization: "Bearer t" });
    expect(allowed.json.context).to.not.have.property("access_request");
  });
});
