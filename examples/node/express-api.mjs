// An orders API whose every request an agent makes is decided by agent-auth.
//
//   node examples/node/express-api.mjs          # http://127.0.0.1:3000 (PORT=… to change)
//   curl -i -H 'X-Agent-Name: support-bot' -H 'X-User-Name: carol' http://127.0.0.1:3000/orders/A-1001
//   curl -i -X DELETE -H 'X-Agent-Name: support-bot' -H 'X-User-Name: carol' http://127.0.0.1:3000/orders/A-1001
//   curl -i -X POST -H 'X-Agent-Name: support-bot' -H 'X-User-Name: carol' 'http://127.0.0.1:3000/orders/A-1001/refund?amount=500'
import { fileURLToPath } from "node:url";
import express from "express";
import { AuthEngine, loadConfig } from "agent-auth";
import { createAgentAuthMiddleware } from "agent-auth/express";

const engine = new AuthEngine(loadConfig(fileURLToPath(new URL("policy.yaml", import.meta.url))));
const app = express();

// Every request: agent and user from X-Agent-Name / X-User-Name, action
// "lowercase-method:path", resource the full URL; the refund amount is
// passed to the policy's conditions as metadata.
app.use(createAgentAuthMiddleware(engine, { metadata: (req) => ({ amount: Number(req.query.amount ?? 0) }) }));

app.get("/orders/:id", (req, res) => {
  res.json({ order: req.params.id, status: "shipped", decision_id: req.agentAuth.decision.decisionId });
});
app.post("/orders/:id/refund", (req, res) => {
  res.json({ order: req.params.id, refunded: Number(req.query.amount ?? 0) });
});
app.delete("/orders/:id", (req, res) => {
  res.json({ deleted: req.params.id });
});

const server = app.listen(Number(process.env.PORT ?? 3000), "127.0.0.1", () => {
  console.log(`orders API listening on http://127.0.0.1:${server.address().port}`);
});
process.on("SIGTERM", () => server.close(() => engine.close()));
process.on("SIGINT", () => server.close(() => engine.close()));
