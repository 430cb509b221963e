import { withDecision, type AuditEvent } from "../audit/event.ts";
import type { OutcomeRecords } from "../audit/outcome-records.ts";
import type { AuditSink, SinkCloseOptions } from "../audit/sink.ts";
import * as reasons from "../model/reasons.ts";
import { AuthDecision } from "../model/types.ts";
import type { OutcomeQuery, StateOutcome } from "../state/outcome.ts";

/**
 * An audit sink that can also append a decision's record in the same round
 * trip as the decision's state read (the Redis audit stream with sync
 * durability): the state read and the record are then one call, and the
 * decision waits once.
 */
export interface SameTripRecorder extends AuditSink {
  resolveOutcomeAndRecord(query: OutcomeQuery, records: OutcomeRecords): Promise<StateOutcome>;
}

/** How a decision's record is handed to the sinks. */
export type RecordMode =
  /** To every sink; waits when a sink asks to. */
  | "normal"
  /** The same-trip recorder already has it: to the others. */
  | "in-trip"
  /** A fail-closed deny: never held back by a sink that can record in the background. */
  | "background";

/**
 * Where the engine's decisions go on the record: its audit sinks, one of
 * which may be a same-trip recorder. A decision whose record cannot be stored
 * is not given out as an allow: it becomes `Audit log unavailable`.
 */
export class AuditJournal {
  readonly #sinks: readonly AuditSink[];
  readonly #others: readonly AuditSink[];
  readonly sameTrip: SameTripRecorder | undefined;
  readonly #onError: (error: unknown, context: string, decisionId?: string) => void;

  constructor(sinks: readonly AuditSink[], sameTrip: SameTripRecorder | undefined, onError: (error: unknown, context: string, decisionId?: string) => void) {
    this.#sinks = sameTrip === undefined || sinks.includes(sameTrip) ? sinks : [...sinks, sameTrip];
    this.#others = this.#sinks.filter((s) => s !== sameTrip);
    this.sameTrip = sameTrip;
    this.#onError = onError;
  }

  /** True when anything records decisions. */
  get active(): boolean {
    return this.#sinks.length > 0;
  }

  /**
   * Records `event` and answers its decision — at once when no sink asked to
   * wait, else once they have stored it; the answer is a deny if they failed.
   */
  record(event: AuditEvent, mode: RecordMode): AuthDecision | Promise<AuthDecision> {
    const sinks = mode === "in-trip" ? this.#others : this.#sinks;
    let pending: Promise<void> | undefined;
    let waits: Promise<void>[] | undefined;
    try {
      for (let i = 0; i < sinks.length; i++) {
        const sink = sinks[i]!;
        if (mode === "background" && sink.writeInBackground !== undefined) {
          sink.writeInBackground(event);
          continue;
        }
        const p = sink.write(event);
        if (p === undefined) continue;
        if (pending === undefined) pending = p;
        else (waits ??= [pending]).push(p);
      }
    } catch (error) {
      return this.#failed(error, event);
    }
    if (pending === undefined) return event.decision;
    if (waits !== undefined) pending = Promise.all(waits).then(() => undefined);
    return pending.then(
      () => event.decision,
      (error: unknown) => this.#failed(error, event),
    );
  }

  async flush(): Promise<void> {
    await Promise.all(this.#sinks.map((s) => s.flush()));
  }

  async close(options?: SinkCloseOptions): Promise<void> {
    await Promise.all(this.#sinks.map((s) => s.close(options)));
  }

  /**
   * The answer when a record could not be stored: an allow becomes a deny,
   * itself recorded without waiting — a sink that timed out may still store
   * the allow later, and the deny after it, so the last record of a decision
   * id is always the answer the caller got.
   */
  #failed(error: unknown, event: AuditEvent): AuthDecision {
    const d = event.decision;
    this.#onError(error, "audit", d.decisionId);
    if (!d.allowed) return d;
    const denied = new AuthDecision(false, "autonomous", reasons.AUDIT_UNAVAILABLE, false, "", d.evaluationTimeMs, d.decisionId, d.policyRevision);
    const replaced = withDecision(event, denied);
    const failed = (e: unknown): void => this.#onError(e, "audit", d.decisionId);
    for (const sink of this.#sinks) {
      try {
        if (sink.writeInBackground !== undefined) sink.writeInBackground(replaced);
        else sink.write(replaced)?.catch(failed);
      } catch (e) {
        failed(e);
      }
    }
    return denied;
  }
}
