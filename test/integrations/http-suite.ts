import { expect } from "chai";
import type { Decider } from "../../src/client/index.ts";
import type { HttpAuthOptions } from "../../src/integrations/http/index.ts";
import { createHash } from "node:crypto";
import { isAgentAuthError } from "../../src/client/index.ts";
import type { CallerConfig } from "../../src/server/server-config.ts";
import { DECIDERS, INTEGRATIONS_POLICY, unreachableDecider, type Answer, type ObservedDecider } from "../support/integrations.ts";
import { startTestServer } from "../support/server.ts";

/**
 * A real web application built by one framework for the shared HTTP suite:
 * app-level middleware (or plugin) with `options`, routes GET /orders,
 * GET /orders/:id, POST /orders, DELETE /orders/:id answering
 * `{handled, decision_id}` from the attached decision; POST /refunds guarded
 * per route with `requireAuth({ action: "refund" })` only; GET /by-route/:id
 * guarded per route with `action: "route"`.
 */
export type StartApp = (decider: Decider, options: HttpAuthOptions<unknown>) => Promise<{ url: string; close(): Promise<void> }>;

const BOT = { "X-Agent-Name": "api-bot", "X-User-Name": "alice" };

async function call(url: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url, init);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/** The HTTP middleware suite every framework adapter passes, with both deciders. */
export function httpSuite(framework: string, startApp: StartApp): void {
  for (const { name, start } of DECIDERS) {
    describe(`${framework} with the ${name}`, () => {
      let decider: ObservedDecider;
      let answer: Answer;
      let stop: () => Promise<void>;
      let app: { url: string; close(): Promise<void> };
      before(async () => {
        ({ decider, answer, stop } = await start());
        app = await startApp(decider, {});
      });
      after(async () => {
        await app.close();
        await stop();
      });

      it("lets an allowed request through with the decision attached; action lowercase-method:path, resource the full URL", async () => {
        const r = await call(`${app.url}/orders?limit=5`, { headers: { ...BOT, "X-Session-Id": "" } });
        const asked = decider.seen.at(-1)!;
        expect([r.status, r.body["handled"]]).to.deep.equal([200, true]);
        expect(r.body["decision_id"]).to.match(/^[0-9a-f-]{36}$/);
        expect([asked.agent, asked.user, asked.action, asked.resource, asked.sessionId]).to.deep.equal(["api-bot", "alice", "get:/orders", `${app.url}/orders?limit=5`, undefined]);
      });

      it("answers 400 with the original's body when the agent or user header is missing", async () => {
        for (const headers of [{}, { "X-Agent-Name": "api-bot" }, { "X-User-Name": "alice" }, { "X-Agent-Name": "", "X-User-Name": "alice" }]) {
          const r = await call(`${app.url}/orders`, { headers });
          expect([r.status, r.body]).to.deep.equal([400, { error: "X-Agent-Name and X-User-Name headers are required" }]);
        }
      });

      it("answers 403 with the reason and decision id when denied; the handler never runs", async () => {
        const r = await call(`${app.url}/orders/7`, { method: "DELETE", headers: BOT });
        expect(r.status).to.equal(403);
        expect(Object.keys(r.body)).to.deep.equal(["error", "reason", "decision_id"]);
        expect([r.body["error"], r.body["reason"]]).to.deep.equal(["Authorization denied", "Action 'delete:/orders/7' denied by profile 'api-bot'"]);
        expect(r.body["decision_id"]).to.match(/^[0-9a-f-]{36}$/);
        const session = await call(`${app.url}/orders`, { headers: { ...BOT, "X-Session-Id": "no-such-session" } });
        expect([session.status, session.body["reason"]]).to.deep.equal([403, "Invalid or expired session"]);
        expect(decider.seen.at(-1)!.sessionId).to.equal("no-such-session");
      });

      it("answers 403 'Approval required' with the tier, reason, approval policy and the task it requested; the same request gets the same task", async () => {
        const r = await call(`${app.url}/orders`, { method: "POST", headers: { ...BOT, "X-User-Name": "ann" } });
        expect(r.status).to.equal(403);
        expect(Object.keys(r.body)).to.deep.equal(["error", "tier", "reason", "approval_policy", "approval"]);
        expect([r.body["error"], r.body["tier"], r.body["approval_policy"]]).to.deep.equal(["Approval required", "soft", "new-order"]);
        const approval = r.body["approval"] as { id: string; status: string; expires_at: string };
        expect(Object.keys(approval)).to.deep.equal(["id", "status", "expires_at"]);
        expect(approval.id).to.match(/^[0-9a-f-]{36}$/);
        expect([approval.status, Date.parse(approval.expires_at) > Date.now()]).to.deep.equal(["pending", true]);
        const again = await call(`${app.url}/orders`, { method: "POST", headers: { ...BOT, "X-User-Name": "ann" } });
        expect((again.body["approval"] as { id: string }).id).to.equal(approval.id);
        const task = await decider.getApproval!(approval.id);
        expect([task!.status, (task as { action?: string }).action, (task as { user?: string }).user]).to.deep.equal(["pending", "post:/orders", "ann"]);
      });

      it("a retry carrying X-Approval-Id redeems the approved task once: the handler runs; the next retry needs a new approval", async () => {
        const headers = { ...BOT, "X-User-Name": "bea" };
        const first = await call(`${app.url}/orders`, { method: "POST", headers });
        const id = (first.body["approval"] as { id: string }).id;
        const early = await call(`${app.url}/orders`, { method: "POST", headers: { ...headers, "X-Approval-Id": id } });
        expect([early.status, early.body["error"], early.body["approval_status"], (early.body["approval"] as { id: string }).id]).to.deep.equal([403, "Approval required", "pending", id]);
        await answer(id, true, "bea");
        const redeemed = await call(`${app.url}/orders`, { method: "POST", headers: { ...headers, "X-Approval-Id": id } });
        expect([redeemed.status, redeemed.body["handled"]]).to.deep.equal([200, true]);
        expect(decider.seen.at(-1)!.approvalId).to.equal(id);
        const spent = await call(`${app.url}/orders`, { method: "POST", headers: { ...headers, "X-Approval-Id": id } });
        const renewed = spent.body["approval"] as { id: string; status: string };
        expect([spent.status, spent.body["error"], spent.body["approval_status"], renewed.status]).to.deep.equal([403, "Approval required", "used", "pending"]);
        expect(renewed.id).to.not.equal(id);
      });

      it("an approval bound to another request does not let a request through", async () => {
        const first = await call(`${app.url}/orders`, { method: "POST", headers: { ...BOT, "X-User-Name": "cat" } });
        const id = (first.body["approval"] as { id: string }).id;
        await answer(id, true, "cat");
        const other = await call(`${app.url}/orders`, { method: "POST", headers: { ...BOT, "X-User-Name": "dan", "X-Approval-Id": id } });
        expect([other.status, other.body["error"], other.body["approval_status"]]).to.deep.equal([403, "Approval required", "mismatch"]);
        expect((other.body["approval"] as { id: string }).id).to.not.equal(id);
      });

      it("a retry carrying a task the approver denied answers 403 'Authorization denied' with the task", async () => {
        const headers = { ...BOT, "X-User-Name": "eve" };
        const first = await call(`${app.url}/orders`, { method: "POST", headers });
        const id = (first.body["approval"] as { id: string }).id;
        await answer(id, false, "sec-lead");
        const r = await call(`${app.url}/orders`, { method: "POST", headers: { ...headers, "X-Approval-Id": id } });
        expect([r.status, r.body["error"], r.body["reason"], (r.body["approval"] as { status: string }).status]).to.deep.equal([403, "Authorization denied", `Approval ${id} was denied by 'sec-lead'`, "denied"]);
        expect(r.body["handled"]).to.equal(undefined);
      });

      it("decides a route guarded with requireAuth({ action }) with that action", async () => {
        const r = await call(`${app.url}/refunds`, { method: "POST", headers: BOT });
        expect([r.status, r.body["handled"], decider.seen.at(-1)!.action]).to.deep.equal([200, true, "refund"]);
        const unknown = await call(`${app.url}/refunds`, { method: "POST", headers: { "X-Agent-Name": "stranger", "X-User-Name": "alice" } });
        expect([unknown.status, unknown.body["error"]]).to.deep.equal([403, "Authorization denied"]);
      });

      it("uses the route pattern as the action with action: 'route'", async () => {
        const r = await call(`${app.url}/by-route/42?x=1`, { headers: BOT });
        expect([r.status, decider.seen.at(-1)!.action]).to.deep.equal([200, "get:/by-route/:id"]);
      });
    });
  }

  describe(`${framework}: options and failures`, () => {
    it("reads configurable header names and names them in the 400", async () => {
      const { decider, stop } = await DECIDERS[0]!.start();
      const app = await startApp(decider, { headers: { agent: "X-Bot", user: "X-On-Behalf-Of", session: "X-Run" } });
      try {
        const missing = await call(`${app.url}/orders`, { headers: BOT });
        expect([missing.status, missing.body]).to.deep.equal([400, { error: "X-Bot and X-On-Behalf-Of headers are required" }]);
        const ok = await call(`${app.url}/orders`, { headers: { "X-Bot": "api-bot", "X-On-Behalf-Of": "alice", "X-Run": "" } });
        expect(ok.status).to.equal(200);
      } finally {
        await app.close();
        await stop();
      }
    });

    it("reads the approval id from a configurable header; requestApproval: false answers with the decision alone", async () => {
      const { decider, answer, stop } = await DECIDERS[0]!.start();
      const app = await startApp(decider, { headers: { approval: "X-Grant" } });
      const quiet = await startApp(decider, { requestApproval: false });
      try {
        const first = await call(`${app.url}/orders`, { method: "POST", headers: { ...BOT, "X-User-Name": "fay" } });
        const id = (first.body["approval"] as { id: string }).id;
        await answer(id, true, "fay");
        const redeemed = await call(`${app.url}/orders`, { method: "POST", headers: { ...BOT, "X-User-Name": "fay", "X-Grant": id } });
        expect(redeemed.status).to.equal(200);
        const r = await call(`${quiet.url}/orders`, { method: "POST", headers: { ...BOT, "X-User-Name": "gus" } });
        expect([r.status, Object.keys(r.body)]).to.deep.equal([403, ["error", "tier", "reason", "approval_policy"]]);
      } finally {
        await app.close();
        await quiet.close();
        await stop();
      }
    });

    it("still answers 403 'Approval required', without a task, when the caller may not request approvals; onError says why", async () => {
      const gateway: CallerConfig = { name: "api-gateway", tokenHashes: [createHash("sha256").update("gw-token").digest("hex")], certificates: [], groups: new Set(["authorize"]) };
      const { server, client: admin, connect } = await startTestServer({ callers: [gateway] }, INTEGRATIONS_POLICY);
      admin.close();
      const decider = connect({ metadata: { authorization: "Bearer gw-token" } });
      const errors: unknown[] = [];
      const app = await startApp(decider, { onError: (e) => errors.push(e) });
      try {
        const r = await call(`${app.url}/orders`, { method: "POST", headers: BOT });
        expect([r.status, Object.keys(r.body)]).to.deep.equal([403, ["error", "tier", "reason", "approval_policy"]]);
        expect(errors.map((e) => isAgentAuthError(e) && e.code)).to.deep.equal(["PERMISSION_DENIED"]);
      } finally {
        await app.close();
        decider.close();
        await server.close();
      }
    });

    it("takes a function for the action and the metadata", async () => {
      const { decider, stop } = await DECIDERS[0]!.start();
      const app = await startApp(decider, { action: () => "pay", metadata: () => ({ amount: 5000 }) });
      try {
        const r = await call(`${app.url}/orders`, { headers: BOT });
        expect([r.status, r.body["tier"], r.body["approval_policy"]]).to.deep.equal([403, "strong", "big-payment"]);
      } finally {
        await app.close();
        await stop();
      }
    });

    it("answers 503 and never runs the handler when agent-auth cannot be reached", async () => {
      const decider = unreachableDecider();
      const errors: unknown[] = [];
      const app = await startApp(decider, { onError: (e) => errors.push(e) });
      try {
        const r = await call(`${app.url}/orders`, { headers: BOT });
        expect([r.status, r.body["error"], r.body["handled"]]).to.deep.equal([503, "Authorization unavailable", undefined]);
        expect(errors).to.have.length(1);
      } finally {
        await app.close();
        decider.close();
      }
    });

    it("answers 400 naming the limit when a header breaks the request limits", async () => {
      const { decider, stop } = await DECIDERS[0]!.start();
      const app = await startApp(decider, {});
      try {
        const r = await call(`${app.url}/orders`, { headers: { "X-Agent-Name": "a".repeat(5000), "X-User-Name": "alice" } });
        expect([r.status, r.body["error"], r.body["reason"]]).to.deep.equal([400, "Invalid authorization request", "agent: is 5000 characters long; the limit is 4096 (limits.max_string_length)"]);
      } finally {
        await app.close();
        await stop();
      }
    });

    it("answers 400 naming limits.max_name_length for an action too long to be matched, locally and through a server", async () => {
      for (const d of DECIDERS) {
        const { decider, stop } = await d.start();
        const app = await startApp(decider, { action: () => "get:/orders/" + "9".repeat(300) });
        try {
          const r = await call(`${app.url}/orders`, { headers: { "X-Agent-Name": "bot", "X-User-Name": "alice" } });
          expect([r.status, r.body["reason"]], d.name).to.deep.equal([400, "action: is 312 characters long; the limit is 256 (limits.max_name_length)"]);
        } finally {
          await app.close();
          await stop();
        }
      }
    });
  });
}
