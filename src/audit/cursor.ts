/**
 * Audit cursors have the shape of Redis stream ids, `<ms>-<seq>`, in memory
 * mode too, so clients handle one format and can compare positions.
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
