import type { ParamValue, TraceEvent } from '@stb/core';
import { connKey, KllSketch, WindowCounter } from '@stb/core';

import { hashEvent, hashOut, hashParam } from './hash';
import { LoadSeries } from './load';
import { DistinctCounter } from './sketch/distinct';

/** Sizes and caps that bound a collector's memory. @internal */
export interface CollectorConfig {
  /** KLL k of the trace-wide sketches (inter-arrival, think time, session length, times, durations). */
  kGlobal: number;
  exactGlobal: number;
  /** KLL k of the per-slot parameter sketches. */
  kParam: number;
  exactParam: number;
  /** Distinct categorical values tracked per slot before it counts as high-cardinality. */
  maxCategories: number;
  /** Open sessions kept before the least recently seen are closed. */
  maxOpenSessions: number;
  /** Burstiness window sizes, µs. */
  windowsUs: readonly number[];
  /** Exact distinct keys before the repeat counter switches to HyperLogLog. */
  repeatExactCap: number;
  /**
   * k: a category seen in fewer distinct sessions of its own trace is rare; categorical slots
   * compare the rare ones pooled (see {@link SlotStats.pooledCategories}).
   */
  rareSessions: number;
  /**
   * The common time resolution, µs: session-open times are read off this grid, and the
   * concurrency score allows for the noise that costs (see {@link LoadSeries.session}).
   */
  resolutionUs: number;
}

/** Key of the pooled rare categories. @internal */
export const RARE_CATEGORY = -1;

/**
 * Seed of every sketch's compaction coin: both traces' sketches compact alike, so identical
 * traces give identical sketches (KS exactly 0) even past exact mode.
 */
const SKETCH_SEED = 0x9e3779b9;

/** Interns template ids to small integers shared by both traces. @internal */
export class TemplateIndex {
  readonly ids: string[] = [];
  readonly #byId = new Map<string, number>();

  intern(id: string): number {
    let i = this.#byId.get(id);
    if (i === undefined) {
      i = this.ids.length;
      this.#byId.set(id, i);
      this.ids.push(id);
    }
    return i;
  }
}

/** Pseudo-template index for "session start" in bigram keys. @internal */
export const START = 0x1fffff;
/** Bigram key of (from, to). @internal */
export function bigramKey(from: number, to: number): number {
  return from * 0x200000 + to;
}

interface SessionState {
  /** Session number in this trace (1, 2, …). */
  ordinal: number;
  last: number;
  lastUs: number;
  count: number;
  firstUs: number;
  /** End (start + duration) of the latest statement. */
  endUs: number;
}

/** Streaming statistics of one parameter slot. @internal */
export class SlotStats {
  numeric: KllSketch | undefined;
  lengths: KllSketch | undefined;
  /** Counts by value hash; undefined once more than `maxCategories` values were seen. */
  categories: Map<number, number> | undefined = new Map();
  overflow = false;
  numericCount = 0;
  listCount = 0;
  otherCount = 0;

  constructor(private readonly config: CollectorConfig) {}

  #num(): KllSketch {
    return (this.numeric ??= new KllSketch({
      k: this.config.kParam,
      exactUpTo: this.config.exactParam,
      seed: SKETCH_SEED,
    }));
  }

  #len(): KllSketch {
    return (this.lengths ??= new KllSketch({
      k: this.config.kParam,
      exactUpTo: this.config.exactParam,
      seed: SKETCH_SEED,
    }));
  }

  /** Per category: its first session, or its distinct sessions while fewer than k. */
  #sessions: Map<number, number | number[]> | undefined = new Map();

  #category(p: ParamValue, session: number): void {
    this.otherCount++;
    const cats = this.categories;
    if (cats === undefined) return;
    const key = hashParam(p);
    cats.set(key, (cats.get(key) ?? 0) + 1);
    if (cats.size > this.config.maxCategories) {
      this.categories = undefined;
      this.#sessions = undefined;
      this.overflow = true;
      return;
    }
    const sessions = this.#sessions as Map<number, number | number[]>;
    const seen = sessions.get(key);
    if (seen === undefined) sessions.set(key, session);
    else if (typeof seen === 'number') {
      if (seen !== session) sessions.set(key, [seen, session]);
    } else if (
      seen.length < this.config.rareSessions &&
      !seen.includes(session)
    )
      seen.push(session);
  }

  /**
   * The category counts with the categories seen in fewer than k distinct sessions pooled under
   * {@link RARE_CATEGORY}: rare values (an email used once, a search string) compare as a share,
   * not one by one, so a generator that synthesises them is not scored below one that copies them.
   */
  pooledCategories(): Map<number, number> {
    const out = new Map<number, number>();
    const cats = this.categories;
    if (cats === undefined) return out;
    const k = this.config.rareSessions;
    for (const [key, count] of cats) {
      const seen = this.#sessions?.get(key);
      const n =
        seen === undefined ? 0 : typeof seen === 'number' ? 1 : seen.length;
      const to = n >= k ? key : RARE_CATEGORY;
      out.set(to, (out.get(to) ?? 0) + count);
    }
    return out;
  }

  add(p: ParamValue, session = 0): void {
    switch (p.t) {
      case 'int':
      case 'float':
        this.numericCount++;
        this.#num().update(p.v);
        return;
      case 'bigint':
        this.numericCount++;
        this.#num().update(Number(p.v));
        return;
      case 'timestamp':
      case 'date': {
        const ms = Date.parse(p.v);
        if (Number.isFinite(ms)) {
          this.numericCount++;
          this.#num().update(ms);
        } else {
          this.#category(p, session);
        }
        return;
      }
      case 'list':
        this.listCount++;
        this.#len().update(p.v.length);
        return;
      case 'bool':
      case 'null':
        this.#category(p, session);
        return;
      default:
        this.#len().update(p.v.length);
        this.#category(p, session);
    }
  }
}

/** Distinct connection-attribute sets counted per trace; more are counted together as one. */
const MAX_CONN_KINDS = 4096;

/**
 * Single-pass statistics of one trace. Memory: O(templates × slots × sketch size + bigrams + open
 * sessions), never O(events).
 * @internal
 */
export class TraceCollector {
  events = 0;
  sessions = 0;
  eventsWithDuration = 0;
  /** Sessions by connection attributes (canonical key), at most {@link MAX_CONN_KINDS} kinds. */
  readonly conns = new Map<string, number>();
  /** Sessions whose first event names connection attributes. */
  connNamed = 0;
  readonly templateCounts: number[] = [];
  readonly bigrams = new Map<number, number>();
  readonly slots: (SlotStats[] | undefined)[] = [];
  readonly interArrival: KllSketch;
  readonly thinkTime: KllSketch;
  readonly sessionLength: KllSketch;
  readonly sessionStarts: KllSketch;
  readonly eventTimes: KllSketch;
  readonly durations: KllSketch;
  readonly windows: WindowCounter[];
  readonly distinct: DistinctCounter;
  /** Statements and session-open time over relative time. */
  readonly load: LoadSeries;
  firstUs: number | null = null;
  minUs = Infinity;
  maxUs = -Infinity;
  readonly #open = new Map<string, SessionState>();

  constructor(
    private readonly index: TemplateIndex,
    private readonly config: CollectorConfig,
  ) {
    this.load = new LoadSeries(config.resolutionUs);
    const g = {
      k: config.kGlobal,
      exactUpTo: config.exactGlobal,
      seed: SKETCH_SEED,
    };
    this.interArrival = new KllSketch(g);
    this.thinkTime = new KllSketch(g);
    this.sessionLength = new KllSketch(g);
    this.sessionStarts = new KllSketch(g);
    this.eventTimes = new KllSketch(g);
    this.durations = new KllSketch(g);
    this.windows = config.windowsUs.map((w) => new WindowCounter(w));
    this.distinct = new DistinctCounter({ exactCap: config.repeatExactCap });
  }

  add(e: TraceEvent): void {
    const t = e.startUs;
    const tpl = this.index.intern(e.templateId);
    this.events++;
    this.templateCounts[tpl] = (this.templateCounts[tpl] ?? 0) + 1;

    // global time
    if (this.firstUs === null) this.firstUs = t;
    else this.interArrival.update(t > this.maxUs ? t - this.maxUs : 0);
    if (t < this.minUs) this.minUs = t;
    if (t > this.maxUs) this.maxUs = t;
    this.eventTimes.update(t - this.firstUs);
    for (const w of this.windows) w.add(t);
    this.load.statement(t);
    const endUs = t + (e.durationUs ?? 0);

    // sessions
    let s = this.#open.get(e.sessionId);
    if (s === undefined) {
      this.sessions++;
      if (e.conn !== undefined) this.#countConn(e.conn);
      this.sessionStarts.update(t - this.firstUs);
      this.#bump(bigramKey(START, tpl));
      s = {
        ordinal: this.sessions,
        last: tpl,
        lastUs: t,
        count: 1,
        firstUs: t,
        endUs,
      };
      this.#open.set(e.sessionId, s);
      if (this.#open.size > this.config.maxOpenSessions) this.#evict();
    } else {
      this.#bump(bigramKey(s.last, tpl));
      this.thinkTime.update(t > s.lastUs ? t - s.lastUs : 0);
      s.last = tpl;
      s.lastUs = t;
      s.count++;
      if (endUs > s.endUs) s.endUs = endUs;
    }

    if (e.durationUs !== undefined) {
      this.eventsWithDuration++;
      this.durations.update(e.durationUs);
    }

    // parameters
    const params = e.params;
    hashEvent(e.templateId, params);
    this.distinct.add(hashOut[0] as number, hashOut[1] as number);
    if (params.length > 0) {
      let slots = this.slots[tpl];
      if (slots === undefined) {
        slots = [];
        this.slots[tpl] = slots;
      }
      for (let i = 0; i < params.length; i++) {
        let st = slots[i];
        if (st === undefined) {
          st = new SlotStats(this.config);
          slots[i] = st;
        }
        st.add(params[i] as ParamValue, s.ordinal);
      }
    }
  }

  #bump(key: number): void {
    this.bigrams.set(key, (this.bigrams.get(key) ?? 0) + 1);
  }

  #countConn(conn: NonNullable<TraceEvent['conn']>): void {
    let key = connKey(conn);
    if (key === '') return;
    this.connNamed++;
    if (!this.conns.has(key) && this.conns.size >= MAX_CONN_KINDS)
      key = 'other';
    this.conns.set(key, (this.conns.get(key) ?? 0) + 1);
  }

  /** Closes the least recently active quarter of the open sessions. */
  #evict(): void {
    const last = new Float64Array(this.#open.size);
    let i = 0;
    for (const s of this.#open.values()) last[i++] = s.lastUs;
    last.sort();
    const cutoff = last[Math.floor(last.length / 4)] as number;
    for (const [id, s] of this.#open) {
      if (s.lastUs > cutoff) continue;
      this.sessionLength.update(s.count);
      this.load.session(s.firstUs, s.endUs);
      this.#open.delete(id);
    }
  }

  /** Ends the stream: closes open sessions and flushes window counts. */
  finish(): void {
    for (const s of this.#open.values()) {
      this.sessionLength.update(s.count);
      this.load.session(s.firstUs, s.endUs);
    }
    this.#open.clear();
    for (const w of this.windows) w.finish();
  }

  /** Share of events whose template + parameters repeat an earlier event. */
  repeatRate(): number {
    if (this.events === 0) return 0;
    const distinct = Math.min(this.events, this.distinct.count());
    return Math.max(0, (this.events - distinct) / this.events);
  }
}
