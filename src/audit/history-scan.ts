import type { AuditEvent } from "./event.ts";
import type { AuditEntry, AuditHistory } from "./hub.ts";

/** Entries read from history per call. */
export const HISTORY_PAGE = 1000;

/** Options for {@link scanHistory}. */
export interface ScanOptions {
  readonly matches: (event: AuditEvent) => boolean;
  /** Stop once this many entries matched. */
  readonly wanted: number;
  /** Entries looked at, at most (a multiple of {@link HISTORY_PAGE} reads). */
  readonly budget: number;
  /**
   * Inclusive bounds on decision time (ms since the epoch); past `until`
   * (reading forward) or before `since` (backward) the scan is complete.
   */
  readonly since?: number | undefined;
  readonly until?: number | undefined;
  /** Newest first, from before the cursor ("" for the newest), with the history's `readBefore`. */
  readonly backward?: boolean | undefined;
}

/** What one bounded scan found. */
export interface ScanResult {
  readonly entries: AuditEntry[];
  /** Cursor of the last entry looked at (`after` when none was). */
  readonly scannedTo: string;
  /** Nothing after `scannedTo` can match: the history (or the time range) is exhausted. */
  readonly complete: boolean;
}

/**
 * Reads history after a cursor (or before it, backward), page by page,
 * keeping the entries that match, until enough matched, the budget of
 * entries looked at is spent, or nothing is left. It yields to the event loop
 * before each page, so a long scan (a filter that matches nothing) never
 * holds it for more than one page.
 */
export async function scanHistory(history: AuditHistory, from: string, o: ScanOptions): Promise<ScanResult> {
  const entries: AuditEntry[] = [];
  const backward = o.backward === true;
  const read = backward ? history.readBefore : history.read;
  if (read === undefined) throw new Error("this history cannot be read backward");
  let cursor = from;
  for (let looked = 0; looked < o.budget; ) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const count = Math.min(HISTORY_PAGE, o.budget - looked);
    const page = await read.call(history, cursor, count);
    for (const entry of page.entries) {
      const t = entry.event.time;
      // Past the time range in the direction of reading: nothing further can match.
      if (backward ? o.since !== undefined && t < o.since : o.until !== undefined && t > o.until) return { entries, scannedTo: cursor, complete: true };
      cursor = entry.cursor;
      if ((o.since === undefined || t >= o.since) && (o.until === undefined || t <= o.until) && o.matches(entry.event)) {
        entries.push(entry);
        if (entries.length >= o.wanted) return { entries, scannedTo: cursor, complete: false };
      }
    }
    if (page.last === "") return { entries, scannedTo: cursor, complete: true };
    // Past entries that could not be read too, so they are not read again.
    cursor = page.last;
    looked += count;
  }
  return { entries, scannedTo: cursor, complete: false };
}
