/**
 * Counters and histograms for the per-call path. prom-client hashes the label
 * object on every update (about a quarter of a microsecond each, four times a
 * call); these resolve a label set to a slot once and then update plain
 * numbers. They register in a prom-client Registry like any metric, so the
 * exposition format is prom-client's own.
 */
import type { Registry } from "prom-client";

type Labels<L extends string> = Readonly<Record<L, string>>;

interface MetricValue {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly metricName?: string;
}

/** What prom-client's Registry reads from a metric. */
interface Exposed {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "histogram";
  readonly aggregator: "sum";
  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: string }>;
  reset(): void;
}

/** One label set's count. */
export interface CounterSlot {
  value: number;
}

export class HotCounter<L extends string> implements Exposed {
  readonly type = "counter" as const;
  readonly aggregator = "sum" as const;
  readonly #slots = new Map<string, { labels: Labels<L>; slot: CounterSlot }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The slot of a label set; keep it and increment `slot.value`. */
  slot(labels: Labels<L>): CounterSlot {
    const key = this.labelNames.map((n) => labels[n]).join("\u0000");
    let entry = this.#slots.get(key);
    if (entry === undefined) {
      entry = { labels: { ...labels }, slot: { value: 0 } };
      this.#slots.set(key, entry);
    }
    return entry.slot;
  }

  /** Total over every label set matching `labels` (tests and logs). */
  sum(labels: Partial<Labels<L>> = {}): number {
    let total = 0;
    for (const { labels: l, slot } of this.#slots.values()) {
      if (Object.entries(labels).every(([k, v]) => l[k as L] === v)) total += slot.value;
    }
    return total;
  }

  reset(): void {
    for (const { slot } of this.#slots.values()) slot.value = 0;
  }

  async get() {
    const values: MetricValue[] = [...this.#slots.values()].map(({ labels, slot }) => ({ value: slot.value, labels: { ...labels } }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

/** One label set's histogram. */
export interface HistogramSlot {
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export class HotHistogram<L extends string> implements Exposed {
  readonly type = "histogram" as const;
  readonly aggregator = "sum" as const;
  readonly #buckets: Float64Array;
  readonly #slots = new Map<string, { labels: Labels<L>; slot: HistogramSlot }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
    buckets: readonly number[],
    registry: Registry,
  ) {
    this.#buckets = Float64Array.from([...buckets].sort((a, b) => a - b));
    registry.registerMetric(this as never);
  }

  slot(labels: Labels<L>): HistogramSlot {
    const key = this.labelNames.map((n) => labels[n]).join("\u0000");
    let entry = this.#slots.get(key);
    if (entry === undefined) {
      entry = { labels: { ...labels }, slot: { counts: new Float64Array(this.#buckets.length), sum: 0, count: 0 } };
      this.#slots.set(key, entry);
    }
    return entry.slot;
  }

  /** Records a value (seconds) in a slot: one bucket increment, no allocation. */
  observe(slot: HistogramSlot, value: number): void {
    const b = this.#buckets;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    if (i < b.length) slot.counts[i]!++;
    slot.sum += value;
    slot.count++;
  }

  reset(): void {
    for (const { slot } of this.#slots.values()) {
      slot.counts.fill(0);
      slot.sum = 0;
      slot.count = 0;
    }
  }

  async get() {
    const values: MetricValue[] = [];
    for (const { labels, slot } of this.#slots.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.#buckets.length; i++) {
        cumulative += slot.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: this.#buckets[i]! }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: "+Inf" }, value: slot.count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...labels }, value: slot.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...labels }, value: slot.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
