/**
 * The Approvals inbox: pending tasks as cards with their approve / deny form,
 * the history of decided and expired tasks, and one task's page. The cards
 * are rendered here only — the page's script asks the server for a card when
 * a task changes — so every task field reaches the page through the escaping
 * template.
 */
import { metadataDigest } from "../../../approvals/binding.ts";
import type { ApprovalTask } from "../../../approvals/types.ts";
import type { ApprovalPolicyConfig } from "../../../config/types.ts";
import { shortTime } from "./decision-row.ts";
import { html, type SafeHtml } from "./html.ts";
import { CONSOLE_BASE } from "./pages.ts";

/** Whether and how the viewer may decide a task, worked out by the routes with the engine's own approver rule. */
export type DecideRight =
  /** May decide as `approver` (a signed-in caller with `approve`). */
  | { readonly kind: "as"; readonly approver: string }
  /** May decide naming the approver (no callers configured, or a relay): the form has an approver field. */
  | { readonly kind: "named"; readonly suggested: string }
  /** May not decide this task; `reason` says why (no approver group, the four-eyes rule, the tier's approvers). */
  | { readonly kind: "refused"; readonly reason: string };

/** What a card shows besides the task. */
export interface TaskView {
  readonly task: ApprovalTask;
  /** The approval policy that demanded it, as loaded (undefined: no such policy in the loaded revision). */
  readonly policy: ApprovalPolicyConfig | undefined;
  readonly right: DecideRight;
  /** The CSRF token the forms carry. */
  readonly csrf: string;
  readonly now: number;
}

/** The digest of a request without metadata: shown as none. */
const NO_METADATA_DIGEST = metadataDigest(Object.create(null) as Record<string, unknown>);

/** The path of a task's page. */
export function taskHref(id: string): string {
  return `${CONSOLE_BASE}/approvals/${encodeURIComponent(id)}`;
}

/** "12 min left", "40 s left", "expired": how long until `expiresAt`. */
export function timeLeft(expiresAt: string, now: number): string {
  const ms = Date.parse(expiresAt) - now;
  if (!(ms > 0)) return "expired";
  const s = Math.ceil(ms / 1000);
  if (s < 120) return `${s} s left`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m} min left`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${m % 60} min left` : `${Math.floor(h / 24)} d left`;
}

function field(label: string, value: unknown, cls = ""): SafeHtml {
  return html`<dt>${label}</dt><dd${cls === "" ? "" : html` class="${cls}"`}>${value === "" || value === undefined ? html`<span class="none">—</span>` : value}</dd>`;
}

function policyText(v: TaskView): SafeHtml {
  const name = v.task.approvalPolicy;
  if (name === "") return html`<span class="none">none: the profile's default tier</span>`;
  if (v.policy === undefined) return html`<strong>${name}</strong> <span class="none">(not in the loaded policy)</span>`;
  return html`<strong>${name}</strong>${v.policy.description === "" ? "" : html` — <span class="description">${v.policy.description}</span>`}`;
}

/** The approve / deny form of a pending task, or why the viewer may not decide it. */
function decideForm(v: TaskView, back: string): SafeHtml {
  const r = v.right;
  if (r.kind === "refused") return html`<p class="cannot" role="note"><button type="button" disabled>Approve</button> <span class="reason">${r.reason}</span></p>`;
  return html`<form class="decide" method="post" action="${taskHref(v.task.id)}/decide">
<input type="hidden" name="csrf" value="${v.csrf}"><input type="hidden" name="back" value="${back}">
${r.kind === "named" ? html`<label>Approver <input name="approver" value="${r.suggested}" autocomplete="off" required></label>` : html`<p class="as">Deciding as <strong>${r.approver}</strong></p>`}
<label>Comment <input name="comment" autocomplete="off" maxlength="4096"></label>
<div class="buttons"><button type="submit" name="decision" value="approve" class="approve">Approve</button><button type="submit" name="decision" value="deny" class="deny">Deny</button></div>
</form>`;
}

/** The fields of a task shown on its card and its page. */
function taskFields(v: TaskView, more: SafeHtml | "" = ""): SafeHtml {
  const t = v.task;
  return html`<dl class="fields">
${field("Agent", t.agent, "agent")}
${field("User", t.user, "user")}
${field("Action", html`<code>${t.action}</code>`, "action")}
${field("Resource", t.resource, "resource")}
${field("Scope", t.scope, "scope")}
${field("Tier", t.tier, "task-tier")}
${field("Approval policy", policyText(v), "policy")}
${field("Justification", t.justification, "justification")}
${field("Metadata", t.metadataDigest === "" || t.metadataDigest === NO_METADATA_DIGEST ? "" : html`<span class="none">bound by its SHA-256 (the task keeps no values)</span> <code>${t.metadataDigest}</code>`, "metadata")}
${field("Requested", html`<time datetime="${t.createdAt}">${shortTime(Date.parse(t.createdAt))}</time> by ${t.requestedBy}`, "requested")}
${more}
</dl>`;
}

/** A task as a list item: a pending one with its form, a past one with its outcome. */
export function taskCard(v: TaskView, back: string): SafeHtml {
  const t = v.task;
  const pending = t.status === "pending";
  return html`<li class="task ${t.status}" id="task-${t.id}" data-id="${t.id}" data-status="${t.status}">
<div class="line"><span class="status-badge ${t.status}">${t.status}</span><span class="tier">${t.tier}</span>${
    pending ? html`<span class="left" data-expires="${t.expiresAt}">${timeLeft(t.expiresAt, v.now)}</span>` : outcome(t)
  }<a class="open" href="${taskHref(t.id)}">task</a></div>
${taskFields(v)}
${pending ? decideForm(v, back) : ""}
</li>`;
}

function outcome(t: ApprovalTask): SafeHtml {
  const when = t.decidedAt !== "" ? t.decidedAt : t.expiresAt;
  const who = t.decidedBy === "" ? "" : html` by <strong class="by">${t.decidedBy}</strong>`;
  return html`<span class="outcome">${who} <time datetime="${when}">${shortTime(Date.parse(when))}</time>${t.comment === "" ? "" : html` <q class="comment">${t.comment}</q>`}</span>`;
}

/** The inbox (pending, newest first) or its history tab; the script keeps both live from `after`. */
export function inboxBody(tab: "pending" | "history", cards: readonly SafeHtml[], after: string, note: string): SafeHtml {
  const current = (t: string): SafeHtml | "" => (t === tab ? html` aria-current="page"` : "");
  return html`<section class="feed-head">
<h1>Approvals</h1>
<nav class="subtabs" aria-label="Approvals"><a href="${CONSOLE_BASE}/approvals"${current("pending")}>Pending</a><a href="${CONSOLE_BASE}/approvals/history"${current("history")}>History</a></nav>
${note === "" ? "" : html`<p class="note">${note}</p>`}
<div class="controls"><span id="status" class="status" role="status" aria-live="polite">Showing the tasks as loaded; live updates need JavaScript.</span></div>
</section>
<ul class="feed tasks" id="tasks" data-tab="${tab}" data-events="${CONSOLE_BASE}/approvals/events" data-after="${after}">
${cards}
</ul>
<p class="empty" id="empty"${cards.length === 0 ? "" : html` hidden`}>${tab === "pending" ? "No approval is waiting." : "No decided or expired approval is kept."}</p>`;
}

/** One task's page: every field, the outcome, and the form while it is pending. */
export function taskBody(v: TaskView): SafeHtml {
  const t = v.task;
  return html`<section class="card task-page" data-id="${t.id}">
<p><a href="${CONSOLE_BASE}/approvals">← Approvals</a></p>
<h1>Approval <span class="status-badge ${t.status}" id="task-status">${t.status}</span></h1>
${taskFields(
  v,
  html`${field("Task id", html`<code>${t.id}</code>`)}
${field("Session", t.sessionId)}
${field(t.status === "pending" ? "Time left" : "Expires", t.status === "pending" ? html`<span class="left" data-expires="${t.expiresAt}">${timeLeft(t.expiresAt, v.now)}</span>` : html`<time datetime="${t.expiresAt}">${shortTime(Date.parse(t.expiresAt))}</time>`)}
${field("Decided", t.decidedAt === "" ? "" : html`<time datetime="${t.decidedAt}">${shortTime(Date.parse(t.decidedAt))}</time>`)}
${field("Decided by", t.decidedBy, "decided-by")}
${field("Comment", t.comment, "comment")}
${field("Uses left", `${t.usesLeft} of ${t.maxUses}`)}
${field("Policy revision", t.policyRevision)}
${field("Requesting decision", t.requestDecisionId === "" ? "" : html`<code>${t.requestDecisionId}</code>`)}`,
)}
${t.status === "pending" ? decideForm(v, "task") : ""}
</section>`;
}
