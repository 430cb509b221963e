import { auditEventFromJson } from "./event.ts";
import type { AuditEntry, AuditHistory, AuditHub } from "./hub.ts";

/** One entry of a shared audit stream. */
export interface StreamEntry {
  readonly id: string;
  readonly line: string;
}

/** What a relay needs from a stream shared by every replica (the Redis store's audit stream). */
export interface SharedAuditStream {
  /** Entries strictly after `after` ("0-0" for the start), oldest first. */
  readStream(after: string, count: number): Promise<StreamEntry[]>;
  /** Entries strictly before `before` ("" for the newest), newest first. */
  readStreamBefore?(before: string, count: number): Promise<StreamEntry[]>;
  /** Waits up to `blockMs` for entries after `after`. */
  waitForStream(after: string, count: number, blockMs: number): Promise<StreamEntry[]>;
  /** The id of the newest entry ever added ("0-0" when none). */
  lastStreamId(): Promise<string>;
  /** The newest id trimmed away ("0-0" when nothing was): cursors before it may have missed entries. */
  trimmedUpTo(): Promise<string>;
  /** The stream's epoch, made when it is first asked for: a stream that starts over gets a new one. */
  epoch(): Promise<string>;
  /**
   * How many times a connection to the stream's server was (re)established:
   * after a reconnection the server may have lost the stream.
   */
  readonly connections: number;
}

/** Options for {@link startAuditRelay}. */
export interface AuditRelayOptions {
  /** How long one blocking read waits (ms). Default 1000. */
  readonly blockMs?: number;
  /** Entries per read. Default 1000. */
  readonly batch?: number;
  /**
   * After a read that was not full, how long to let entries gather before the
   * next one (ms). Bounds the relay to a few reads per interval however busy
   * the stream is, at the price of that much delivery delay. Default 5.
   */
  readonly gatherMs?: number;
  readonly onError?: (error: unknown) => void;
}

/** A running relay. */
export interface AuditRelay {
  /** Cursor of the last entry relayed. */
  readonly position: string;
  /** Milliseconds between the newest relayed entry's stream time and now (0 when idle). */
  readonly lagMs: number;
  stop(): Promise<void>;
}

/** Turns stream entries into hub entries; a malformed line is reported and skipped. */
export function toEntries(entries: readonly StreamEntry[], onError: (e: unknown) => void): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const e of entries) {
    try {
      out.push({ cursor: e.id, event: auditEventFromJson(e.line) });
    } catch (error) {
      onError(new Error(`audit stream entry ${e.id} is not an audit record: ${String(error)}`));
    }
  }
  return out;
}

/** The shared stream as the hub's history. */
export function streamHistory(stream: SharedAuditStream, onError: (e: unknown) => void = () => {}): AuditHistory {
  return {
    read: async (after, count) => {
      const raw = await stream.readStream(after, count);
      return { entries: toEntries(raw, onError), last: raw.at(-1)?.id ?? "" };
    },
    ...(stream.readStreamBefore === undefined
      ? {}
      : {
          readBefore: async (before: string, count: number) => {
            const raw = await stream.readStreamBefore!(before, count);
            return { entries: toEntries(raw, onError), last: raw.at(-1)?.id ?? "" };
          },
        }),
    trimmedUpTo: () => stream.trimmedUpTo(),
    latest: () => stream.lastStreamId(),
    epoch: () => stream.epoch(),
  };
}

/**
 * Tails the shared audit stream (every replica's decisions) into this
 * process's hub, in stream order, while the hub has subscribers: it starts
 * from the stream's newest entry when the first one arrives (subscribers
 * resuming from older cursors read history themselves, at their own pace)
 * and pauses when the last one leaves, so a server nobody subscribes to
 * reads nothing. A read error is retried from the same position, so nothing
 * is skipped. After a read error or a reconnection the stream's epoch is
 * read again, and if Redis lost the stream meanwhile the hub's subscriptions
 * end (AuditHistoryResetError).
 */
export async function startAuditRelay(stream: SharedAuditStream, hub: AuditHub, options: AuditRelayOptions = {}): Promise<AuditRelay> {
  const blockMs = options.blockMs ?? 1000;
  const batch = options.batch ?? 1000;
  const gatherMs = options.gatherMs ?? 5;
  const onError = options.onError ?? (() => {});
  let position = "0-0";
  let lagMs = 0;
  let running = true;
  let wake: (() => void) | undefined;
  let resumeFrom: string | undefined;
  hub.onFirstSubscriber((from) => {
    resumeFrom = from;
    wake?.();
  });
  let epochKnown = true;
  let connections = stream.connections;
  const loop = (async () => {
    while (running) {
      if (hub.activeSubscriberCount === 0) {
        lagMs = 0;
        if (resumeFrom === undefined) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        if (!running) break;
      }
      if (resumeFrom !== undefined) {
        position = resumeFrom;
        resumeFrom = undefined;
      }
      let entries: StreamEntry[];
      try {
        if (stream.connections !== connections) {
          connections = stream.connections;
          epochKnown = false;
        }
        if (!epochKnown) {
          hub.resetEpoch(await stream.epoch());
          epochKnown = true;
        }
        entries = await stream.waitForStream(position, batch, blockMs);
      } catch (error) {
        if (!running) break;
        epochKnown = false;
        onError(error);
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      for (const entry of toEntries(entries, onError)) hub.publish(entry);
      const last = entries[entries.length - 1];
      if (last !== undefined) {
        position = last.id;
        lagMs = Math.max(0, Date.now() - Number(last.id.split("-")[0]));
        if (entries.length < batch && gatherMs > 0) await new Promise((r) => setTimeout(r, gatherMs));
      } else {
        lagMs = 0;
      }
    }
  })();
  return {
    get position() {
      return position;
    },
    get lagMs() {
      return lagMs;
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}
