/** The Health page: state store, audit sink, subscribers and decisions per second. */
import { html, type SafeHtml } from "./html.ts";
import type { RatePoint } from "./decision-rate.ts";
import { ago } from "./policy-view.ts";

/** What the Health page shows. */
export interface HealthFacts {
  readonly store: { readonly kind: string; readonly ok: boolean; readonly detail: string };
  /** Where records go and whether they can be written. */
  readonly audit: {
    readonly description: string;
    /** Undefined when no file is written. */
    readonly file?: { readonly ok: boolean; readonly detail: string; readonly bufferedBytes: number; readonly isRecord: boolean } | undefined;
    readonly dropped: number;
  };
  /** Audit subscriptions open on this process (gRPC and console streams). */
  readonly subscribers: number;
  /** Console live streams among them. */
  readonly consoleStreams: number;
  readonly decisionsTotal: number;
  readonly rate: readonly RatePoint[];
  readonly intervalMs: number;
  readonly uptimeMs: number;
}

function state(ok: boolean): SafeHtml {
  return ok ? html`<span class="ok">OK</span>` : html`<span class="bad">failing</span>`;
}

/** The page body (the script reloads it every 15 s). */
export function healthBody(f: HealthFacts): SafeHtml {
  const file = f.audit.file;
  return html`<h1>Health</h1>
<div class="grid" id="health" data-refresh="15">
<section class="card"><h2>State store</h2><p>${state(f.store.ok)} <span class="muted">${f.store.kind}</span></p>${f.store.detail === "" ? "" : html`<p class="muted">${f.store.detail}</p>`}</section>
<section class="card"><h2>Audit sink</h2><p>${f.audit.description}</p>${
    file === undefined
      ? ""
      : html`<p>File ${state(file.ok)} <span class="muted">(${file.isRecord ? "the record" : "a copy"}${file.bufferedBytes > 0 ? `, ${file.bufferedBytes} bytes waiting` : ""})</span></p>${file.detail === "" ? "" : html`<p class="muted">${file.detail}</p>`}`
  }<p class="muted">${f.audit.dropped} records dropped</p></section>
<section class="card"><h2>Subscribers</h2><p><strong>${f.subscribers}</strong> audit streams open <span class="muted">(${f.consoleStreams} of them console pages)</span></p><p class="muted">Up ${ago(f.uptimeMs)}</p></section>
<section class="card wide"><h2>Decisions per second</h2>${rateChart(f.rate, f.intervalMs)}<p class="muted">${f.decisionsTotal} decisions since start; one point per ${f.intervalMs / 1000} s over the last ${ago(f.intervalMs * f.rate.length)}.</p></section>
</div>`;
}

const W = 900;
const H = 180;
const PAD = 24;

/** The rate series as an inline SVG line chart (no script, no style attribute). */
export function rateChart(points: readonly RatePoint[], intervalMs: number): SafeHtml {
  if (points.length < 2) return html`<p class="muted" id="rate-chart">Collecting samples (one every ${intervalMs / 1000} s)…</p>`;
  const max = Math.max(1, ...points.map((p) => p.perSecond));
  const step = (W - 2 * PAD) / (points.length - 1);
  const xy = points.map((p, i) => `${(PAD + i * step).toFixed(1)},${(H - PAD - (p.perSecond / max) * (H - 2 * PAD)).toFixed(1)}`);
  const last = points.at(-1)!;
  return html`<svg class="chart" id="rate-chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Decisions per second; now ${last.perSecond.toFixed(1)}, highest ${max.toFixed(1)}">
<line class="axis" x1="${PAD}" y1="${H - PAD}" x2="${W - PAD}" y2="${H - PAD}"></line>
<line class="grid-line" x1="${PAD}" y1="${PAD}" x2="${W - PAD}" y2="${PAD}"></line>
<text class="label" x="${PAD}" y="${PAD - 6}">${max.toFixed(1)}/s</text>
<text class="label" x="${W - PAD}" y="${H - 6}" text-anchor="end">now ${last.perSecond.toFixed(1)}/s</text>
<polyline class="series" points="${xy.join(" ")}"></polyline>
</svg>`;
}
