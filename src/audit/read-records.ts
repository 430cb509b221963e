import { closeSync, openSync, readSync } from "node:fs";

/**
 * Reads a JSONL audit file line by line in large chunks (files can be far
 * larger than memory), handing each parsed record to `visit`; a line that is
 * not a JSON object is counted and skipped. Returns the counts.
 */
export function forEachAuditRecord(path: string, visit: (record: Record<string, unknown>) => void): { records: number; malformed: number } {
  let records = 0;
  let malformed = 0;
  forEachAuditLine(path, (text, start, end) => {
    let r: unknown;
    try {
      r = JSON.parse(text.slice(start, end));
    } catch {
      malformed++;
      return;
    }
    if (typeof r !== "object" || r === null || Array.isArray(r)) {
      malformed++;
      return;
    }
    records++;
    visit(r as Record<string, unknown>);
  });
  return { records, malformed };
}

/**
 * Hands out each non-blank line of a (possibly huge) file as a range of a
 * decoded chunk, `text[start, end)`, without slicing it: a reader that picks
 * a few fields out of each line allocates only those.
 */
export function forEachAuditLine(path: string, visit: (text: string, start: number, end: number) => void): void {
  const fd = openSync(path, "r");
  const chunk = Buffer.allocUnsafe(4 * 1024 * 1024);
  // Bytes of an unfinished line (copied: the chunk is reused).
  let carry = Buffer.alloc(0);
  const line = (text: string, start: number, end: number): void => {
    // Blank lines (and trailing \r or spaces) are skipped.
    while (end > start && (text.charCodeAt(end - 1) === 0x0d || text.charCodeAt(end - 1) === 0x20)) end--;
    if (end > start) visit(text, start, end);
  };
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      const data = carry.length === 0 ? chunk.subarray(0, n) : Buffer.concat([carry, chunk.subarray(0, n)]);
      // Split on the last newline; a multi-byte character never contains 0x0a.
      const end = data.lastIndexOf(0x0a);
      if (end < 0) {
        carry = Buffer.from(data);
        continue;
      }
      const text = data.toString("utf8", 0, end);
      carry = Buffer.from(data.subarray(end + 1));
      let start = 0;
      for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
        line(text, start, nl);
        start = nl + 1;
      }
      line(text, start, text.length);
    }
    const rest = carry.toString("utf8");
    line(rest, 0, rest.length);
  } finally {
    closeSync(fd);
  }
}
