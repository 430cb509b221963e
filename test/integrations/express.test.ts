import { expect } from "chai";
import express from "express";
import type { AddressInfo } from "node:net";
import type { Decider } from "../../src/client/index.ts";
import { createAgentAuthMiddleware, createRequireAuth } from "../../src/integrations/express/index.ts";
import type { HttpAuthOptions } from "../../src/integrations/http/index.ts";
import { DECIDERS } from "../support/integrations.ts";
import { httpSuite } from "./http-suite.ts";

async function listen(app: express.Express): Promise<{ url: string; close(): Promise<void> }> {
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function startApp(decider: Decider, options: HttpAuthOptions<unknown>) {
  const app = express();
  const handled = (req: express.Request, res: express.Response) => void res.json({ handled: true, decision_id: req.agentAuth?.decision.decisionId });
  // Per-route guards come before the application-level middleware, which guards the rest.
  const requireAuth = createRequireAuth(decider, options);
  app.post("/refunds", requireAuth({ action: "refund" }), handled);
  app.get("/by-route/:id", createAgentAuthMiddleware(decider, { ...options, action: "route" }), handled);
  app.use(createAgentAuthMiddleware(decider, options));
  app.get("/orders", handled);
  app.get("/orders/:id", handled);
  app.post("/orders", handled);
  app.delete("/orders/:id", handled);
  return listen(app);
}

describe("Express middleware (agent-auth/express)", () => {
  httpSuite("Express", startApp);

  it("refuses action: 'route' at application level with a 500 saying where to mount it (never lets the request through)", async () => {
    const { decider, stop } = await DECIDERS[0]!.start();
    const app = express();
    app.use(createAgentAuthMiddleware(decider, { action: "route" }));
    app.get("/orders", (_req, res) => void res.json({ handled: true }));
    const running = await listen(app);
    try {
      const r = await fetch(`${running.url}/orders`, { headers: { "X-Agent-Name": "api-bot", "X-User-Name": "alice" } });
      const body = (await r.json()) as Record<string, unknown>;
      expect([r.status, body["error"]]).to.deep.equal([500, "Authorization misconfigured"]);
      expect(body["reason"]).to.match(/mount the middleware on the route/);
    } finally {
      await running.close();
      await stop();
    }
  });
});
