import type { SinkHealth } from "../../audit/sink.ts";
import type { StateStore } from "../../state/store.ts";
import type { HealthService } from "../grpc/health.ts";
import type { Logger } from "../logger.ts";

/** Health service name that reports whether the JSONL audit file takes writes. */
export const AUDIT_FILE_HEALTH = "agentauth.audit_file";

/** What {@link watchHealth} follows. */
export interface HealthWatchOptions {
  readonly store: StateStore;
  /**
   * The JSONL audit file, when the server writes one. `isRecord`: the file
   * is the audit record (memory store), so decisions depend on it; otherwise
   * it is a copy (the Redis stream is the record) and only its own entry
   * changes.
   */
  readonly auditFile?: { readonly health: () => SinkHealth; readonly isRecord: boolean } | undefined;
  readonly health: HealthService;
  readonly logger: Logger;
}

/**
 * Health follows what decisions depend on: NOT_SERVING while the store is
 * unreachable, or while the audit file that is the record cannot be written
 * (decisions deny, or will once its buffer is full); SERVING again once they
 * recover. The audit file has an entry of its own (`agentauth.audit_file`),
 * which a copy's failure turns NOT_SERVING without taking the replica out of
 * rotation. Each change is logged. Returns a function that stops watching.
 */
export function watchHealth(o: HealthWatchOptions): () => void {
  const { store, auditFile, health, logger } = o;
  let storeOk = store.health().ok;
  let fileOk = auditFile === undefined || auditFile.health().ok;
  const apply = (): void => {
    if (auditFile !== undefined) health.setExtra(AUDIT_FILE_HEALTH, fileOk ? "SERVING" : "NOT_SERVING");
    health.set(storeOk && (fileOk || auditFile?.isRecord !== true) ? "SERVING" : "NOT_SERVING");
  };
  const timer = setInterval(() => {
    const s = store.health();
    if (s.ok !== storeOk) {
      storeOk = s.ok;
      (s.ok ? logger.info : logger.warn)(s.ok ? "state store available" : "state store unavailable", { detail: s.detail });
    }
    if (auditFile !== undefined) {
      const f = auditFile.health();
      if (f.ok !== fileOk) {
        fileOk = f.ok;
        if (f.ok) logger.info("audit file writable again", { buffered_bytes: f.bufferedBytes });
        else logger.error("audit file cannot be written", { detail: f.detail, buffered_bytes: f.bufferedBytes, consequence: auditFile.isRecord ? RECORD_FAILING : COPY_FAILING });
      }
    }
    apply();
  }, 250);
  timer.unref();
  apply();
  return () => clearInterval(timer);
}

const RECORD_FAILING =
  "records are kept in memory and retried; sync decisions deny (Audit log unavailable) until it recovers, async ones once audit.buffer_bytes are held";
const COPY_FAILING = "the Redis stream is the record and decisions continue; copies are kept in memory and retried, and dropped (counted) past audit.buffer_bytes";
