import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Refusal } from "../callers.ts";
import type { Logger } from "../logger.ts";
import type { ServerMetrics } from "../metrics.ts";

/** Options for {@link createRefusalReporter}. */
export interface RefusalReporterOptions {
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  /** JSON-lines file that records refusals besides the log; undefined: the log only. */
  readonly path?: string | undefined;
  /** How long unauthenticated refusals are gathered into one summary line (ms). Default 10,000. */
  readonly summaryMs?: number;
}

/** Reports refused calls; `close` writes out a pending summary. */
export interface RefusalReporter {
  report(refusal: Refusal): void;
  close(): void;
}

/** Distinct reasons, methods and peers a summary keeps; the rest count as "other". */
const MAX_KEYS = 20;

/**
 * Every refused call is counted exactly in `agent_auth_calls_refused_total`.
 * A refusal of an identified caller (PERMISSION_DENIED) is also one line in
 * the log and in the refusal file, each. Refusals of unidentified callers
 * (UNAUTHENTICATED) — which anyone who reaches the port can cause, as fast
 * as they like — are written as lines at a bounded rate: the first one in
 * full, then the ones that follow within `summaryMs` as one summary line
 * (how many, which reasons, methods and peer addresses), so a flood costs a
 * line per interval instead of a synchronous write per call.
 */
export function createRefusalReporter(o: RefusalReporterOptions): RefusalReporter {
  const { logger, metrics, path } = o;
  const summaryMs = o.summaryMs ?? 10_000;
  if (path !== undefined) mkdirSync(dirname(path), { recursive: true });
  const append = (line: Record<string, unknown>): void => {
    if (path === undefined) return;
    try {
      appendFileSync(path, JSON.stringify(line) + "\n");
    } catch (error) {
      logger.error("cannot write the refusal log", { path, error: String(error) });
    }
  };
  const single = (r: Refusal): void => {
    logger.warn("call refused", { method: r.method, caller: r.caller ?? null, code: r.code, reason: r.reason, peer: r.peer });
    append({ timestamp: r.time, event: "call_refused", method: r.method, group: r.group ?? null, caller: r.caller ?? null, code: r.code, reason: r.reason, peer: r.peer });
  };

  let window: Summary | undefined;
  let timer: NodeJS.Timeout | undefined;
  const endWindow = (): void => {
    clearTimeout(timer);
    timer = undefined;
    const w = window;
    window = undefined;
    if (w === undefined || w.count === 0) return;
    const fields = { code: "UNAUTHENTICATED", count: w.count, since: w.since, until: new Date().toISOString(), reasons: w.reasons.counts(), methods: w.methods.counts(), peers: w.peers.counts() };
    logger.warn("calls refused (summary)", fields);
    append({ timestamp: fields.until, event: "calls_refused_summary", ...fields });
  };

  return {
    report(r) {
      metrics.refusals.inc({ group: r.group ?? "none", code: r.code });
      if (r.code !== "UNAUTHENTICATED") return single(r);
      if (window === undefined) {
        // The first of a burst in full; the rest of the interval in its summary.
        single(r);
        window = new Summary(new Date().toISOString());
        timer = setTimeout(endWindow, summaryMs);
        timer.unref();
        return;
      }
      window.add(r);
    },
    close: endWindow,
  };
}

/** What a summary line says about the refusals of one interval. */
class Summary {
  count = 0;
  readonly reasons = new BoundedCounts();
  readonly methods = new BoundedCounts();
  readonly peers = new BoundedCounts();
  constructor(readonly since: string) {}

  add(r: Refusal): void {
    this.count++;
    this.reasons.add(r.reason);
    this.methods.add(r.method);
    this.peers.add(peerAddress(r.peer));
  }
}

/** Counts by key, for at most MAX_KEYS keys (the others under "other"). */
class BoundedCounts {
  readonly #counts = new Map<string, number>();

  add(key: string): void {
    const k = this.#counts.has(key) || this.#counts.size < MAX_KEYS ? key : "other";
    this.#counts.set(k, (this.#counts.get(k) ?? 0) + 1);
  }

  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }
}

/** A peer without its port: one client opening many connections is one address. */
function peerAddress(peer: string): string {
  const at = peer.lastIndexOf(":");
  return at > 0 && /^\d+$/.test(peer.slice(at + 1)) ? peer.slice(0, at) : peer;
}
