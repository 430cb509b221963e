/**
 * The Approvals inbox's routes: the pending list and the history tab, a
 * task's page and its card (what the page's script fetches when a task
 * changes), the approve / deny form, and a Server-Sent Events stream of the
 * approval events (resumable by audit cursor, like the decisions stream).
 * Viewing needs `approvals` or `approve`; deciding needs `approve` (as
 * oneself) or `approvals-relay` (naming the approver). The engine checks the
 * tier's approvers and the four-eyes rule on every decision; the pages use
 * the same rule function to disable what would be refused.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { approverRefusal } from "../../../approvals/approvers.ts";
import { isApprovalError, type ApprovalStatus, type ApprovalTask } from "../../../approvals/types.ts";
import { isCursorExpiredError, isCursorOutOfRangeError, isInvalidCursorError, isTooManySubscribersError } from "../../../audit/errors.ts";
import { APPROVAL_EVENT_KINDS } from "../../../audit/event.ts";
import type { AuditEntry, AuditHub } from "../../../audit/hub.ts";
import type { AuthEngine } from "../../../engine/auth-engine.ts";
import { chooseApprover } from "../../approver-identity.ts";
import type { Logger } from "../../logger.ts";
import type { RpcGroup } from "../../server-config.ts";
import { inboxBody, taskBody, taskCard, taskHref, type DecideRight, type TaskView } from "./approvals-view.ts";
import { streamDecisions, type DecisionStreamOptions } from "./event-stream.ts";
import type { SafeHtml } from "./html.ts";
import { csrfRefusal } from "./http-security.ts";
import { layout, messagePage } from "./layout.ts";
import { APPROVALS_DECIDE_GROUPS, APPROVALS_VIEW_GROUPS, CONSOLE_BASE, groupsText, viewerMay, type Viewer } from "./pages.ts";

/** What the inbox takes from the console around it. */
export interface ApprovalRoutesContext {
  readonly engine: AuthEngine;
  readonly hub: AuditHub;
  readonly logger: Logger;
  /** The viewer of a request (undefined: not signed in). */
  viewerOf(request: FastifyRequest): Viewer | undefined;
  /** The viewer when they may see what `groups` guard; otherwise answers and returns undefined. */
  gate(request: FastifyRequest, reply: FastifyReply, groups: readonly RpcGroup[]): Viewer | undefined;
  /** The CSRF token the viewer's forms carry (setting the double-submit cookie without callers). */
  csrfFor(request: FastifyRequest, reply: FastifyReply, viewer: Viewer): string;
  /** The token a form's CSRF field must equal. */
  expectedCsrf(request: FastifyRequest, viewer: Viewer): string | undefined;
  /** The rest of a live stream's options: session checks and bookkeeping. */
  streamOptions(request: FastifyRequest): Pick<DecisionStreamOptions, "stillAllowed" | "streams" | "onOpen">;
  /** The form fields of a request. */
  formOf(request: FastifyRequest): Record<string, string>;
}

/** What one approval event tells the page: which task changed, and how. */
export interface ApprovalEventRow {
  readonly cursor: string;
  readonly kind: string;
  readonly id: string;
  readonly status: string;
}

const HTML = "text/html; charset=utf-8";
const TEXT = "text/plain; charset=utf-8";
/** Tasks read for a tab at most (pages of the engine's listing). */
const MAX_LISTED = 2000;
/** Past tasks the history tab shows. */
const HISTORY_ROWS = 200;
const DECISION_STATUS: Readonly<Record<string, number>> = { not_found: 404, not_allowed: 403, terminal: 409, invalid: 400, limit: 429, not_requestable: 400 };

/** Registers the inbox's routes on the console's scope. */
export function registerApprovalRoutes(app: FastifyInstance, c: ApprovalRoutesContext): void {
  /** How the viewer may decide `task`: the engine's approver rule, applied to who they would decide as. */
  function rightOf(viewer: Viewer, task: ApprovalTask): DecideRight {
    if (viewer.kind === "open") return { kind: "named", suggested: "" };
    if (!viewerMay(viewer, APPROVALS_DECIDE_GROUPS)) {
      return { kind: "refused", reason: `Caller '${viewer.name}' may view approvals but not decide them (that needs ${groupsText(APPROVALS_DECIDE_GROUPS)}).` };
    }
    if (viewer.groups.has("approvals-relay")) return { kind: "named", suggested: viewer.groups.has("approve") ? viewer.name : "" };
    const refusal = approverRefusal(c.engine.policy.config.approvals, task, viewer.name);
    return refusal === undefined ? { kind: "as", approver: viewer.name } : { kind: "refused", reason: `You may not decide this request: ${refusal}.` };
  }

  function viewOf(viewer: Viewer, csrf: string, task: ApprovalTask): TaskView {
    const policy = c.engine.policy.config.approvalPolicies.find((p) => p.name === task.approvalPolicy);
    return { task, policy, right: rightOf(viewer, task), csrf, now: Date.now() };
  }

  /** Every task the listing holds with one of `statuses`, newest first, up to {@link MAX_LISTED} read. */
  async function tasks(statuses: ReadonlySet<ApprovalStatus>, only?: ApprovalStatus): Promise<ApprovalTask[]> {
    const out: ApprovalTask[] = [];
    let after = "";
    let read = 0;
    do {
      const page = await c.engine.listApprovals(only === undefined ? {} : { status: only }, { after, limit: 500 });
      read += page.tasks.length;
      out.push(...page.tasks.filter((t) => statuses.has(t.status)));
      after = page.next;
    } while (after !== "" && read < MAX_LISTED);
    return out.reverse();
  }

  /** The newest approval event's cursor, so the stream continues exactly after what the page was rendered with. */
  async function head(): Promise<string> {
    const newest = (await c.hub.query({ filter: { kinds: APPROVAL_EVENT_KINDS }, newestFirst: true, limit: 1 })).entries[0]?.cursor;
    return newest === undefined ? "" : c.hub.cursorText(newest);
  }

  async function inbox(request: FastifyRequest, reply: FastifyReply, tab: "pending" | "history"): Promise<FastifyReply> {
    const viewer = c.gate(request, reply, APPROVALS_VIEW_GROUPS);
    if (viewer === undefined) return reply;
    const csrf = c.csrfFor(request, reply, viewer);
    const after = await head();
    let list: ApprovalTask[];
    if (tab === "pending") list = await tasks(PENDING, "pending");
    else {
      list = (await tasks(PAST)).sort((a, b) => ended(b) - ended(a)).slice(0, HISTORY_ROWS);
    }
    const cards: SafeHtml[] = list.map((t) => taskCard(viewOf(viewer, csrf, t), "inbox"));
    const note = viewer.kind === "caller" && !viewerMay(viewer, APPROVALS_DECIDE_GROUPS) ? `Caller '${viewer.name}' may view approvals but not decide them.` : "";
    return reply.type(HTML).send(layout({ title: tab === "pending" ? "Approvals" : "Approval history", pageId: "approvals", viewer, body: inboxBody(tab, cards, after, note) }));
  }

  app.get("/approvals", async (request, reply) => inbox(request, reply, "pending"));
  app.get("/approvals/history", async (request, reply) => inbox(request, reply, "history"));

  app.get("/approvals/events", async (request, reply) => {
    const viewer = c.viewerOf(request);
    if (viewer === undefined) return reply.code(401).type(TEXT).send("Sign in to follow approvals.");
    if (!viewerMay(viewer, APPROVALS_VIEW_GROUPS)) return reply.code(403).type(TEXT).send(`This caller is not granted ${groupsText(APPROVALS_VIEW_GROUPS)}.`);
    const lastEventId = request.headers["last-event-id"];
    const query = request.query as Record<string, unknown>;
    const after = typeof lastEventId === "string" && lastEventId !== "" ? lastEventId : typeof query["after"] === "string" ? query["after"] : "";
    const filter = { kinds: APPROVAL_EVENT_KINDS };
    let notice: string | undefined;
    let sub;
    try {
      sub = await c.hub.subscribe({ filter, after });
    } catch (error) {
      if (isTooManySubscribersError(error)) return reply.code(503).header("retry-after", "10").type(TEXT).send(error.message);
      if (!isCursorExpiredError(error) && !isCursorOutOfRangeError(error) && !isInvalidCursorError(error)) throw error;
      notice = `Changes may be missing: the stream could not continue where it stopped (${error.message}). Reload the page to see every task.`;
      sub = await c.hub.subscribe({ filter });
    }
    reply.hijack();
    await streamDecisions<ApprovalEventRow>({
      response: reply.raw,
      subscription: sub,
      row: (entry) => eventRow(entry, c.hub),
      notice,
      ...c.streamOptions(request),
      logger: c.logger,
    });
  });

  app.get("/approvals/:id", async (request, reply) => {
    const viewer = c.gate(request, reply, APPROVALS_VIEW_GROUPS);
    if (viewer === undefined) return reply;
    const task = await find(viewer, reply, (request.params as { id: string }).id);
    if (task === undefined) return reply;
    const csrf = c.csrfFor(request, reply, viewer);
    return reply.type(HTML).send(layout({ title: "Approval", pageId: "approvals", viewer, body: taskBody(viewOf(viewer, csrf, task)) }));
  });

  /** A task's card alone (the inbox's script replaces or adds it when the task changes). */
  app.get("/approvals/:id/card", async (request, reply) => {
    const viewer = c.gate(request, reply, APPROVALS_VIEW_GROUPS);
    if (viewer === undefined) return reply;
    const task = await find(viewer, reply, (request.params as { id: string }).id);
    if (task === undefined) return reply;
    const csrf = c.csrfFor(request, reply, viewer);
    return reply.type(HTML).send(taskCard(viewOf(viewer, csrf, task), "inbox").toString());
  });

  app.post("/approvals/:id/decide", async (request, reply) => {
    const viewer = c.gate(request, reply, APPROVALS_DECIDE_GROUPS);
    if (viewer === undefined) return reply;
    const id = (request.params as { id: string }).id;
    const form = c.formOf(request);
    const who = viewer.kind === "caller" ? viewer.name : "";
    const refusal = csrfRefusal(request, form, c.expectedCsrf(request, viewer));
    if (refusal !== undefined) {
      c.logger.warn("console approval decision refused", { caller: who, approval: id, reason: refusal });
      return reply.code(403).type(HTML).send(messagePage(viewer, "Request refused", refusal));
    }
    const decision = form["decision"];
    if (decision !== "approve" && decision !== "deny") return reply.code(400).type(HTML).send(messagePage(viewer, "Request refused", "decision: expected approve or deny"));
    const choice = chooseApprover(viewer.kind === "caller" ? viewer : undefined, (form["approver"] ?? "").trim());
    if (!("approver" in choice)) return reply.code(choice.refusal === "denied" ? 403 : 400).type(HTML).send(messagePage(viewer, "Request refused", choice.message, { href: taskHref(id), text: "Back to the task" }));
    const comment = form["comment"] ?? "";
    try {
      const task = await c.engine.decideApproval({ id, approve: decision === "approve", approver: choice.approver, ...(comment === "" ? {} : { comment }) });
      c.logger.info("console approval decision", { caller: who, approval: task.id, approver: choice.approver, status: task.status });
    } catch (error) {
      if (!isApprovalError(error)) throw error;
      c.logger.warn("console approval decision refused", { caller: who, approval: id, approver: choice.approver, reason: error.message });
      const title = error.code === "terminal" ? "Already decided" : "Request refused";
      return reply.code(DECISION_STATUS[error.code] ?? 400).type(HTML).send(messagePage(viewer, title, error.message, { href: taskHref(id), text: "Back to the task" }));
    }
    return reply.redirect(form["back"] === "task" ? taskHref(id) : `${CONSOLE_BASE}/approvals`, 303);
  });

  /** The task, or a 404 page. */
  async function find(viewer: Viewer, reply: FastifyReply, id: string): Promise<ApprovalTask | undefined> {
    let task: ApprovalTask | undefined;
    try {
      task = await c.engine.getApproval(id);
    } catch (error) {
      if (!isApprovalError(error)) throw error;
    }
    if (task === undefined) {
      void reply.code(404).type(HTML).send(messagePage(viewer, "No such approval", `No approval '${id}' is kept (its history lasts approvals.history_ttl).`, { href: `${CONSOLE_BASE}/approvals`, text: "Approvals" }));
    }
    return task;
  }
}

const PENDING: ReadonlySet<ApprovalStatus> = new Set<ApprovalStatus>(["pending"]);
const PAST: ReadonlySet<ApprovalStatus> = new Set<ApprovalStatus>(["approved", "denied", "expired", "cancelled", "used"]);

/** When a past task stopped waiting: its decision, else its expiry. */
function ended(t: ApprovalTask): number {
  return Date.parse(t.decidedAt !== "" ? t.decidedAt : t.expiresAt);
}

function eventRow(entry: AuditEntry, hub: AuditHub): ApprovalEventRow {
  const e = entry.event;
  return { cursor: hub.cursorText(entry.cursor), kind: e.kind ?? "decision", id: e.approval?.taskId ?? "", status: e.approval?.status ?? "" };
}
