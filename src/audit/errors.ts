/** A subscriber fell too far behind; it can resume from `lastCursor`. */
export class SubscriberOverflowError extends Error {
  override readonly name = "SubscriberOverflowError" as const;
  constructor(
    /** The last cursor delivered to the subscriber ("" if none was). */
    readonly lastCursor: string,
    readonly bufferSize: number,
  ) {
    super(`subscriber fell more than ${bufferSize} events behind (limits.subscriber_buffer); resume after cursor '${lastCursor}'`);
  }
}

/** A resume cursor points before the retained history: events after it are gone. */
export class CursorExpiredError extends Error {
  override readonly name = "CursorExpiredError" as const;
  constructor(
    readonly cursor: string,
    readonly oldest: string,
  ) {
    super(`cursor '${cursor}' is older than the retained audit history (oldest is '${oldest}')`);
  }
}

/** A cursor that is not of the form `<ms>-<seq>[@<epoch>]`. */
export class InvalidCursorError extends Error {
  override readonly name = "InvalidCursorError" as const;
  constructor(readonly cursor: string) {
    super(`cursor '${cursor}' is not a valid audit cursor (expected <ms>-<seq>@<epoch>, as events carry them)`);
  }
}

/**
 * A cursor that cannot be resumed from: it belongs to an earlier history
 * (reason "epoch": the server restarted in memory mode, or Redis lost the
 * stream) or lies beyond the newest entry (reason "ahead"). `head` is the
 * newest cursor now ("" when the history is empty): resuming from it
 * continues with the next decision, accepting that events may be missing.
 */
export class CursorOutOfRangeError extends Error {
  override readonly name = "CursorOutOfRangeError" as const;
  constructor(
    readonly cursor: string,
    readonly reason: "epoch" | "ahead",
    readonly head: string,
  ) {
    super(
      reason === "epoch"
        ? `cursor '${cursor}' belongs to an earlier audit history (the server restarted without shared history, or the stream was lost); events after it may be missing — resume from the head '${head}'`
        : `cursor '${cursor}' is beyond the newest audit event '${head}'`,
    );
  }
}

/**
 * The shared history started over under a new epoch while a subscriber was
 * following it (Redis lost the stream): what comes next does not follow what
 * it received. Resubscribing with the last cursor says what is missing.
 */
export class AuditHistoryResetError extends Error {
  override readonly name = "AuditHistoryResetError" as const;
  constructor(
    readonly previousEpoch: string,
    readonly epoch: string,
  ) {
    super(`the audit history started over (epoch '${previousEpoch}' is now '${epoch}'); resubscribe with the last cursor received`);
  }
}

/** The process already serves its maximum number of subscribers. */
export class TooManySubscribersError extends Error {
  override readonly name = "TooManySubscribersError" as const;
  constructor(readonly limit: number) {
    super(`this server already has ${limit} audit subscribers, the limit (limits.max_subscribers)`);
  }
}

export const isSubscriberOverflowError = (e: unknown): e is SubscriberOverflowError => e instanceof Error && e.name === "SubscriberOverflowError";
export const isCursorExpiredError = (e: unknown): e is CursorExpiredError => e instanceof Error && e.name === "CursorExpiredError";
export const isCursorOutOfRangeError = (e: unknown): e is CursorOutOfRangeError => e instanceof Error && e.name === "CursorOutOfRangeError";
export const isAuditHistoryResetError = (e: unknown): e is AuditHistoryResetError => e instanceof Error && e.name === "AuditHistoryResetError";
export const isInvalidCursorError = (e: unknown): e is InvalidCursorError => e instanceof Error && e.name === "InvalidCursorError";
export const isTooManySubscribersError = (e: unknown): e is TooManySubscribersError => e instanceof Error && e.name === "TooManySubscribersError";

/**
 * An audit sink cannot take a record now: its file cannot be written and,
 * for a record the caller would not wait for, its buffer is full. The engine
 * turns an allow refused this way into a deny (`Audit log unavailable`).
 */
export class AuditSinkUnavailableError extends Error {
  override readonly name = "AuditSinkUnavailableError" as const;
  constructor(
    readonly path: string,
    /** Why the file cannot be written (the last write's error). */
    override readonly cause: unknown,
    /** The buffer's size when it is the buffer that is full; undefined for a record refused because its writer would wait. */
    readonly bufferBytes?: number,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      bufferBytes === undefined
        ? `audit file ${path} cannot be written (${why})`
        : `audit file ${path} cannot be written (${why}) and its buffer of ${bufferBytes} bytes (audit.buffer_bytes) is full`,
    );
  }
}

/** Whether `e` is an {@link AuditSinkUnavailableError} (by name, so it works across copies of the module). */
export const isAuditSinkUnavailableError = (e: unknown): e is AuditSinkUnavailableError => e instanceof Error && e.name === "AuditSinkUnavailableError";
