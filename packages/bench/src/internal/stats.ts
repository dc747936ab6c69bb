import * as hdr from 'hdr-histogram-js';
import type {
  BenchStats,
  BenchTemplateStats,
  LatencySummary,
  QueryType,
} from '@stb/core';
import type { BenchMetrics } from '../metrics';
import { ErrorDetails, OutageTracker, errorClassOf } from './faults';
import {
  F_CLASS,
  F_END_MS,
  F_LAG_MS,
  F_LATENCY_MS,
  F_ROWS,
  F_TPL,
  REC,
} from './wire';
import type { BatchMessage } from './wire';

type Hist = hdr.Histogram;

const newHist = (): Hist =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });

interface Acc {
  hist: Hist;
  count: number;
  ok: number;
  errors: number;
  byClass: Map<string, number>;
  rows: number;
  zeroRows: number;
}

const newAcc = (): Acc => ({
  hist: newHist(),
  count: 0,
  ok: 0,
  errors: 0,
  byClass: new Map(),
  rows: 0,
  zeroRows: 0,
});

/** Adds `from` into `into` (the overall figures are the sum of the templates'). */
function mergeInto(into: Acc, from: Acc): void {
  into.hist.add(from.hist);
  into.count += from.count;
  into.ok += from.ok;
  into.errors += from.errors;
  into.rows += from.rows;
  into.zeroRows += from.zeroRows;
  for (const [k, v] of from.byClass)
    into.byClass.set(k, (into.byClass.get(k) ?? 0) + v);
}

const NO_SERIES = { observe: (): void => undefined };

interface TemplateInfo {
  id: string;
  queryType: QueryType;
  label: string;
  acc: Acc;
  duration: { observe(v: number): void };
  okCounter: { inc(n: number): void };
  errCounter: { inc(n: number): void };
  pendingOk: number;
  pendingErr: number;
  details: ErrorDetails;
}

/** Summarises an HDR histogram of µs values as milliseconds. */
export function summarize(h: Hist): LatencySummary {
  const ms = (us: number): number => Math.round(us) / 1000;
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
    mean: ms(h.mean),
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
  readonly #lag = newHist();
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
      const t = this.#templates[buf[o + F_TPL] as number];
      if (t === undefined) continue;
      const lat = buf[o + F_LATENCY_MS] as number;
      const lag = buf[o + F_LAG_MS] as number;
      const cls = buf[o + F_CLASS] as number;
      const rows = buf[o + F_ROWS] as number;
      const end = buf[o + F_END_MS] as number;
      this.outages.observe(
        end,
        cls < 0 ? undefined : (classes[cls] ?? 'unknown'),
      );
      if (m) {
        t.duration.observe(lat / 1000);
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
      acc.hist.recordValue(Math.max(1, Math.round(lat * 1000)));
      acc.count++;
      if (cls < 0) {
        acc.ok++;
        acc.rows += rows;
        if (rows === 0) acc.zeroRows++;
      } else {
        const key = classes[cls] ?? 'unknown';
        const c = errorClassOf(key);
        t.details.add(key);
        acc.errors++;
        acc.byClass.set(c, (acc.byClass.get(c) ?? 0) + 1);
        this.errorsSeen++;
      }
      if (!Number.isNaN(lag))
        this.#lag.recordValue(Math.max(1, Math.round(Math.max(0, lag) * 1000)));
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

  #stats(acc: Acc, seconds: number): BenchStats {
    const per = (x: number): number =>
      seconds > 0 ? Math.round((x / seconds) * 100) / 100 : 0;
    return {
      count: acc.count,
      ok: acc.ok,
      errors: acc.errors,
      qps: per(acc.count),
      goodput: per(acc.ok),
      latencyMs: summarize(acc.hist),
      errorsByClass: Object.fromEntries(acc.byClass),
      rows: acc.rows,
      zeroRowShare:
        acc.ok > 0 ? Math.round((acc.zeroRows / acc.ok) * 1e4) / 1e4 : 0,
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
    return {
      overall: this.#stats(overall, seconds),
      templates,
      scheduleLagMs:
        this.#lag.totalCount > 0 ? summarize(this.#lag) : undefined,
    };
  }

  /** Records a template-level failure outside the run (dry-run prepare errors). */
  recordFailure(index: number, cls: string): void {
    const t = this.#templates[index];
    if (!t) return;
    const acc = t.acc;
    acc.count++;
    acc.errors++;
    acc.byClass.set(cls, (acc.byClass.get(cls) ?? 0) + 1);
    acc.hist.recordValue(1);
  }
}
