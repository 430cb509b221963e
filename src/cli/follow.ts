import type { AuditEvent, SubscribeResponse } from "../../gen/agentauth/v1/audit_pb.ts";
import { Code, isClientError, type ClientError } from "../client/index.ts";
import { EXIT_OK } from "./io.ts";

/** Options for {@link followAudit}: those of {@link followStream}, over AuditService.Subscribe's responses. */
export interface FollowOptions extends Omit<FollowStreamOptions<AuditEvent>, "subscribe"> {
  /** Opens a subscription after a cursor ("" for now). */
  readonly subscribe: (afterCursor: string, signal: AbortSignal) => AsyncIterable<SubscribeResponse>;
}

/** Follows the audit stream: {@link followStream} over its events. */
export function followAudit(o: FollowOptions): Promise<number> {
  return followStream<AuditEvent>({
    ...o,
    subscribe: async function* (afterCursor, signal) {
      for await (const r of o.subscribe(afterCursor, signal)) if (r.event !== undefined) yield r.event;
    },
  });
}

/** Options for {@link followStream}: a resumable stream of items that carry their cursor. */
export interface FollowStreamOptions<T extends { readonly cursor: string }> {
  /** Opens a subscription after a cursor ("" for now). */
  readonly subscribe: (afterCursor: string, signal: AbortSignal) => AsyncIterable<T>;
  /** Where to start: the cursor after which events are wanted ("" for now). */
  readonly after: string;
  /** Stops following (Ctrl-C). */
  readonly signal: AbortSignal;
  readonly print: (item: T) => void;
  /** Notes for the user (stderr): reconnections, gaps. */
  readonly note: (line: string) => void;
  /** First wait before reconnecting (ms), doubled after each failure. Default 250. */
  readonly initialBackoffMs?: number;
  /** Longest wait between reconnections (ms). Default 5000. */
  readonly maxBackoffMs?: number;
}

/** Failures after which following again may work: the server is restarting, unreachable or busy. */
const RETRYABLE: ReadonlySet<number> = new Set([Code.UNAVAILABLE, Code.CANCELLED, Code.DEADLINE_EXCEEDED, Code.UNKNOWN, Code.INTERNAL, Code.ABORTED, Code.RESOURCE_EXHAUSTED]);

/**
 * Follows a resumable stream (the audit stream, the approval stream) until `signal` aborts, printing each event once:
 * whenever the stream ends or breaks (a server restart, a slow consumer, a
 * network failure) it subscribes again after the last cursor printed, waiting
 * longer after each failed attempt, so nothing is shown twice or skipped.
 * When the server's history started over (a memory-mode server restarted)
 * the events in between are gone: it says so and continues from the newest
 * event. Resolves with 0 when stopped; rejects with the server's error when
 * retrying cannot help (a bad cursor, missing credentials, trimmed history).
 */
export async function followStream<T extends { readonly cursor: string }>(o: FollowStreamOptions<T>): Promise<number> {
  const initial = o.initialBackoffMs ?? 250;
  const max = o.maxBackoffMs ?? 5000;
  let cursor = o.after;
  let backoff = initial;
  let outage = false;
  const lost = (why: string): void => {
    if (!outage) o.note(`(${why}; reconnecting, resuming after ${cursor === "" ? "the newest event" : cursor})`);
    outage = true;
  };
  for (;;) {
    if (o.signal.aborted) return EXIT_OK;
    try {
      for await (const item of o.subscribe(cursor, o.signal)) {
        cursor = item.cursor;
        backoff = initial;
        outage = false;
        o.print(item);
      }
      if (o.signal.aborted) return EXIT_OK;
      lost("the server ended the stream");
    } catch (error) {
      if (o.signal.aborted) return EXIT_OK;
      if (!isClientError(error)) throw error;
      const next = afterFailure(error, cursor);
      if (next.kind === "fatal") throw error;
      if (next.kind === "resume") {
        cursor = next.cursor;
        if (next.note !== undefined) o.note(next.note);
        continue;
      }
      lost(`${codeText(error)}`);
    }
    await sleep(backoff, o.signal);
    backoff = Math.min(max, backoff * 2);
  }
}

type Next = { kind: "resume"; cursor: string; note?: string } | { kind: "retry" } | { kind: "fatal" };

/** What to do after the stream failed with `error`, the last cursor printed being `cursor`. */
function afterFailure(error: ClientError, cursor: string): Next {
  const info = error.errorInfo;
  if (error.code === Code.RESOURCE_EXHAUSTED && info?.reason === "SUBSCRIBER_TOO_SLOW") {
    const last = info.metadata["last_cursor"] || cursor;
    return { kind: "resume", cursor: last, note: `(fell behind; resuming after ${last || "the newest event"})` };
  }
  if (error.code === Code.OUT_OF_RANGE && info?.reason === "CURSOR_EPOCH") {
    const head = info.metadata["head_cursor"] ?? "";
    return {
      kind: "resume",
      cursor: head,
      note: `(the server's audit history started over — it restarted without shared history — so events after ${cursor} may be missing; continuing from ${head || "the newest event"})`,
    };
  }
  if (error.code === Code.OUT_OF_RANGE) return { kind: "fatal" };
  return RETRYABLE.has(error.code) ? { kind: "retry" } : { kind: "fatal" };
}

function codeText(error: ClientError): string {
  return error.code === Code.RESOURCE_EXHAUSTED && error.errorInfo === undefined ? "the server reset the stream" : `the stream failed: ${error.message}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
