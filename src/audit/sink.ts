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
  /**
   * Whether `event` may be written a little later — at the end of the
   * current task of the event loop — instead of now: true only when writing
   * it now would neither make the decision wait nor fail, so nothing the
   * decision's answer depends on is left for later. When every sink says so,
   * the engine answers at once and writes the records of all the decisions
   * of the task together, in order, after the task's other work (see
   * AuditJournal). Sinks without it are written at once.
   */
  canDefer?(event: AuditEvent): boolean;
  /** Resolves once everything written so far is stored. */
  flush(): Promise<void>;
  /**
   * Flushes and releases resources; nothing written before is lost while the
   * sink can store it. A sink that cannot (a full disk) stops retrying after
   * `timeoutMs` and reports what it could not store instead of hanging.
   */
  close(options?: SinkCloseOptions): Promise<void>;
  /** Whether the sink stores what it is given, for health checks and metrics. */
  health?(): SinkHealth;
}

/** Options of {@link AuditSink.close}. */
export interface SinkCloseOptions {
  /** How long records that fail to be stored are retried before they are reported lost. */
  readonly timeoutMs?: number;
}

/** What a sink reports to health checks. */
export interface SinkHealth {
  /** False while records cannot be stored. */
  readonly ok: boolean;
  /** Why not, when not (the last error). */
  readonly detail: string;
  /** Records accepted and not yet stored, in bytes. */
  readonly bufferedBytes: number;
}
