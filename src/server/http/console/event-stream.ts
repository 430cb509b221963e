/**
 * The Live decisions page's Server-Sent Events: one `message` per decision,
 * its `id` the audit cursor, so a browser that reconnects sends it back
 * (`Last-Event-ID`) and continues after it without a gap; `notice` events
 * say what the page should tell its viewer. The stream ends when its
 * subscription does (too slow, history reset, shutdown) — the browser then
 * reconnects and resumes — and when the viewer's session ends.
 */
import type { ServerResponse } from "node:http";
import type { AuditEntry } from "../../../audit/hub.ts";
import type { AuditSubscription } from "../../../audit/subscription.ts";
import type { Logger } from "../../logger.ts";
import { SECURITY_HEADERS } from "./http-security.ts";

/** How often an idle stream sends a comment (and checks the session). */
const KEEP_ALIVE_MS = 15_000;
/** How long the browser waits before reconnecting. */
const RETRY_MS = 2000;

/** What {@link streamDecisions} sends and watches; each entry is sent as its row, the row's cursor as the event id. */
export interface DecisionStreamOptions<Row extends { readonly cursor: string } = { readonly cursor: string }> {
  readonly response: ServerResponse;
  readonly subscription: AuditSubscription;
  readonly row: (entry: AuditEntry) => Row;
  /** Sent first as a `notice` event. */
  readonly notice?: string | undefined;
  /** Checked before every event and keep-alive: false ends the stream (signed out, session expired). */
  readonly stillAllowed: () => boolean;
  /** Counts open streams (the Health page). */
  readonly streams: { open: number };
  /** Called with a function that ends the stream (sign-out calls it); returns how to forget it. */
  readonly onOpen?: ((stop: () => void) => () => void) | undefined;
  readonly logger: Logger;
}

/** Writes the subscription's entries (decisions, or approval events) to the response until either ends. */
export async function streamDecisions<Row extends { readonly cursor: string }>(o: DecisionStreamOptions<Row>): Promise<void> {
  const { response: res, subscription: sub } = o;
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-accel-buffering": "no",
  });
  o.streams.open++;
  let done = false;
  let forget: (() => void) | undefined;
  const finish = (): void => {
    if (done) return;
    done = true;
    o.streams.open--;
    forget?.();
    clearInterval(timer);
    sub.close();
    if (!res.writableEnded) res.end();
  };
  res.on("close", finish);
  const timer = setInterval(() => {
    if (!o.stillAllowed()) finish();
    else res.write(": keep-alive\n\n");
  }, KEEP_ALIVE_MS);
  timer.unref();
  forget = o.onOpen?.(finish);
  res.write(`retry: ${RETRY_MS}\n\n`);
  if (o.notice !== undefined) res.write(notice(o.notice));
  try {
    for await (const entry of sub) {
      if (done) break;
      if (!o.stillAllowed()) break;
      // Cursors are digits, '-', '@' and [0-9a-z]; JSON escapes line breaks: nothing can end the event early.
      const row = o.row(entry);
      const ok = res.write(`id: ${row.cursor}\ndata: ${JSON.stringify(row)}\n\n`);
      if (!ok && !done) await new Promise<void>((resolve) => {
        res.once("drain", resolve);
        res.once("close", resolve);
      });
    }
  } catch (error) {
    // The subscription ended (the page fell behind, or the history started over): say so; the browser reconnects.
    if (!done) res.write(notice(`Reconnecting: ${error instanceof Error ? error.message : String(error)}`));
  } finally {
    finish();
  }
}

function notice(text: string): string {
  return `event: notice\ndata: ${text.replace(/[\r\n]+/g, " ")}\n\n`;
}
