/** The Live decisions page and a decision's record page. */
import type { AuditEvent } from "../../../audit/event.ts";
import { html, type SafeHtml } from "./html.ts";
import { decisionItem, shortTime, type DecisionRow } from "./decision-row.ts";
import { CONSOLE_BASE } from "./pages.ts";

/** The feed's filters, as the form and the URL carry them. */
export interface FeedFilters {
  readonly agent: string;
  readonly user: string;
  /** "", "allow" or "deny". */
  readonly effect: string;
  /** "", "autonomous", "soft" or "strong". */
  readonly tier: string;
  /** Text found (case-insensitively) in agent, user, action, resource, scope or reason. */
  readonly text: string;
}

/** Whether a row passes the filters (the page's script applies the same test). */
export function rowMatches(row: DecisionRow, f: FeedFilters): boolean {
  if (f.agent !== "" && row.agent !== f.agent) return false;
  if (f.user !== "" && row.user !== f.user) return false;
  if (f.effect !== "" && row.effect !== f.effect) return false;
  if (f.tier !== "" && row.tier !== f.tier) return false;
  if (f.text !== "") {
    const needle = f.text.toLowerCase();
    return [row.agent, row.user, row.action, row.resource, row.scope, row.reason].some((s) => s.toLowerCase().includes(needle));
  }
  return true;
}

function option(value: string, label: string, selected: string): SafeHtml {
  return html`<option value="${value}"${value === selected ? html` selected` : ""}>${label}</option>`;
}

/**
 * The feed: the filter form (a plain GET form that also works without the
 * script), pause/resume, and the newest decisions; the script continues it
 * live from `after` over Server-Sent Events.
 */
export function decisionsBody(rows: readonly DecisionRow[], filters: FeedFilters, after: string): SafeHtml {
  return html`<section class="feed-head">
<h1>Live decisions</h1>
<form class="filters" id="filters" method="get" action="${CONSOLE_BASE}/decisions">
<label>Agent <input name="agent" value="${filters.agent}" autocomplete="off"></label>
<label>User <input name="user" value="${filters.user}" autocomplete="off"></label>
<label>Effect <select name="effect">${option("", "any", filters.effect)}${option("allow", "allow", filters.effect)}${option("deny", "deny", filters.effect)}</select></label>
<label>Tier <select name="tier">${option("", "any", filters.tier)}${option("autonomous", "autonomous", filters.tier)}${option("soft", "soft", filters.tier)}${option("strong", "strong", filters.tier)}</select></label>
<label class="wide">Text <input name="q" type="search" value="${filters.text}" autocomplete="off"></label>
<button type="submit" class="apply">Apply</button>
</form>
<div class="controls"><button type="button" id="pause" hidden>Pause</button><span id="status" class="status" role="status" aria-live="polite">Showing the newest decisions; live updates need JavaScript.</span></div>
</section>
<ul class="feed" id="feed" data-events="${CONSOLE_BASE}/events" data-after="${after}">
${rows.map(decisionItem)}
</ul>
<p class="empty" id="empty"${rows.length === 0 ? "" : html` hidden`}>No decisions match yet.</p>`;
}

function field(label: string, value: unknown): SafeHtml {
  return html`<dt>${label}</dt><dd>${value === "" || value === undefined ? html`<span class="none">—</span>` : value}</dd>`;
}

/** A decision's record: every field the audit record holds. */
export function recordBody(cursor: string, event: AuditEvent): SafeHtml {
  const { request: r, decision: d, origin } = event;
  const effect = d.allowed ? "allow" : "deny";
  return html`<section class="card record">
<p><a href="${CONSOLE_BASE}/decisions">← Live decisions</a></p>
<h1>Decision <span class="badge ${effect}">${effect}</span></h1>
<dl class="fields">
${field("Time", html`<time datetime="${new Date(event.time).toISOString()}">${shortTime(event.time)}</time>`)}
${field("Decision id", html`<code>${d.decisionId}</code>`)}
${field("Cursor", html`<code>${cursor}</code>`)}
${field("Agent", r.agent)}
${field("User", r.user)}
${field("Action", html`<code>${r.action}</code>`)}
${field("Resource", r.resource)}
${field("Scope", r.scope)}
${field("Session", r.sessionId)}
${field("Target agent", r.targetAgent)}
${field("Tier", d.allowed ? d.tier : "")}
${field("Requires approval", d.requiresApproval ? "yes" : "no")}
${field("Approval policy", d.approvalPolicy)}
${field("Reason", d.reason)}
${field("Policy", `${event.configName} ${event.configVersion}`.trim())}
${field("Policy revision", d.policyRevision)}
${field("Evaluation", `${d.evaluationTimeMs} ms`)}
${field("Transport", origin?.transport ?? "")}
${field("Caller", origin?.caller ?? "")}
${field("Request id", origin?.requestId ?? "")}
</dl>
<h2>Metadata</h2>
${
  event.metadata === undefined
    ? html`<p class="none">Not recorded (the policy's <code>audit.include_metadata</code> is off).</p>`
    : html`<pre class="metadata">${JSON.stringify(event.metadata, null, 2)}</pre>`
}
</section>`;
}
