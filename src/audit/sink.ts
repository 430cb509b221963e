import type { AuditEvent } from "./event.ts";

/**
 * Where decisions go on the record.
 *
 * `write` is called once per decision on the decision path and must be cheap:
 * it may buffer. It returns a promise only when the decision has to wait —
 * for durability (`sync`) or backpressure — and the engine then awaits it; a
 * rejected promise means the record could not be stored.
 */
export interface AuditSink {
  write(event: AuditEvent): void | Promise<void>;
  /**
   * Records without making anyone wait, retrying as long as the sink can:
   * for a fail-closed deny given because a read or a record failed, whose
   * caller must not be held back by the failure. Sinks without it get a
   * `write` whose promise nobody waits for.
   */
  writeInBackground?(event: AuditEvent): void;
  /** Resolves once everything written so far is stored. */
  flush(): Promise<void>;
  /** Flushes and releases resources; nothing written before is lost. */
  close(): Promise<void>;
}
