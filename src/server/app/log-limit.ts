import type { Logger } from "../logger.ts";

/** Logs an error at most once a second per kind (with a count of the ones held back), so an outage does not flood the log. */
export function rateLimited(logger: Logger, message: string): (error: unknown, context?: string, decisionId?: string) => void {
  let last = 0;
  let suppressed = 0;
  return (error, context, decisionId) => {
    const now = Date.now();
    if (now - last < 1000) {
      suppressed++;
      return;
    }
    logger.error(message, {
      error: error instanceof Error ? error.message : String(error),
      ...(context === undefined ? {} : { component: context }),
      ...(decisionId === undefined ? {} : { decision_id: decisionId }),
      ...(suppressed > 0 ? { suppressed } : {}),
    });
    last = now;
    suppressed = 0;
  };
}
