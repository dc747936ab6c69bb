import type { Metric, Registry } from 'prom-client';

/** What prom-client's registry reads from a metric's `get()`. */
export interface HistogramSnapshot {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  readonly values: {
    metricName: string;
    labels: Record<string, string | number>;
    value: number;
  }[];
}

/** One label combination of a {@link FastHistogram}: plain counters, no hashing per observation. */
export class FastHistogramChild {
  /** Per-bucket counts (not cumulative); the last slot is `+Inf`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  readonly #bounds: Float64Array;

  constructor(
    bounds: Float64Array,
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records one value (a finite number in the histogram's unit). */
  observe(value: number): void {
    const b = this.#bounds;
    let i = 0;
    while (i < b.length && value > (b[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

/**
 * A Prometheus histogram for the runner's hot path. prom-client's `Histogram` hashes and
 * validates the label set on every `observe` (about 0.6 µs); here a label set is bound once
 * ({@link FastHistogram.labels}) and an observation is a bucket search and three additions.
 * It registers on a prom-client `Registry` through the registry's metric protocol (`name`,
 * `help`, `type`, `aggregator`, `get()`, `reset()`) and renders exactly like a prom-client
 * histogram (`_bucket{le}` cumulative, `_sum`, `_count`).
 */
export class FastHistogram<TLabel extends string = string> {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  readonly name: string;
  readonly help: string;
  readonly #labelNames: readonly TLabel[];
  readonly #bounds: Float64Array;
  readonly #children = new Map<string, FastHistogramChild>();

  constructor(config: {
    name: string;
    help: string;
    buckets: readonly number[];
    labelNames?: readonly TLabel[];
    registers: readonly Registry[];
  }) {
    this.name = config.name;
    this.help = config.help;
    this.#labelNames = config.labelNames ?? [];
    this.#bounds = Float64Array.from([...config.buckets].sort((a, b) => a - b));
    for (const r of config.registers)
      r.registerMetric(this as unknown as Metric);
  }

  /** The child for these label values (in `labelNames` order), created once. */
  labels(...values: string[]): FastHistogramChild {
    const key = values.join('\u0000');
    let c = this.#children.get(key);
    if (c === undefined) {
      const labels: Record<string, string> = {};
      this.#labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
      c = new FastHistogramChild(this.#bounds, labels);
      this.#children.set(key, c);
    }
    return c;
  }

  /** Records one value on the unlabelled child. */
  observe(value: number): void {
    this.labels().observe(value);
  }

  /** prom-client's metric protocol: the current values. */
  get(): Promise<HistogramSnapshot> {
    const values: HistogramSnapshot['values'] = [];
    const bucket = `${this.name}_bucket`;
    for (const c of this.#children.values()) {
      let acc = 0;
      this.#bounds.forEach((le, i) => {
        acc += c.counts[i] as number;
        values.push({
          metricName: bucket,
          labels: { ...c.labels, le },
          value: acc,
        });
      });
      values.push(
        {
          metricName: bucket,
          labels: { ...c.labels, le: '+Inf' },
          value: c.count,
        },
        { metricName: `${this.name}_sum`, labels: c.labels, value: c.sum },
        { metricName: `${this.name}_count`, labels: c.labels, value: c.count },
      );
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    });
  }

  /** prom-client's metric protocol: zero every child (bound children stay valid). */
  reset(): void {
    for (const c of this.#children.values()) {
      c.counts.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }
}
