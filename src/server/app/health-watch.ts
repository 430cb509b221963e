import type { StateStore } from "../../state/store.ts";
import type { HealthService } from "../grpc/health.ts";
import type { Logger } from "../logger.ts";

/**
 * Health follows the store: NOT_SERVING while decisions that need state would
 * be denied, SERVING again once the store answers; each change is logged.
 * Returns a function that stops watching.
 */
export function watchStoreHealth(store: StateStore, health: HealthService, logger: Logger): () => void {
  const timer = setInterval(() => {
    const h = store.health();
    if ((health.status === "SERVING") !== h.ok) {
      health.set(h.ok ? "SERVING" : "NOT_SERVING");
      (h.ok ? logger.info : logger.warn)(h.ok ? "state store available" : "state store unavailable", { detail: h.detail });
    }
  }, 250);
  timer.unref();
  if (!store.health().ok) health.set("NOT_SERVING");
  return () => clearInterval(timer);
}
