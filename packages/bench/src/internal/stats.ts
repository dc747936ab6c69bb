import type {
  BenchStats,
  BenchTemplateStats,
  LatencySummary,
  QueryType,
  RowCountSummary,
} from '@stb/core';
import type { BenchMetrics } from '../metrics';
import {
  ErrorDetails,
  OutageTracker,
  errorClassOf,
  errorCodeOf,
} from './faults';
import {
  F_CLASS,
  F_END_MS,
  F_LAG_MS,
  F_LATENCY_MS,
  F_ROWS,
  F_SERVICE_MS,
  F_TPL,
  TPL_CONNECTED,
  REC,
} from './wire';
import type { BatchMessage } from './wire';
import { encodeHistogram, type Histogram } from './hdr';
import { NsCounts } from './ns-counts';
import { TimeWindows } from './time-windows';

/**
 * Per template, the figures' HDR counts (nanoseconds); they become hdr-histogram-js histograms
 * once, when the result is built.
 */
interface Acc {
  /** Latency from the intended start. */
  hist: NsCounts;
  /** Service time (sent → completed); empty in the closed loop, where it equals `hist`. */
  service: NsCounts;
  /** Schedule lag (replay, open loop). */
  lag: NsCounts;
  count: number;
  ok: number;
  errors: number;
  byClass: Map<string, number>;
  byCode: Map<string, number>;
  rows: number;
  zeroRows: number;
  minRows: number;
  maxRows: number;
  /** Successful executions by log2 row bucket: 0 rows, 1, 2–3, 4–7, … */
  rowBuckets: Float64Array;
  deff: DesignEffect;
}

const ROW_BUCKETS = 64;

/** The log2 bucket of a row count: 0 for none, else 1 + ⌊log2 rows⌋. */
function rowBucket(rows: number): number {
  if (rows <= 0) return 0;
  if (rows < 4294967296) return 32 - Math.clz32(rows);
  return Math.min(ROW_BUCKETS - 1, 1 + Math.floor(Math.log2(rows)));
}

/** Executions per batch of the design-effect estimate. */
const BATCH = 32;
/** Fewer batches than this: no design effect is reported. */
const MIN_BATCHES = 8;

/**
 * The design effect of a run's log latencies by the method of batch means: consecutive
 * executions are grouped in batches of {@link BATCH}; var(batch means) × BATCH ÷ var(values) is
 * 1 for independent latencies and grows when latencies drift together (load bursts, cache
 * warm-up), which shrinks the effective sample size `stb compare` bootstraps from.
 */
/** What {@link DesignEffect} averages: the log of a latency in ms (floored at 1 ns). */
const logLatency = (latencyMs: number): number =>
  Math.log(Math.max(1e-6, latencyMs));

class DesignEffect {
  #n = 0;
  #mean = 0;
  #m2 = 0;
  #batchSum = 0;
  #batchN = 0;
  #bN = 0;
  #bMean = 0;
  #bM2 = 0;

  add(latencyMs: number): void {
    this.addLog(logLatency(latencyMs));
  }

  /** Adds a latency already passed through {@link logLatency} (one log for several estimates). */
  addLog(x: number): void {
    this.#n++;
    const d = x - this.#mean;
    this.#mean += d / this.#n;
    this.#m2 += d * (x - this.#mean);
    this.#batchSum += x;
    if (++this.#batchN === BATCH) {
      const m = this.#batchSum / BATCH;
      this.#batchSum = 0;
      this.#batchN = 0;
      this.#bN++;
      const e = m - this.#bMean;
      this.#bMean += e / this.#bN;
      this.#bM2 += e * (m - this.#bMean);
    }
  }

  /** ≥ 1, or undefined with too few batches or no spread. */
  value(): number | undefined {
    if (this.#bN < MIN_BATCHES || this.#n < 2) return undefined;
    const v = this.#m2 / (this.#n - 1);
    if (!(v > 0)) return undefined;
    const vb = this.#bM2 / (this.#bN - 1);
    return Math.round(Math.max(1, (vb * BATCH) / v) * 1000) / 1000;
  }
}

const newAcc = (): Acc => ({
  hist: new NsCounts(),
  service: new NsCounts(),
  lag: new NsCounts(),
  count: 0,
  ok: 0,
  errors: 0,
  byClass: new Map(),
  byCode: new Map(),
  rows: 0,
  zeroRows: 0,
  minRows: Infinity,
  maxRows: 0,
  rowBuckets: new Float64Array(ROW_BUCKETS),
  deff: new DesignEffect(),
});

/** Adds `from` into `into` (the overall figures are the sum of the templates'). */
function mergeInto(into: Acc, from: Acc): void {
  into.hist.add(from.hist);
  into.service.add(from.service);
  into.lag.add(from.lag);
  into.count += from.count;
  into.ok += from.ok;
  into.errors += from.errors;
  into.rows += from.rows;
  into.zeroRows += from.zeroRows;
  into.minRows = Math.min(into.minRows, from.minRows);
  into.maxRows = Math.max(into.maxRows, from.maxRows);
  for (let i = 0; i < ROW_BUCKETS; i++)
    into.rowBuckets[i] =
      (into.rowBuckets[i] as number) + (from.rowBuckets[i] as number);
  for (const [k, v] of from.byClass)
    into.byClass.set(k, (into.byClass.get(k) ?? 0) + v);
  for (const [k, v] of from.byCode)
    into.byCode.set(k, (into.byCode.get(k) ?? 0) + v);
}

function rowCounts(acc: Acc): RowCountSummary {
  const buckets: [number, number][] = [];
  acc.rowBuckets.forEach((n, i) => {
    if (n > 0) buckets.push([i === 0 ? 0 : 2 ** (i - 1), n]);
  });
  return {
    min: acc.ok > 0 ? acc.minRows : 0,
    max: acc.maxRows,
    mean: acc.ok > 0 ? Math.round((acc.rows / acc.ok) * 1e4) / 1e4 : 0,
    buckets,
  };
}

const NO_SERIES = { observe: (): void => undefined };

interface TemplateInfo {
  id: string;
  queryType: QueryType;
  label: string;
  acc: Acc;
  duration: { observe(v: number): void };
  service: { observe(v: number): void };
  okCounter: { inc(n: number): void };
  errCounter: { inc(n: number): void };
  pendingOk: number;
  pendingErr: number;
  details: ErrorDetails;
}

/** The parts of hdr-histogram-js's `JsHistogram` that {@link meanOf} reads (not on its `Histogram` type). */
interface CountsAccess {
  readonly countsArrayLength: number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  highestEquivalentValue(value: number): number;
  medianEquivalentValue(value: number): number;
}

/**
 * The histogram's mean, the same number as hdr-histogram-js's `mean` getter (the median equivalent
 * value of each recorded bucket × its count, summed in index order, ÷ the total count) in one
 * plain loop over the counts. The getter walks a `RecordedValuesIterator` that allocates and
 * copies a record per step: on a nanosecond histogram (27,648 counts) it took 160 ms per call, a
 * fixed cost every run paid once per template and figure (1–2 µs per query of a 300 k-query run).
 */
export function meanOf(h: Histogram): number {
  if (h.totalCount === 0) return 0;
  const c = h as unknown as Partial<CountsAccess>;
  if (
    typeof c.countsArrayLength !== 'number' ||
    typeof c.getCountAtIndex !== 'function' ||
    typeof c.valueFromIndex !== 'function'
  )
    return h.mean; // another implementation (WebAssembly): its own getter
  const a = c as CountsAccess;
  let total = 0;
  for (let i = 0, n = a.countsArrayLength; i < n; i++) {
    const count = a.getCountAtIndex(i);
    if (count !== 0)
      total +=
        a.medianEquivalentValue(a.highestEquivalentValue(a.valueFromIndex(i))) *
        count;
  }
  return total / h.totalCount;
}

/** Summarises an HDR histogram of ns values as milliseconds (µs precision). */
export function summarize(h: Histogram): LatencySummary {
  const ms = (ns: number): number => Math.round(ns / 1000) / 1000;
  if (h.totalCount === 0)
    return {
      count: 0,
      mean: 0,
      p50: 0,
      p90: 0,
      p95: 0,
      p99: 0,
      p999: 0,
      max: 0,
    };
  return {
    count: h.totalCount,
    mean: ms(meanOf(h)),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  };
}

/**
 * Merges latency batches from executors into per-template and overall HDR histograms, and keeps
 * the Prometheus metrics current. Records that end within the warmup count for metrics only.
 */
export class Aggregator {
  readonly #templates: TemplateInfo[] = [];
  readonly #overallDeff = new DesignEffect();
  /** The whole run's latencies by time window (`latencyWindows` of the overall figures). */
  readonly #overallWindows: TimeWindows;
  readonly #lagSeries: { observe(v: number): void };
  readonly #metrics: BenchMetrics | undefined;
  readonly #warmupMs: number;
  /** End of the last measured record, ms since t0. */
  lastEndMs = 0;
  /** Errors seen after warmup (for fail-fast). */
  errorsSeen = 0;
  /** When the target was unreachable. */
  readonly outages = new OutageTracker();

  constructor(options: { warmupMs: number; metrics?: BenchMetrics }) {
    this.#warmupMs = options.warmupMs;
    this.#overallWindows = new TimeWindows(options.warmupMs);
    this.#metrics = options.metrics;
    this.#lagSeries = options.metrics?.scheduleLag.labels() ?? NO_SERIES;
  }

  addTemplate(
    index: number,
    t: { id: string; queryType: QueryType; label: string },
  ): void {
    const m = this.#metrics;
    this.#templates[index] = {
      ...t,
      acc: newAcc(),
      duration: m ? m.duration.labels(t.label, t.queryType) : NO_SERIES,
      service: m ? m.service.labels(t.label, t.queryType) : NO_SERIES,
      okCounter: m
        ? m.queries.labels(t.label, t.queryType, 'ok')
        : { inc: () => undefined },
      errCounter: m
        ? m.queries.labels(t.label, t.queryType, 'error')
        : { inc: () => undefined },
      pendingOk: 0,
      pendingErr: 0,
      details: new ErrorDetails(),
    };
  }

  /** Adds one batch; `classes` is the sending executor's error-class table. */
  ingest(batch: BatchMessage, classes: readonly string[]): void {
    const { buf, n } = batch;
    const m = this.#metrics;
    const touched: TemplateInfo[] = [];
    let errorsByKey: Map<string, number> | undefined;
    for (let i = 0; i < n; i++) {
      const o = i * REC;
      const tpl = buf[o + F_TPL] as number;
      if (tpl === TPL_CONNECTED) {
        this.outages.observe(buf[o + F_END_MS] as number, undefined);
        continue;
      }
      const t = this.#templates[tpl];
      if (t === undefined) continue;
      const lat = buf[o + F_LATENCY_MS] as number;
      const lag = buf[o + F_LAG_MS] as number;
      const cls = buf[o + F_CLASS] as number;
      const rows = buf[o + F_ROWS] as number;
      const end = buf[o + F_END_MS] as number;
      const svc = buf[o + F_SERVICE_MS] as number;
      this.outages.observe(
        end,
        cls < 0 ? undefined : (classes[cls] ?? 'unknown'),
      );
      if (m) {
        t.duration.observe(lat / 1000);
        t.service.observe(svc / 1000);
        if (t.pendingOk + t.pendingErr === 0) touched.push(t);
        if (cls < 0) t.pendingOk++;
        else {
          t.pendingErr++;
          const key = `${t.label}\u0000${errorClassOf(classes[cls] ?? 'unknown')}`;
          errorsByKey ??= new Map();
          errorsByKey.set(key, (errorsByKey.get(key) ?? 0) + 1);
        }
        if (!Number.isNaN(lag))
          this.#lagSeries.observe(Math.max(0, lag) / 1000);
      }
      if (this.#warmupMs > 0 && end < this.#warmupMs) continue;
      if (end > this.lastEndMs) this.lastEndMs = end;
      const acc = t.acc;
      const ns = Math.max(1, Math.round(lat * 1e6));
      acc.hist.record(ns);
      this.#overallWindows.add(end, ns);
      // closed loop (no lag): service time is the latency, recorded once
      if (!Number.isNaN(lag))
        acc.service.record(Math.max(1, Math.round(svc * 1e6)));
      const logLat = logLatency(lat);
      acc.deff.addLog(logLat);
      this.#overallDeff.addLog(logLat);
      acc.count++;
      if (cls < 0) {
        acc.ok++;
        acc.rows += rows;
        if (rows === 0) acc.zeroRows++;
        if (rows < acc.minRows) acc.minRows = rows;
        if (rows > acc.maxRows) acc.maxRows = rows;
        const b = rowBucket(rows);
        acc.rowBuckets[b] = (acc.rowBuckets[b] as number) + 1;
      } else {
        const key = classes[cls] ?? 'unknown';
        const c = errorClassOf(key);
        const code = errorCodeOf(key);
        t.details.add(key);
        acc.errors++;
        acc.byClass.set(c, (acc.byClass.get(c) ?? 0) + 1);
        acc.byCode.set(code, (acc.byCode.get(code) ?? 0) + 1);
        this.errorsSeen++;
      }
      // the run's overall lag is the templates' lag histograms added up in `result`
      if (!Number.isNaN(lag))
        acc.lag.record(Math.max(1, Math.round(Math.max(0, lag) * 1e6)));
    }
    if (m) {
      for (const t of touched) {
        if (t.pendingOk > 0) t.okCounter.inc(t.pendingOk);
        if (t.pendingErr > 0) t.errCounter.inc(t.pendingErr);
        t.pendingOk = 0;
        t.pendingErr = 0;
      }
      if (errorsByKey)
        for (const [key, v] of errorsByKey) {
          const [label = 'other', code = 'unknown'] = key.split('\u0000');
          m.errors.labels(label, code).inc(v);
        }
    }
  }

  #stats(acc: Acc, seconds: number, deff = acc.deff.value()): BenchStats {
    const per = (x: number): number =>
      seconds > 0 ? Math.round((x / seconds) * 100) / 100 : 0;
    const hist = acc.hist.toHistogram();
    const latency = summarize(hist);
    const service = acc.service.total > 0 ? acc.service.toHistogram() : hist;
    const encoded = hist.totalCount > 0 ? encodeHistogram(hist) : undefined;
    return {
      count: acc.count,
      ok: acc.ok,
      errors: acc.errors,
      qps: per(acc.count),
      goodput: per(acc.ok),
      latencyMs: latency,
      serviceMs: service === hist ? latency : summarize(service),
      ...(acc.lag.total > 0
        ? { scheduleLagMs: summarize(acc.lag.toHistogram()) }
        : {}),
      errorsByClass: Object.fromEntries(acc.byClass),
      rows: acc.rows,
      zeroRowShare:
        acc.ok > 0 ? Math.round((acc.zeroRows / acc.ok) * 1e4) / 1e4 : 0,
      rowCounts: rowCounts(acc),
      errorsByCode: Object.fromEntries(acc.byCode),
      ...(encoded !== undefined ? { latencyHistogramNs: encoded } : {}),
      ...(service.totalCount > 0
        ? {
            serviceHistogramNs:
              service === hist ? encoded : encodeHistogram(service),
          }
        : {}),
      ...(deff !== undefined ? { latencyDesignEffect: deff } : {}),
    };
  }

  /** Overall and per-template statistics over a window of `seconds`. */
  result(seconds: number): {
    overall: BenchStats;
    templates: BenchTemplateStats[];
    scheduleLagMs: LatencySummary | undefined;
  } {
    const templates = this.#templates
      .filter((t) => t.acc.count > 0)
      .sort((a, b) => b.acc.count - a.acc.count)
      .map((t) => {
        const details = t.details.result();
        return {
          templateId: t.id,
          queryType: t.queryType,
          ...this.#stats(t.acc, seconds),
          ...(details ? { errorDetails: details } : {}),
        };
      });
    const overall = newAcc();
    for (const t of this.#templates)
      if (t.acc.count > 0) mergeInto(overall, t.acc);
    const windows = this.#overallWindows.result();
    const stats = {
      ...this.#stats(overall, seconds, this.#overallDeff.value()),
      ...(windows ? { latencyWindows: windows } : {}),
    };
    return { overall: stats, templates, scheduleLagMs: stats.scheduleLagMs };
  }

  /** Records a template-level failure outside the run (dry-run prepare errors). */
  recordFailure(index: number, cls: string): void {
    const t = this.#templates[index];
    if (!t) return;
    const acc = t.acc;
    acc.count++;
    acc.errors++;
    acc.byClass.set(cls, (acc.byClass.get(cls) ?? 0) + 1);
    acc.byCode.set(cls, (acc.byCode.get(cls) ?? 0) + 1);
    acc.hist.record(1);
  }
}
