import { expect } from "chai";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import type { Decider } from "../../src/client/index.ts";
import { agentAuthPlugin, createRequireAuth } from "../../src/integrations/fastify/index.ts";
import type { HttpAuthOptions } from "../../src/integrations/http/index.ts";
import { DECIDERS } from "../support/integrations.ts";
import { httpSuite } from "./http-suite.ts";

const handled = async (request: FastifyRequest, _reply: FastifyReply) => ({ handled: true, decision_id: request.agentAuth?.decision.decisionId });

async function startApp(decider: Decider, options: HttpAuthOptions<unknown>) {
  const app = Fastify();
  const requireAuth = createRequireAuth(decider, options);
  const byRoute = createRequireAuth(decider, { ...options, action: "route" });
  // The per-route guards live outside the plugin's scope; the plugin guards everything else.
  await app.register(async (scope) => {
    scope.decorateRequest("agentAuth", null);
    scope.post("/refunds", { onRequest: requireAuth({ action: "refund" }) }, handled);
    scope.get("/by-route/:id", { onRequest: byRoute({}) }, handled);
  });
  await app.register(async (scope) => {
    await scope.register(agentAuthPlugin, { decider, ...options });
    scope.get("/orders", handled);
    scope.get("/orders/:id", handled);
    scope.post("/orders", handled);
    scope.delete("/orders/:id", handled);
  });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return { url, close: () => app.close() };
}

describe("Fastify plugin (agent-auth/fastify)", () => {
  httpSuite("Fastify", startApp);

  it("guards routes registered outside the plugin's own scope, and uses route patterns with action: 'route'", async () => {
    const { decider, stop } = await DECIDERS[0]!.start();
    const app = Fastify();
    await app.register(agentAuthPlugin, { decider, action: "route" });
    app.get("/orders/:id", handled);
    await app.listen({ port: 0, host: "127.0.0.1" });
    try {
      const r = await app.inject({ url: "/orders/9?a=b", headers: { "x-agent-name": "api-bot", "x-user-name": "alice" } });
      expect([r.statusCode, decider.seen.at(-1)!.action]).to.deep.equal([200, "get:/orders/:id"]);
      const missing = await app.inject({ url: "/orders/9" });
      expect(missing.statusCode).to.equal(400);
    } finally {
      await app.close();
      await stop();
    }
  });
});
