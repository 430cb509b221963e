/**
 * Decisions per second over the last minutes, for the Health page: samples a
 * running total (the decisions counter) at a fixed interval and keeps the
 * last `points` differences.
 */

/** One interval: when it ended and the decisions per second within it. */
export interface RatePoint {
  /** ms since the epoch. */
  readonly time: number;
  readonly perSecond: number;
}

/** Options for {@link DecisionRate}. */
export interface DecisionRateOptions {
  /** The running total of decisions. */
  readonly total: () => number;
  /** Default 5000 ms. */
  readonly intervalMs?: number;
  /** Intervals kept. Default 60 (five minutes at 5 s). */
  readonly points?: number;
  readonly now?: () => number;
}

/** A sampler of a decision counter; {@link DecisionRate.stop} ends its timer. */
export class DecisionRate {
  readonly intervalMs: number;
  readonly #total: () => number;
  readonly #points: number;
  readonly #now: () => number;
  readonly #series: RatePoint[] = [];
  #last: { time: number; total: number };
  #timer: NodeJS.Timeout | undefined;

  constructor(options: DecisionRateOptions) {
    this.intervalMs = options.intervalMs ?? 5000;
    this.#total = options.total;
    this.#points = Math.max(2, options.points ?? 60);
    this.#now = options.now ?? Date.now;
    this.#last = { time: this.#now(), total: this.#total() };
  }

  /** Starts sampling every interval (the timer does not keep the process alive). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.sample(), this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Takes one sample now (the timer calls it; tests may too). */
  sample(): void {
    const time = this.#now();
    const total = this.#total();
    const seconds = Math.max(0.001, (time - this.#last.time) / 1000);
    this.#series.push({ time, perSecond: Math.max(0, total - this.#last.total) / seconds });
    if (this.#series.length > this.#points) this.#series.shift();
    this.#last = { time, total };
  }

  /** The kept intervals, oldest first. */
  series(): readonly RatePoint[] {
    return [...this.#series];
  }
}
