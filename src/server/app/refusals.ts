import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Refusal } from "../callers.ts";
import type { Logger } from "../logger.ts";
import type { ServerMetrics } from "../metrics.ts";

/** Every refused call goes to the log, the metrics and, when configured, a JSON-lines file. */
export function refusalReporter(logger: Logger, metrics: ServerMetrics, path: string | undefined): (r: Refusal) => void {
  if (path !== undefined) mkdirSync(dirname(path), { recursive: true });
  return (r) => {
    metrics.refusals.inc({ group: r.group ?? "none", code: r.code });
    logger.warn("call refused", { method: r.method, caller: r.caller ?? null, code: r.code, reason: r.reason, peer: r.peer });
    if (path !== undefined) {
      try {
        appendFileSync(path, JSON.stringify({ timestamp: r.time, event: "call_refused", method: r.method, group: r.group ?? null, caller: r.caller ?? null, code: r.code, reason: r.reason, peer: r.peer }) + "\n");
      } catch (error) {
        logger.error("cannot write the refusal log", { path, error: String(error) });
      }
    }
  };
}
