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

const SETTLED = Promise.resolve();

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
 *
 * A record that no sink needs now (each says it can be deferred: the write
 * would neither wait nor fail) is written at the end of the current task,
 * with every other such record of that task, in order. A server decides the
 * requests that arrived in one turn of the event loop one after another, each
 * with its response between; their records — encoded, copied to the file's
 * buffer and to the history — then run together with their caches warm
 * instead of each between a response and the next request. Anything that
 * awaits a decision runs after its record is written (it was queued first),
 * and a record that cannot be deferred first writes those waiting, so the
 * order of records never changes.
 */
export class AuditJournal {
  readonly #sinks: readonly AuditSink[];
  readonly #others: readonly AuditSink[];
  readonly sameTrip: SameTripRecorder | undefined;
  readonly #onError: (error: unknown, context: string, decisionId?: string) => void;
  /** Every sink can be asked whether a record can wait (see AuditSink.canDefer). */
  readonly #mayDefer: boolean;
  /** Records of the current task waiting to be written at its end. */
  #deferred: AuditEvent[] = [];

  constructor(sinks: readonly AuditSink[], sameTrip: SameTripRecorder | undefined, onError: (error: unknown, context: string, decisionId?: string) => void) {
    this.#sinks = sameTrip === undefined || sinks.includes(sameTrip) ? sinks : [...sinks, sameTrip];
    this.#others = this.#sinks.filter((s) => s !== sameTrip);
    this.sameTrip = sameTrip;
    this.#onError = onError;
    this.#mayDefer = this.#sinks.length > 0 && this.#sinks.every((s) => s.canDefer !== undefined);
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
    if (mode === "normal" && this.#mayDefer && this.#canDefer(event)) {
      // A reaction to a settled promise: a plain microtask (queueMicrotask costs more, tracking async context).
      if (this.#deferred.length === 0) void SETTLED.then(this.#writeDeferred);
      this.#deferred.push(event);
      return event.decision;
    }
    // Records already waiting go first: the order of records is the order of decisions.
    if (this.#deferred.length > 0) this.#writeDeferred();
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
    this.#writeDeferred();
    await Promise.all(this.#sinks.map((s) => s.flush()));
  }

  async close(options?: SinkCloseOptions): Promise<void> {
    this.#writeDeferred();
    await Promise.all(this.#sinks.map((s) => s.close(options)));
  }

  #canDefer(event: AuditEvent): boolean {
    const sinks = this.#sinks;
    for (let i = 0; i < sinks.length; i++) if (!sinks[i]!.canDefer!(event)) return false;
    return true;
  }

  /**
   * Writes the deferred records, each to every sink in turn (so a record is
   * encoded once for all of them). Their decisions are already answered: a
   * sink that said a record could wait does not fail it — should one
   * (a bug), it is reported, never thrown into the event loop.
   */
  readonly #writeDeferred = (): void => {
    const events = this.#deferred;
    if (events.length === 0) return;
    this.#deferred = [];
    const sinks = this.#sinks;
    for (const event of events) {
      for (let i = 0; i < sinks.length; i++) {
        try {
          // A sink over its buffer asks writers to wait; these records' decisions cannot, and later ones will.
          sinks[i]!.write(event)?.catch((error: unknown) => this.#onError(error, "audit", event.decision.decisionId));
        } catch (error) {
          this.#onError(error, "audit", event.decision.decisionId);
        }
      }
    }
  };

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
