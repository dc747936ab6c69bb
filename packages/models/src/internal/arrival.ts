import { KllSketch, kllKsDistance, kllWeightedItems } from '@stb/core';
import type { Rng, TraceEvent } from '@stb/core';
import type { ArrivalModelState, KllSketchState } from '../state-schemas';
import type { SessionArrivalProfile } from '../workload-types';
import { InverseCdfSampler } from './inverse-cdf';

const MAX_BUCKETS = 1440;
const MIN_BUCKET_US = 1_000_000;
/**
 * Gaps from which a conditional think-time sketch (a transition's, a template's) is used as it is
 * (artifacts record it as `minConditionalCount`; older ones hold 30, and their sketches of 5–29
 * gaps are used only when a KS test tells them from the fallback). Pooling a transition's gaps
 * with the rest biases its think times toward the others', and a KS test of 14 gaps lacks the
 * power to stop it: a report connection's 188–425 ms read (the gap after it in a log without
 * durations) was pooled with its 3 ms and 400 ms gaps: the generated connection's mean gap was
 * 183–214 ms against the source's 223 ms, and its captures 3 % short (pg-two-apps-web, 4 seeds).
 * A sketch of a few gaps is an unbiased, if coarse, picture of its own transition.
 */
const MIN_CONDITIONAL = 5;
/** Fewest gaps of a conditional sketch that may be used when it differs from its fallback. */
const MIN_DISTINCT_CONDITIONAL = 5;
/** Two-sample KS critical coefficient at α = 0.01 (c(α) = √(−ln(α/2)/2)). */
const KS_CRITICAL_01 = 1.628;

const TRANSITION_K = 64;
/** Think times a sketch must hold before a running rank is read off it ({@link ArrivalFitter.thinkRank}). */
const RANK_MIN_ITEMS = 50;

/** Where a session stands for {@link ArrivalFitter.eventAt}. */
export interface ArrivalSession {
  /** Template index of the session's previous event (-1: none). */
  prevTemplate: number;
  /** End (start + duration) of the previous event, µs. */
  prevEndUs: number;
}

/** Learns the arrival process from events, streaming. */
export class ArrivalFitter {
  originUs: number | undefined;
  bucketUs: number;
  readonly fixedBucket: boolean;
  counts: number[] = [];
  lastUs = -Infinity;
  readonly sessionLength = new KllSketch({ k: 100 });
  readonly thinkAll = new KllSketch({ k: 200 });
  /** Template ids by index (the indices of {@link eventAt}). */
  readonly #ids: string[] = [];
  readonly #index = new Map<string, number>();
  readonly #thinkByPrev: (KllSketch | undefined)[] = [];
  /** Per previous template index: next template index → sketch. */
  readonly #thinkByTransition: (Map<number, KllSketch> | undefined)[] = [];
  readonly #duration: (KllSketch | undefined)[] = [];

  constructor(bucketUs: number | undefined) {
    this.fixedBucket = bucketUs !== undefined;
    this.bucketUs = bucketUs ?? MIN_BUCKET_US;
  }

  /** The index of a template id (assigned on first use). */
  templateIndex(templateId: string): number {
    let i = this.#index.get(templateId);
    if (i === undefined) {
      this.#index.set(templateId, (i = this.#ids.length));
      this.#ids.push(templateId);
    }
    return i;
  }

  sessionStart(startUs: number): void {
    this.originUs ??= startUs;
    let b = Math.max(0, Math.floor((startUs - this.originUs) / this.bucketUs));
    while (!this.fixedBucket && b >= MAX_BUCKETS) {
      // widen buckets: merge pairs
      const merged: number[] = [];
      for (let i = 0; i < this.counts.length; i += 2)
        merged.push((this.counts[i] ?? 0) + (this.counts[i + 1] ?? 0));
      this.counts = merged;
      this.bucketUs *= 2;
      b = Math.floor((startUs - this.originUs) / this.bucketUs);
    }
    while (this.counts.length <= b) this.counts.push(0);
    this.counts[b] = (this.counts[b] as number) + 1;
  }

  /** {@link eventAt} by template ids. */
  event(
    e: TraceEvent,
    prev: { templateId: string; endUs: number } | undefined,
  ): void {
    this.eventAt(e, this.templateIndex(e.templateId), {
      prevTemplate: prev ? this.templateIndex(prev.templateId) : -1,
      prevEndUs: prev?.endUs ?? 0,
    });
  }

  /**
   * One event of template `template` (an index from {@link templateIndex}) in a session whose
   * previous template index is `session.prevTemplate` (-1 at a session start), which ended at
   * `session.prevEndUs`.
   */
  eventAt(e: TraceEvent, template: number, session: ArrivalSession): void {
    const prev = session.prevTemplate;
    const prevEndUs = session.prevEndUs;
    if (e.startUs > this.lastUs) this.lastUs = e.startUs;
    if (e.durationUs !== undefined)
      (this.#duration[template] ??= new KllSketch({ k: 100 })).update(
        e.durationUs,
      );
    if (prev < 0) return;
    const gap = Math.max(0, e.startUs - prevEndUs);
    this.thinkAll.update(gap);
    (this.#thinkByPrev[prev] ??= new KllSketch({ k: TRANSITION_K })).update(
      gap,
    );
    const row = (this.#thinkByTransition[prev] ??= new Map());
    let t = row.get(template);
    if (!t) row.set(template, (t = new KllSketch({ k: TRANSITION_K })));
    t.update(gap);
  }

  /**
   * Where a think time falls among the think times seen so far: its mid-rank in its transition's
   * sketch, else in the previous template's, else in all, the first that holds at least
   * {@link RANK_MIN_ITEMS}; undefined before any does. A running rank, not the final
   * distribution's, so that the think-time coupling (internal/coupling.ts) is learned in the
   * one pass that reads the events.
   */
  thinkRank(prev: number, template: number, gapUs: number): number | undefined {
    const t = this.#thinkByTransition[prev]?.get(template);
    const sketch =
      t && t.n >= RANK_MIN_ITEMS
        ? t
        : (this.#thinkByPrev[prev]?.n ?? 0) >= RANK_MIN_ITEMS
          ? this.#thinkByPrev[prev]
          : this.thinkAll.n >= RANK_MIN_ITEMS
            ? this.thinkAll
            : undefined;
    return sketch?.midRank(gapUs);
  }

  sessionEnd(length: number): void {
    this.sessionLength.update(length);
  }

  toState(): ArrivalModelState {
    const originUs = this.originUs ?? 0;
    const spanUs = Math.max(0, this.lastUs - originUs);
    const buckets = Math.max(
      this.counts.length,
      Math.ceil((spanUs + 1) / this.bucketUs),
      1,
    );
    const sessionStarts = Array.from(
      { length: buckets },
      (_, i) => this.counts[i] ?? 0,
    );
    const ids = this.#ids;
    const toStates = (
      entries: [string, KllSketch][],
    ): Record<string, KllSketchState> => {
      entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const out: Record<string, KllSketchState> = {};
      for (const [key, sketch] of entries) out[key] = sketch.toState();
      return out;
    };
    const byIndex = (
      sketches: readonly (KllSketch | undefined)[],
    ): [string, KllSketch][] => {
      const out: [string, KllSketch][] = [];
      sketches.forEach((k, i) => {
        if (k) out.push([ids[i] as string, k]);
      });
      return out;
    };
    const transitions: [string, KllSketch][] = [];
    this.#thinkByTransition.forEach((row, prev) => {
      if (row)
        for (const [next, k] of row)
          transitions.push([
            `${ids[prev] as string}>${ids[next] as string}`,
            k,
          ]);
    });
    return {
      stateVersion: 1,
      originUs,
      bucketUs: this.bucketUs,
      sessionStarts,
      spanUs: Number.isFinite(spanUs) ? spanUs : 0,
      sessionLength: this.sessionLength.toState(),
      thinkTime: {
        all: this.thinkAll.toState(),
        byPrev: toStates(byIndex(this.#thinkByPrev)),
        byTransition: toStates(transitions),
      },
      minConditionalCount: MIN_CONDITIONAL,
      duration: toStates(byIndex(this.#duration)),
    };
  }
}

/** The session-arrival profile of an arrival state. */
export function createArrivalProfile(
  state: ArrivalModelState,
): SessionArrivalProfile {
  const { bucketUs, sessionStarts } = state;
  const nb = Math.max(1, sessionStarts.length);
  const counts = Array.from({ length: nb }, (_, i) => sessionStarts[i] ?? 0);
  const perCycle = counts.reduce((a, c) => a + c, 0);
  const periodUs = nb * bucketUs;
  const rates = counts.map((c) => c / (bucketUs / 1e6));
  return {
    bucketUs,
    sessionArrivalRate: rates,
    periodUs,
    originUs: state.originUs,
    meanRatePerSecond: perCycle / (periodUs / 1e6),
    nextSessionOffsetUs(currentOffsetUs, rng) {
      if (perCycle <= 0) return Infinity;
      let t = Math.max(0, currentOffsetUs);
      let need = rng.exponential(1);
      // skip whole cycles
      const cycles = Math.floor(need / perCycle);
      if (cycles > 0) {
        need -= cycles * perCycle;
        t += cycles * periodUs;
      }
      for (let guard = 0; guard < 4 * nb + 4; guard++) {
        const index = Math.floor(t / bucketUs);
        const end = (index + 1) * bucketUs;
        const rateUs = (counts[index % nb] as number) / bucketUs;
        const avail = rateUs * (end - t);
        if (rateUs > 0 && avail >= need) return t + need / rateUs;
        need -= avail;
        t = end;
      }
      return t;
    },
  };
}

/** The draws conditioned on one template, resolved once per sampler. */
interface TemplateTiming {
  /** Think-time sampler by next template id: the transition's, else this template's, else the global one (null: none). */
  readonly next: Map<string, InverseCdfSampler | null>;
  /** Think time after this template whatever follows (when it has its own; else undefined). */
  readonly afterThis: InverseCdfSampler | undefined;
  /** The sketch behind `afterThis`, or the global one it falls back to. */
  readonly afterThisState: KllSketchState | undefined;
  readonly duration: InverseCdfSampler | undefined;
}

function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * Think-time, duration and session-length draws from an arrival state. Template ids map once to a
 * {@link TemplateTiming} entry holding its resolved samplers, so a draw costs two map lookups and
 * builds no strings.
 */
export class TimingSampler {
  readonly #state: ArrivalModelState;
  readonly #byId = new Map<string, TemplateTiming>();
  readonly #all: InverseCdfSampler | undefined;
  readonly #length: InverseCdfSampler | undefined;

  constructor(state: ArrivalModelState) {
    this.#state = state;
    this.#all = InverseCdfSampler.fromSketch(state.thinkTime.all);
    this.#length = InverseCdfSampler.fromSketch(state.sessionLength);
  }

  /**
   * The sketch a conditional draw uses: `sketch` when seen at least `minConditionalCount` times,
   * or from {@link MIN_DISTINCT_CONDITIONAL} times when a KS test tells it apart from `parent`
   * (the broader sketch it would fall back to) at α = 0.01; else `parent`. A report connection's
   * cycle of three reads (a 200–300 ms read, a 1–8 ms one, then a 400 ms sleep) gives each
   * transition 14 gaps: pooled into one sketch they came back in any order, and the connection's
   * bursts of two quick reads were lost (burstiness 0.80).
   */
  #conditional(
    sketch: KllSketchState | undefined,
    parent: KllSketchState | undefined,
  ): KllSketchState | undefined {
    if (!sketch || sketch.n < MIN_DISTINCT_CONDITIONAL) return parent;
    if (sketch.n >= this.#state.minConditionalCount || !parent) return sketch;
    const n = sketch.n;
    const m = parent.n;
    const critical = KS_CRITICAL_01 * Math.sqrt((n + m) / (n * m));
    return kllKsDistance(kllWeightedItems(sketch), kllWeightedItems(parent)) >
      critical
      ? sketch
      : parent;
  }

  #timing(templateId: string): TemplateTiming {
    let e = this.#byId.get(templateId);
    if (e === undefined) {
      const duration = own(this.#state.duration, templateId);
      const afterThis = this.#conditional(
        own(this.#state.thinkTime.byPrev, templateId),
        this.#state.thinkTime.all,
      );
      e = {
        next: new Map(),
        afterThisState: afterThis,
        afterThis:
          afterThis && afterThis !== this.#state.thinkTime.all
            ? InverseCdfSampler.fromSketch(afterThis)
            : undefined,
        duration: duration ? InverseCdfSampler.fromSketch(duration) : undefined,
      };
      this.#byId.set(templateId, e);
    }
    return e;
  }

  thinkTimeUs(prev: string | undefined, next: string, rng: Rng): number {
    if (prev === undefined) return 0;
    const e = this.#timing(prev);
    let s = e.next.get(next);
    if (s === undefined) {
      const parent = e.afterThisState ?? this.#state.thinkTime.all;
      const chosen = this.#conditional(
        own(this.#state.thinkTime.byTransition, `${prev}>${next}`),
        parent,
      );
      s =
        chosen === undefined || chosen === parent
          ? (e.afterThis ?? this.#all ?? null)
          : (InverseCdfSampler.fromSketch(chosen) ?? null);
      e.next.set(next, s);
    }
    return s ? Math.max(0, Math.round(s.sample(rng))) : 0;
  }

  durationUs(templateId: string, rng: Rng): number | undefined {
    const s = this.#timing(templateId).duration;
    return s ? Math.max(0, Math.round(s.sample(rng))) : undefined;
  }

  sessionLength(rng: Rng): number {
    return this.#length ? Math.max(1, Math.round(this.#length.sample(rng))) : 1;
  }
}
