/**
 * Audit positions have the shape of Redis stream ids, `<ms>-<seq>`, in memory
 * mode too, so clients handle one format and can compare positions; the
 * cursors clients see add the history's epoch (see {@link joinCursor}).
 */

/** Parses `<ms>-<seq>`; undefined when malformed. */
export function parseCursor(cursor: string): readonly [number, number] | undefined {
  const m = /^(\d{1,15})-(\d{1,15})$/.exec(cursor);
  if (m === null) return undefined;
  return [Number(m[1]), Number(m[2])];
}

/** Negative, zero or positive as `a` is before, at or after `b` (both well-formed). */
export function compareCursors(a: string, b: string): number {
  const x = parseCursor(a)!;
  const y = parseCursor(b)!;
  return x[0] - y[0] || x[1] - y[1];
}

/** Issues increasing cursors from a clock, like Redis' `*` ids. */
export class CursorSequence {
  #ms = 0;
  #seq = 0;

  /** The parts of the cursor `next` returned last. */
  get ms(): number {
    return this.#ms;
  }

  get seq(): number {
    return this.#seq;
  }

  next(nowMs: number): string {
    this.advance(nowMs);
    return `${this.#ms}-${this.#seq}`;
  }

  /** Moves to the next cursor without making its text (read it from `ms` and `seq`). */
  advance(nowMs: number): void {
    if (nowMs > this.#ms) {
      this.#ms = nowMs;
      this.#seq = 0;
    } else {
      this.#seq++;
    }
  }
}

/**
 * A cursor as clients see it: the position, then `@` and the epoch of the
 * history it belongs to (`1732291200123-0@k3f9x2ab`). A history gets a new
 * epoch whenever it starts over (a memory-mode server's restart, a Redis that
 * lost its data), so a cursor from an earlier one is recognised instead of
 * being taken as a position in the new one.
 */
export interface CursorParts {
  /** `<ms>-<seq>`. */
  readonly position: string;
  /** Undefined for a cursor written without one (accepted as the current epoch). */
  readonly epoch: string | undefined;
}

const EPOCH = /^[0-9a-z]{1,32}$/;

/** Splits a client's cursor into position and epoch; undefined when malformed. */
export function splitCursor(text: string): CursorParts | undefined {
  const at = text.indexOf("@");
  const position = at < 0 ? text : text.slice(0, at);
  const epoch = at < 0 ? undefined : text.slice(at + 1);
  if (parseCursor(position) === undefined || (epoch !== undefined && !EPOCH.test(epoch))) return undefined;
  return { position, epoch };
}

/** The cursor clients see for a position in the history of `epoch`. */
export function joinCursor(position: string, epoch: string): string {
  return `${position}@${epoch}`;
}

/** A fresh epoch: 8 random base-36 characters. */
export function newEpoch(): string {
  let out = "";
  for (const b of crypto.getRandomValues(new Uint8Array(8))) out += (b % 36).toString(36);
  return out;
}
