/** The Policy page: what is loaded, since when, whether reloads fail, and what the policy says. */
import type { CompiledPolicy } from "../../../policy/compile-policy.ts";
import type { ReplicaInfo } from "../../../state/redis/replicas.ts";
import { html, joinHtml, type SafeHtml } from "./html.ts";
import { shortTime } from "./decision-row.ts";

/** What the Policy page shows besides the policy itself. */
export interface PolicyFacts {
  readonly policy: CompiledPolicy;
  readonly loadedAt: number;
  /** The file the policy is read from ("" when none). */
  readonly source: string;
  /** The problems of the file as last read (empty while it is what is served). */
  readonly reloadErrors: readonly string[];
  /** When the file was last read and why (a file change, SIGHUP, ReloadPolicy); undefined: not since start. */
  readonly lastReload?: { readonly at: number; readonly trigger: string } | undefined;
  /** The replicas of the deployment and what each serves; this process alone without Redis. */
  readonly replicas: readonly ReplicaInfo[];
  /** "memory" or "redis". */
  readonly store: string;
  readonly now: number;
}

function list(items: readonly string[]): SafeHtml {
  return items.length === 0 ? html`<span class="none">—</span>` : joinHtml(items.map((i) => html`<code>${i}</code>`), " ");
}

function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** The page body. */
export function policyBody(f: PolicyFacts): SafeHtml {
  const c = f.policy.config;
  return html`<h1>Policy</h1>
<section class="card">
<dl class="fields">
<dt>Name</dt><dd>${c.metadata.name} <span class="muted">version ${c.version}</span></dd>
${c.metadata.description === "" ? "" : html`<dt>Description</dt><dd>${c.metadata.description}</dd>`}
<dt>Revision</dt><dd><code id="revision">${f.policy.revision}</code></dd>
<dt>Loaded</dt><dd><time datetime="${new Date(f.loadedAt).toISOString()}">${shortTime(f.loadedAt)}</time> <span class="muted">(${ago(f.now - f.loadedAt)} ago)</span></dd>
<dt>File</dt><dd>${f.source === "" ? html`<span class="none">—</span>` : html`<code>${f.source}</code>`}</dd>
<dt>Last reload</dt><dd>${
    f.lastReload === undefined ? html`<span class="muted">none since start</span> ` : html`<time datetime="${new Date(f.lastReload.at).toISOString()}">${shortTime(f.lastReload.at)}</time> <span class="muted">(${f.lastReload.trigger}, ${ago(f.now - f.lastReload.at)} ago)</span> `
  }${
    f.reloadErrors.length === 0
      ? html`<span class="ok" id="reload-state">no errors</span>`
      : html`<div class="bad" id="reload-state">The file on disk is invalid; this revision is still served:</div><ul class="errors">${f.reloadErrors.map((e) => html`<li>${e}</li>`)}</ul>`
  }</dd>
</dl>
</section>
<section class="card">
<h2>Replicas <span class="muted">(${f.store === "redis" ? "Redis mode" : "memory mode: this process alone"})</span></h2>
<div class="scroll"><table>
<thead><tr><th>Replica</th><th>Address</th><th>Revision</th><th>Reload errors</th><th>Seen</th></tr></thead>
<tbody>${f.replicas.map(
    (r) => html`<tr><td><code>${r.id}</code></td><td>${r.address}</td><td><code>${r.revision}</code>${r.revision === f.policy.revision ? "" : html` <span class="bad">differs</span>`}</td><td>${r.reloadErrors.length === 0 ? html`<span class="none">—</span>` : r.reloadErrors.join("; ")}</td><td>${ago(f.now - r.seen)} ago</td></tr>`,
  )}</tbody>
</table></div>
</section>
<section class="card">
<h2>Roles</h2>
<div class="scroll"><table>
<thead><tr><th>Role</th><th>Extends</th><th>Actions</th><th>With inherited</th><th>Description</th></tr></thead>
<tbody>${[...c.roles.values()].map(
    (r) => html`<tr><td><strong>${r.name}</strong></td><td>${r.extends === "" ? html`<span class="none">—</span>` : r.extends}</td><td>${list(r.actions)}</td><td>${list([...(f.policy.roles.get(r.name)?.actions ?? [])])}</td><td>${r.description}</td></tr>`,
  )}</tbody>
</table></div>
</section>
<section class="card">
<h2>Profiles</h2>
<div class="scroll"><table>
<thead><tr><th>Agent</th><th>Role</th><th>Allow</th><th>Deny</th><th>Scopes</th><th>Default tier</th><th>Longest session</th><th>Description</th></tr></thead>
<tbody>${[...c.profiles.values()].map(
    (p) => html`<tr><td><strong>${p.name}</strong></td><td>${p.role === "" ? html`<span class="none">—</span>` : p.role}</td><td>${list(p.allow)}</td><td>${list(p.deny)}</td><td>${p.scopes.length === 0 ? "any" : list(p.scopes)}</td><td>${p.defaultTier}</td><td>${duration(p.maxSessionDuration)}</td><td>${p.description}</td></tr>`,
  )}</tbody>
</table></div>
</section>
<section class="card">
<h2>Approval policies</h2>
${
  c.approvalPolicies.length === 0
    ? html`<p class="none">None.</p>`
    : html`<div class="scroll"><table>
<thead><tr><th>Policy</th><th>Tier</th><th>Condition</th><th>Description</th></tr></thead>
<tbody>${c.approvalPolicies.map(
        (a) => html`<tr><td><strong>${a.name}</strong></td><td>${a.tier}</td><td>${a.condition === "" ? html`<span class="muted">always</span>` : html`<code>${a.condition}</code>`}</td><td>${a.description}</td></tr>`,
      )}</tbody>
</table></div>`
}
</section>`;
}

/** A duration in words: `4 s`, `3 min`, `2 h 5 min`, `3 d`. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d`;
}
