import { expect } from "chai";
import { createHash, createHmac } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { status } from "@grpc/grpc-js";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  ApprovalStatus,
  ApprovalUseStatus,
  AuditEventKind,
  Effect,
  isAgentAuthError,
  isClientError,
  Tier,
  type AgentAuthClient,
  type ApprovalEventRecord,
} from "../../src/client/index.ts";
import type { CallerConfig } from "../../src/server/server-config.ts";
import { parseRedisTarget } from "../../src/state/redis/redis-target.ts";
import { deletePrefix, requireRedis, testPrefix } from "../support/redis.ts";
import { SERVER_POLICY, startTestServer } from "../support/server.ts";

/** The test policy plus an approvals section: soft by the user or leads, strong by sec-* only. */
const POLICY = `${SERVER_POLICY}
approvals:
  pending_ttl: 600
  grant_ttl: 120
  max_uses: 1
  approvers:
    soft: [self, "lead-*"]
    strong: ["sec-*", carol]
`;

const deploy = { agent: "deployer", user: "bob", action: "deploy", resource: "/staging/api" };
const prodDeploy = { ...deploy, resource: "/prod/api" };

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; reason: string | undefined }> {
  try {
    await p;
  } catch (e) {
    if (isAgentAuthError(e)) return { code: e.code, message: e.details, reason: e.errorInfo?.reason };
    if (isClientError(e)) return { code: String(e.code), message: e.details, reason: e.errorInfo?.reason };
    throw e;
  }
  throw new Error("expected the call to fail");
}

const sha = (token: string): string => createHash("sha256").update(token).digest("hex");
const caller = (name: string, ...groups: CallerConfig["groups"] extends ReadonlySet<infer G> ? G[] : never): CallerConfig => ({
  name,
  tokenHashes: [sha(`${name}-token`)],
  certificates: [],
  groups: new Set(groups),
});

describe("ApprovalService over gRPC", function () {
  this.timeout(30_000);

  describe("without caller authentication", () => {
    let client: AgentAuthClient;
    let close: () => Promise<void>;
    before(async () => {
      const started = await startTestServer({}, POLICY);
      client = started.client;
      close = async () => {
        client.close();
        await started.server.close(100);
      };
    });
    after(() => close());

    it("says a decision needing approval is requestable, and until when", async () => {
      const before = Date.now();
      const { decision } = await client.authorization.authorize(deploy);
      expect(decision).to.deep.include({ effect: Effect.ALLOW, tier: Tier.SOFT, requiresApproval: true, approvalRequestable: true, approvalId: "" });
      const until = timestampDate(decision!.requestableUntil!).getTime();
      // pending_ttl is 600 s.
      expect(until).to.be.within(before + 600_000 - 1000, Date.now() + 600_000 + 1000);
      // A plain allow and a denial are not requestable.
      const read = (await client.authorization.authorize({ agent: "caller", user: "bob", action: "read" })).decision!;
      expect(read.approvalRequestable).to.equal(false);
      expect(read.requestableUntil).to.equal(undefined);
      const denied = (await client.authorization.authorize({ agent: "deployer", user: "bob", action: "delete" })).decision!;
      expect([denied.effect, denied.approvalRequestable]).to.deep.equal([Effect.DENY, false]);
    });

    it("requests, lists, approves and redeems once", async () => {
      const { decision, task } = await client.approvals.request({ ...deploy, justification: "release 1.4", idempotencyKey: "k-1" });
      expect(decision).to.deep.include({ allowed: true, requiresApproval: true, tier: "soft" });
      expect(task).to.deep.include({ status: "pending", agent: "deployer", user: "bob", action: "deploy", resource: "/staging/api", tier: "soft", justification: "release 1.4", requestedBy: "deployer", maxUses: 1 });
      expect(Date.parse(task.expiresAt) - Date.parse(task.createdAt)).to.equal(600_000);
      // The same idempotency key returns the same task.
      expect((await client.approvals.request({ ...deploy, idempotencyKey: "k-1" })).task.id).to.equal(task.id);
      expect(await client.approvals.get(task.id)).to.deep.equal(task);
      expect(await client.approvals.get("no-such-task")).to.equal(undefined);
      const pending = await client.approvals.list({ status: "pending", agent: "deployer" });
      expect(pending.tasks.map((t) => t.id)).to.include(task.id);
      expect((await client.approvals.list({ status: "approved" })).tasks.map((t) => t.id)).not.to.include(task.id);

      // Presenting it while pending: the normal decision, nothing consumed.
      const early = (await client.authorization.authorize({ ...deploy, approvalId: task.id })).decision!;
      expect(early).to.deep.include({ requiresApproval: true, approvalId: task.id, approvalStatus: ApprovalUseStatus.PENDING, approvedBy: "" });

      // Without caller authentication the approver must be named.
      expect(await failure(client.approvals.decide({ id: task.id, approve: true }))).to.deep.include({ code: "INVALID_ARGUMENT" });
      // An approver the policy does not allow for the tier.
      const refused = await failure(client.approvals.decide({ id: task.id, approve: true, approver: "mallory" }));
      expect(refused.code).to.equal("PERMISSION_DENIED");
      expect(refused.message).to.contain("mallory");
      const approved = await client.approvals.decide({ id: task.id, approve: true, approver: "lead-ann", comment: "ok" });
      expect(approved).to.deep.include({ status: "approved", decidedBy: "lead-ann", comment: "ok", usesLeft: 1 });

      // Another request does not redeem it.
      const other = await client.authorize({ ...deploy, resource: "/staging/db", approvalId: task.id });
      expect([other.requiresApproval, other.approvalStatus]).to.deep.equal([true, "mismatch"]);
      const redeemed = await client.authorize({ ...deploy, approvalId: task.id });
      expect(redeemed).to.deep.include({ allowed: true, requiresApproval: false, approvalId: task.id, approvedBy: "lead-ann", approvalStatus: "" });
      expect(redeemed.reason).to.equal(`Approved by 'lead-ann' (approval ${task.id})`);
      const again = (await client.authorization.authorize({ ...deploy, approvalId: task.id })).decision!;
      expect([again.requiresApproval, again.approvalStatus]).to.deep.equal([true, ApprovalUseStatus.USED]);
      expect((await client.approvals.get(task.id))?.status).to.equal("used");

      // A terminal task cannot be decided again.
      expect(await failure(client.approvals.decide({ id: task.id, approve: false, approver: "lead-ann" }))).to.deep.include({ code: "FAILED_PRECONDITION" });
      expect(await failure(client.approvals.decide({ id: "no-such-task", approve: true, approver: "lead-ann" }))).to.deep.include({ code: "NOT_FOUND" });
    });

    it("refuses what is not requestable, and malformed requests naming the field", async () => {
      const denied = await failure(client.approvals.request({ agent: "deployer", user: "bob", action: "delete" }));
      expect(denied).to.deep.include({ code: "FAILED_PRECONDITION", reason: "APPROVAL_NOT_REQUESTABLE" });
      expect((await failure(client.approvals.request({ agent: "caller", user: "bob", action: "read" }))).code).to.equal("FAILED_PRECONDITION");
      const noAgent = await failure(client.approvalService.requestApproval({ request: { user: "bob", action: "deploy" } }));
      expect(noAgent.code).to.equal(String(status.INVALID_ARGUMENT));
      expect(noAgent.message).to.match(/^request\.agent/);
      const noRequest = await failure(client.approvalService.requestApproval({}));
      expect(noRequest.message).to.equal("request: is required");
      const withApproval = await failure(client.approvalService.requestApproval({ request: { ...deploy, approvalId: "x" } }));
      expect(withApproval.message).to.match(/^request\.approval_id/);
      // No callbacks configured: a callback URL is refused.
      const callback = await failure(client.approvals.request({ ...deploy, callbackUrl: "http://127.0.0.1:9/x" }));
      expect(callback.code).to.equal("INVALID_ARGUMENT");
      expect(callback.message).to.match(/^callback_url: the server accepts no callbacks/);
      expect((await failure(client.approvalService.listApprovals({ status: 42 as ApprovalStatus }))).message).to.equal("status: unknown status 42");
      expect((await failure(client.approvalService.listApprovals({ pageSize: 5000 }))).code).to.equal(String(status.INVALID_ARGUMENT));
    });

    it("cancels a pending task; the strong tier keeps the four-eyes rule", async () => {
      const { task } = await client.approvals.request({ ...prodDeploy, justification: "hotfix" });
      expect(task.tier).to.equal("strong");
      // The request's user may never approve a strong-tier task, even when a pattern names them.
      const own = await failure(client.approvals.decide({ id: task.id, approve: true, approver: "bob" }));
      expect(own.code).to.equal("PERMISSION_DENIED");
      const cancelled = await client.approvals.cancel(task.id);
      expect(cancelled).to.deep.include({ status: "cancelled", decidedBy: "deployer" });
      expect((await failure(client.approvals.cancel(task.id))).code).to.equal("FAILED_PRECONDITION");
    });

    it("pages through the listing", async () => {
      const tasks: { id: string; createdAt: string }[] = [];
      for (let i = 0; i < 5; i++) tasks.push((await client.approvals.request({ ...deploy, user: `pager-${i}` })).task);
      // The listing's order: creation time, then id (tasks made in one millisecond go by id).
      const ids = tasks
        .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1))
        .map((t) => t.id);
      const seen: string[] = [];
      let after = "";
      do {
        const page = await client.approvals.list({ status: "pending" }, { after, limit: 2 });
        expect(page.tasks.length).to.be.at.most(2);
        seen.push(...page.tasks.map((t) => t.id));
        after = page.next;
      } while (after !== "");
      expect(seen.filter((id) => ids.includes(id))).to.deep.equal(ids);
    });

    it("streams transitions with WatchApprovals, resumable by cursor, and Query filters audit records by kind", async () => {
      const watched: ApprovalEventRecord[] = [];
      const controller = new AbortController();
      const stream = client.approvals.watch({ users: ["watcher"], afterCursor: "0-0" }, { signal: controller.signal });
      const done = (async () => {
        try {
          for await (const e of stream) {
            watched.push(e);
            if (watched.length === 3) break;
          }
        } catch {
          // ended by the abort
        }
      })();
      const { task, decision } = await client.approvals.request({ ...deploy, user: "watcher" });
      await client.approvals.decide({ id: task.id, approve: true, approver: "watcher" });
      const redeemed = await client.authorize({ ...deploy, user: "watcher", approvalId: task.id });
      await done;
      controller.abort();
      expect(watched.map((e) => [e.kind, e.task.id, e.task.status])).to.deep.equal([
        ["approval_requested", task.id, "pending"],
        ["approval_approved", task.id, "approved"],
        ["approval_redeemed", task.id, "used"],
      ]);
      expect(watched[0]!.decisionId).to.equal(decision.decisionId);
      expect(watched[2]!.decisionId).to.equal(redeemed.decisionId);
      expect(watched[1]!.task.decidedBy).to.equal("watcher");

      // Resuming after the first cursor gives the rest, in order.
      const rest: string[] = [];
      for await (const e of client.approvals.watch({ users: ["watcher"], afterCursor: watched[0]!.cursor })) {
        rest.push(e.kind);
        if (rest.length === 2) break;
      }
      expect(rest).to.deep.equal(["approval_approved", "approval_redeemed"]);

      // Query: decisions only by default; approval events when asked.
      const decisions = await client.audit.query({ filter: { users: ["watcher"] } });
      expect(decisions.events.every((e) => e.kind === AuditEventKind.DECISION)).to.equal(true);
      expect(decisions.events.find((e) => e.decisionId === redeemed.decisionId)?.approvalId).to.equal(task.id);
      const approvals = await client.audit.query({ filter: { users: ["watcher"], kinds: [AuditEventKind.APPROVAL_APPROVED] } });
      expect(approvals.events.map((e) => [e.kind, e.approvalId])).to.deep.equal([[AuditEventKind.APPROVAL_APPROVED, task.id]]);
      // WatchApprovals takes approval kinds only.
      const bad = client.approvalService.watchApprovals({ filter: { kinds: [AuditEventKind.DECISION] } });
      const err = await failure((async () => {
        for await (const _ of bad) break;
      })());
      expect(err.message).to.match(/^filter\.kinds\[0\]: must be an approval kind/);
    });
  });

  describe("with caller authentication", () => {
    const callers = [
      caller("orchestrator", "authorize", "approvals"),
      caller("lead-ann", "approve"),
      caller("bob", "approve"),
      caller("console", "approvals-relay"),
      caller("auditor", "audit"),
      caller("other-orchestrator", "authorize", "approvals"),
    ];

    it("requests as the caller, decides as the caller, and lets only a relay name the approver", async () => {
      const { server, connect } = await startTestServer({ callers }, POLICY);
      const as = (name: string): AgentAuthClient => connect({ metadata: { authorization: `Bearer ${name}-token` } });
      const orchestrator = as("orchestrator");
      const ann = as("lead-ann");
      const bob = as("bob");
      const console_ = as("console");
      const auditor = as("auditor");
      try {
        const { task } = await orchestrator.approvals.request({ ...deploy, requestedBy: "someone-else" });
        expect(task.requestedBy).to.equal("orchestrator");
        // Groups: the requester may not decide; an approver may not request or list.
        const noDecide = await failure(orchestrator.approvals.decide({ id: task.id, approve: true }));
        expect(noDecide.code).to.equal("PERMISSION_DENIED");
        expect(noDecide.message).to.contain("'approve' or 'approvals-relay' group needed for ApprovalService.DecideApproval");
        expect((await failure(ann.approvals.list())).code).to.equal("PERMISSION_DENIED");
        expect((await failure(auditor.approvals.get(task.id))).code).to.equal("PERMISSION_DENIED");
        // An approver decides as itself: naming someone else needs the relay group.
        const naming = await failure(ann.approvals.decide({ id: task.id, approve: true, approver: "lead-bea" }));
        expect(naming.code).to.equal("PERMISSION_DENIED");
        expect(naming.message).to.contain("needs the 'approvals-relay' group");
        const approved = await ann.approvals.decide({ id: task.id, approve: true, approver: "lead-ann" });
        expect(approved.decidedBy).to.equal("lead-ann");

        // A strong-tier task: the request's user (an approver caller here) is refused by the four-eyes rule.
        const strong = (await orchestrator.approvals.request(prodDeploy)).task;
        const fourEyes = await failure(bob.approvals.decide({ id: strong.id, approve: true }));
        expect(fourEyes).to.deep.include({ code: "PERMISSION_DENIED", reason: "APPROVAL_NOT_ALLOWED" });
        // A relay names the approver it speaks for; it must name one.
        expect((await failure(console_.approvals.decide({ id: strong.id, approve: true }))).code).to.equal("INVALID_ARGUMENT");
        const relayed = await console_.approvals.decide({ id: strong.id, approve: false, approver: "sec-sam", comment: "not now" });
        expect(relayed).to.deep.include({ status: "denied", decidedBy: "sec-sam", comment: "not now" });

        // Cancel records the caller, whatever it names.
        const third = (await orchestrator.approvals.request({ ...deploy, user: "carl" })).task;
        expect(await orchestrator.approvals.cancel(third.id, "not-me")).to.deep.include({ status: "cancelled", decidedBy: "orchestrator" });
      } finally {
        for (const c of [orchestrator, ann, bob, console_, auditor]) c.close();
        await server.close(100);
      }
    });

    it("lets only the requester or a relay cancel a task", async () => {
      const { server, connect } = await startTestServer({ callers }, POLICY);
      const as = (name: string): AgentAuthClient => connect({ metadata: { authorization: `Bearer ${name}-token` } });
      const orchestrator = as("orchestrator");
      const other = as("other-orchestrator");
      const console_ = as("console");
      const ann = as("lead-ann");
      try {
        const first = (await orchestrator.approvals.request(deploy)).task;
        const refused = await failure(other.approvals.cancel(first.id));
        expect(refused.code).to.equal("PERMISSION_DENIED");
        expect(refused.message).to.contain(
          `caller 'other-orchestrator' may not cancel approval '${first.id}': only its requester 'orchestrator' or a caller with the 'approvals-relay' group may cancel it`,
        );
        // An approver without the approvals group is refused before the task is looked at.
        expect((await failure(ann.approvals.cancel(first.id))).code).to.equal("PERMISSION_DENIED");
        expect((await orchestrator.approvals.get(first.id))?.status).to.equal("pending");
        expect(await orchestrator.approvals.cancel(first.id)).to.deep.include({ status: "cancelled", decidedBy: "orchestrator" });

        // A relay cancels any task, as itself or for whom it names.
        const second = (await orchestrator.approvals.request({ ...deploy, user: "carl" })).task;
        expect(await console_.approvals.cancel(second.id)).to.deep.include({ status: "cancelled", decidedBy: "console" });
        const third = (await other.approvals.request({ ...deploy, user: "dora" })).task;
        expect(await console_.approvals.cancel(third.id, "dora")).to.deep.include({ status: "cancelled", decidedBy: "dora" });
        // Unknown tasks stay NOT_FOUND for everyone.
        expect((await failure(other.approvals.cancel("no-such-task"))).code).to.equal("NOT_FOUND");
      } finally {
        for (const c of [orchestrator, other, console_, ann]) c.close();
        await server.close(100);
      }
    });
  });

  describe("callbacks", () => {
    it("POSTs each transition, signed, retrying a failed attempt; URLs off the allow-list are refused", async () => {
      const got: { headers: IncomingMessage["headers"]; body: string; status: number }[] = [];
      let failNext = true;
      const waiters: { count: number; resolve: () => void }[] = [];
      const receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          const code = failNext ? 500 : 204;
          failNext = false;
          got.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), status: code });
          res.statusCode = code;
          res.end();
          for (const w of waiters.filter((w) => got.length >= w.count)) w.resolve();
        });
      });
      receiver.listen(0, "127.0.0.1");
      await once(receiver, "listening");
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/approvals`;
      const received = (count: number): Promise<void> => (got.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve })));
      const secret = "callback-secret-for-tests";
      const { server, client } = await startTestServer(
        { approvalCallbacks: { allow: ["http://127.0.0.1:*/hooks/*"], secret, maxAttempts: 4, backoffMs: 10, timeoutMs: 5000 } },
        POLICY,
      );
      try {
        const refused = await failure(client.approvals.request({ ...deploy, callbackUrl: "http://127.0.0.1:1@example.com/hooks/x" }));
        expect(refused.code).to.equal("INVALID_ARGUMENT");
        expect(refused.message).to.match(/^callback_url: /);
        expect((await failure(client.approvals.request({ ...deploy, callbackUrl: "http://localhost:80/hooks/x" }))).message).to.contain("approvals.callback_allow");

        const { task } = await client.approvals.request({ ...deploy, user: "hooked", callbackUrl: url });
        expect(task.callbackUrl).to.equal(url);
        // The first attempt fails (500), the retry is delivered.
        await received(2);
        await client.approvals.decide({ id: task.id, approve: true, approver: "hooked" });
        await received(3);
        expect(got.map((g) => g.status)).to.deep.equal([500, 204, 204]);
        for (const g of got) {
          expect(g.headers["x-agent-auth-signature"]).to.equal(`sha256=${createHmac("sha256", secret).update(g.body).digest("hex")}`);
          expect(g.headers["content-type"]).to.equal("application/json");
        }
        const bodies = got.map((g) => JSON.parse(g.body) as { event: string; approval: { id: string; status: string; decided_by: string } });
        expect(bodies[0]).to.deep.equal(bodies[1]);
        expect(bodies.map((b) => [b.event, b.approval.id, b.approval.status])).to.deep.equal([
          ["approval_requested", task.id, "pending"],
          ["approval_requested", task.id, "pending"],
          ["approval_approved", task.id, "approved"],
        ]);
        expect(bodies[2]!.approval.decided_by).to.equal("hooked");
      } finally {
        client.close();
        await server.close(100);
        receiver.close();
      }
    });
  });

  describe("two replicas sharing Redis", () => {
    let url: string;
    let prefix: string;
    before(async function () {
      url = await requireRedis(this);
      prefix = testPrefix("approvals-api");
    });
    after(async () => {
      if (url !== undefined) await deletePrefix(url, prefix);
    });

    it("decides on one replica what was requested on the other; watchers see every replica's transitions; each callback is sent once", async () => {
      const got: { event: string; id: string }[] = [];
      const waiters: { count: number; resolve: () => void }[] = [];
      const receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { event: string; approval: { id: string } };
          got.push({ event: body.event, id: body.approval.id });
          res.statusCode = 204;
          res.end();
          for (const w of waiters.filter((w) => got.length >= w.count)) w.resolve();
        });
      });
      receiver.listen(0, "127.0.0.1");
      await once(receiver, "listening");
      const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/approvals`;
      const received = (count: number): Promise<void> => (got.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve })));
      const options = {
        redis: { connection: parseRedisTarget(url), prefix },
        approvalCallbacks: { allow: ["http://127.0.0.1:*/*"], secret: "callback-secret-for-tests", maxAttempts: 3, backoffMs: 10, timeoutMs: 5000 },
      };
      const a = await startTestServer(options, POLICY);
      const b = await startTestServer(options, POLICY);
      const controller = new AbortController();
      try {
        const watched: string[] = [];
        const watching = (async () => {
          try {
            for await (const e of b.client.approvals.watch({ users: ["replicated"], afterCursor: "0-0" }, { signal: controller.signal })) {
              watched.push(`${e.kind}:${e.task.status}`);
              if (watched.length === 3) break;
            }
          } catch {
            // ended by the abort
          }
        })();
        const { task } = await a.client.approvals.request({ ...deploy, user: "replicated", callbackUrl: hook });
        expect((await b.client.approvals.get(task.id))?.status).to.equal("pending");
        await b.client.approvals.decide({ id: task.id, approve: true, approver: "lead-ann" });
        const redeemed = await a.client.authorize({ ...deploy, user: "replicated", approvalId: task.id });
        expect(redeemed).to.deep.include({ allowed: true, requiresApproval: false, approvedBy: "lead-ann" });
        // The second redemption, on the other replica, finds it used.
        expect((await b.client.authorize({ ...deploy, user: "replicated", approvalId: task.id })).approvalStatus).to.equal("used");
        await watching;
        expect(watched).to.deep.equal(["approval_requested:pending", "approval_approved:approved", "approval_redeemed:used"]);

        // Each replica sends only the transitions it made: by the time a later transition's callback
        // arrives, each of the first task's came once, whichever replica made it.
        const marker = (await b.client.approvals.request({ ...deploy, user: "marker", callbackUrl: hook })).task;
        await received(4);
        while (!got.some((g) => g.id === marker.id)) await received(got.length + 1);
        expect(got.filter((g) => g.id === task.id).map((g) => g.event).sort()).to.deep.equal(["approval_approved", "approval_redeemed", "approval_requested"]);
      } finally {
        controller.abort();
        for (const r of [a, b]) {
          r.client.close();
          await r.server.close(100);
        }
        receiver.close();
      }
    });
  });
});
