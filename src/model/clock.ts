/** A source of the current time in milliseconds since the Unix epoch. */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * A clock that stands still until moved: for tests and conformance runs, where
 * expiry must be exact and independent of how long the run takes.
 */
export class ManualClock implements Clock {
  #now: number;

  constructor(startMs = Date.UTC(2025, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  /** Moves the clock forward by `seconds` (may be fractional). */
  advance(seconds: number): void {
    this.#now += seconds * 1000;
  }

  /** Sets the clock to an absolute instant. */
  set(ms: number): void {
    this.#now = ms;
  }
}
