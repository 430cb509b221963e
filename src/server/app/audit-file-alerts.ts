import type { JsonlFileSinkOptions } from "../../audit/jsonl-file-sink.ts";
import type { Logger } from "../logger.ts";
import type { ServerMetrics } from "../metrics.ts";

/**
 * The JSONL audit file's error and drop callbacks: each failed write is
 * counted (and logged at most once a second); dropped records are counted
 * exactly and logged at most once a second with how many were dropped since
 * the last line (one second later at most); records left unwritten at
 * shutdown are logged at once.
 */
export function auditFileAlerts(logger: Logger, metrics: ServerMetrics, path: string): Pick<JsonlFileSinkOptions, "onError" | "onDropped"> {
  let lastError = 0;
  let errorsHeld = 0;
  let lastDrop = 0;
  let dropsHeld = 0;
  let dropError: unknown;
  let dropTimer: NodeJS.Timeout | undefined;
  const logDrops = (): void => {
    dropTimer = undefined;
    if (dropsHeld === 0) return;
    logger.error("audit records dropped: the audit file cannot be written and its buffer is full", { path, count: dropsHeld, error: message(dropError) });
    lastDrop = Date.now();
    dropsHeld = 0;
  };
  metrics.auditDropped.inc({ sink: "file" }, 0);
  return {
    onError(error) {
      metrics.auditFileErrors.inc();
      const now = Date.now();
      if (now - lastError < 1000) {
        errorsHeld++;
        return;
      }
      logger.error("audit file write failed; records kept and retried", { path, error: message(error), ...(errorsHeld > 0 ? { suppressed: errorsHeld } : {}) });
      lastError = now;
      errorsHeld = 0;
    },
    onDropped(count, reason, error) {
      metrics.auditDropped.inc({ sink: "file" }, count);
      if (reason === "shutdown") {
        logger.error("audit records not written at shutdown", { path, count, error: message(error) });
        return;
      }
      dropsHeld += count;
      dropError = error;
      const wait = lastDrop + 1000 - Date.now();
      if (wait <= 0) logDrops();
      else if (dropTimer === undefined) {
        // The count held back is logged when the second is up, even if no drop follows.
        dropTimer = setTimeout(logDrops, wait);
        dropTimer.unref();
      }
    },
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
