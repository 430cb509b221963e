/**
 * A decision as the console shows it in the live feed: the same fields for
 * the server-rendered list and the Server-Sent Events the page's script
 * adds, so both render the same row.
 */
import type { AuditEntry, AuditHub } from "../../../audit/hub.ts";
import { html, type SafeHtml } from "./html.ts";
import { CONSOLE_BASE } from "./pages.ts";

/** One row of the feed. */
export interface DecisionRow {
  /** The audit cursor (with the history's epoch): the record page's key and the SSE event id. */
  readonly cursor: string;
  /** ms since the epoch. */
  readonly time: number;
  readonly agent: string;
  readonly user: string;
  readonly action: string;
  readonly resource: string;
  readonly scope: string;
  readonly effect: "allow" | "deny";
  /** The approval tier of an allow; "" for a deny. */
  readonly tier: string;
  readonly requiresApproval: boolean;
  readonly approvalPolicy: string;
  readonly reason: string;
  readonly decisionId: string;
}

/** The row of an audit entry. */
export function decisionRow(entry: AuditEntry, hub: AuditHub): DecisionRow {
  const { request: r, decision: d } = entry.event;
  return {
    cursor: hub.cursorText(entry.cursor),
    time: entry.event.time,
    agent: r.agent,
    user: r.user,
    action: r.action,
    resource: r.resource,
    scope: r.scope,
    effect: d.allowed ? "allow" : "deny",
    tier: d.allowed ? d.tier : "",
    requiresApproval: d.requiresApproval,
    approvalPolicy: d.approvalPolicy,
    reason: d.reason,
    decisionId: d.decisionId,
  };
}

/** The link to a decision's record page. */
export function recordHref(cursor: string): string {
  return `${CONSOLE_BASE}/decisions/${encodeURIComponent(cursor)}`;
}

/** UTC time to the second, as the feed shows it (`2026-12-02 10:04:05Z`). */
export function shortTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}Z`;
}

/**
 * The row as a list item. The page's script builds the same structure with
 * DOM calls (console-script.ts); keep them in step.
 */
export function decisionItem(row: DecisionRow): SafeHtml {
  return html`<li class="decision ${row.effect}" data-agent="${row.agent}" data-user="${row.user}" data-effect="${row.effect}" data-tier="${row.tier}" data-scope="${row.scope}">
<div class="line"><span class="badge ${row.effect}">${row.effect}</span>${row.tier === "" ? "" : html`<span class="tier">${row.tier}</span>`}${row.requiresApproval ? html`<span class="approval">needs approval${row.approvalPolicy === "" ? "" : html` (${row.approvalPolicy})`}</span>` : ""}<time datetime="${new Date(row.time).toISOString()}">${shortTime(row.time)}</time><a class="record" href="${recordHref(row.cursor)}">record</a></div>
<div class="who"><span class="agent">${row.agent}</span> for <span class="user">${row.user}</span></div>
<div class="what"><code class="action">${row.action}</code>${row.resource === "" ? "" : html` <span class="resource">${row.resource}</span>`}</div>
<div class="reason">${row.reason}</div>
</li>`;
}
