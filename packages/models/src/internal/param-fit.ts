import { KllSketch } from '@stb/core';
import type { ParamType, ParamValue } from '@stb/core';
import type {
  FrequencyState,
  KllSketchState,
  NumericState,
  SlotModelState,
  StringShapeState,
  TimestampState,
} from '../state-schemas';
import { InverseCdfSampler } from './inverse-cdf';
import { daysOfEpochUs, parseDateDays, parseTimestamp } from './time-format';
import { valueKey } from './value-key';

/** Distinct values kept exactly before a slot's frequency table turns into heavy hitters. */
export const FREQ_CAPACITY = 256;
/** Positions with their own character-class counts in the string shape model. */
export const SHAPE_POSITIONS = 256;
/** Character classes: lower, upper, digit, space, other. */
export const CLASS_COUNT = 5;
const OTHERS_CAP = 64;
const REUSE_SOURCES_CAP = 16;
const QUANTILE_POINTS = 65;
const PRIVATE_DELTA = 0.0021;

/** Privacy settings applied when a fitted slot is turned into its stored state. */
export interface PrivacySettings {
  enabled: boolean;
  minSessions: number;
}

/** Character class of a UTF-16 code unit. */
export function charClass(c: number): number {
  if (c >= 97 && c <= 122) return 0;
  if (c >= 65 && c <= 90) return 1;
  if (c >= 48 && c <= 57) return 2;
  if (c === 32) return 3;
  return 4;
}

/**
 * A frequency-table key, chosen so that counting builds no string for the common types: an `int`
 * value is the number itself; a `string` value is the string itself (V8 caches its hash), unless
 * it starts with NUL; any other value is NUL + its {@link valueKey}. Injective: numbers and
 * strings never collide as Map keys, and only the NUL-prefixed keys start with NUL.
 */
type FreqKey = string | number;

const NUL = '\u0000';

function stringFreqKey(v: string): string {
  return v.charCodeAt(0) === 0 ? `${NUL}s${v}` : v;
}

/** The stored key text ({@link valueKey}) of a {@link FreqKey}. */
function freqKeyText(key: FreqKey): string {
  if (typeof key === 'number') return `i${key}`;
  return key.charCodeAt(0) === 0 ? key.slice(1) : `s${key}`;
}

/**
 * Exact counts up to 2×capacity distinct values, then the heaviest `capacity` (lossy counting).
 * The Map holds each key's entry number; entries are parallel typed arrays (reused after a
 * prune), so counting a new value allocates no object.
 */
class FrequencyCounter {
  n = 0;
  overflow = false;
  floor = 0;
  readonly items = new Map<FreqKey, number>();
  #count: Float64Array = new Float64Array(16);
  #error: Float64Array = new Float64Array(16);
  /** The first session an entry's value was seen in. */
  #session: Float64Array = new Float64Array(16);
  /** Further distinct sessions (up to the cap), created on the second one. */
  #more: (number[] | undefined)[] = [];
  #free: number[] = [];
  #next = 0;
  constructor(readonly sessionCap: number) {}

  #newEntry(): number {
    const free = this.#free.pop();
    if (free !== undefined) return free;
    const e = this.#next++;
    if (e >= this.#count.length) {
      const grow = (a: Float64Array): Float64Array => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.#count = grow(this.#count);
      this.#error = grow(this.#error);
      this.#session = grow(this.#session);
    }
    return e;
  }

  add(key: FreqKey, session: number): void {
    this.n++;
    const e = this.items.get(key);
    if (e === undefined) {
      if (this.items.size >= 2 * FREQ_CAPACITY) this.#prune();
      const f = this.#newEntry();
      this.#count[f] = 1;
      this.#error[f] = this.floor;
      this.#session[f] = session;
      this.#more[f] = undefined;
      this.items.set(key, f);
      return;
    }
    this.#count[e] = (this.#count[e] as number) + 1;
    if (this.#session[e] === session) return;
    const more = this.#more[e];
    if (more === undefined) {
      if (this.sessionCap > 1) this.#more[e] = [session];
      return;
    }
    if (
      more.length + 1 < this.sessionCap &&
      more[more.length - 1] !== session &&
      !more.includes(session)
    )
      more.push(session);
  }

  /**
   * Keeps the `FREQ_CAPACITY` heaviest entries, ties in insertion order (what a stable sort by
   * count would keep), without sorting the entries: the cut-off count comes from a typed sort.
   */
  #prune(): void {
    const count = this.#count;
    const counts = new Float64Array(this.items.size);
    let i = 0;
    for (const e of this.items.values()) counts[i++] = count[e] as number;
    counts.sort();
    const cut = counts[counts.length - FREQ_CAPACITY] as number;
    let above = 0;
    for (const c of counts) if (c > cut) above++;
    let ties = FREQ_CAPACITY - above;
    for (const [key, e] of this.items) {
      const c = count[e] as number;
      if (c > cut) continue;
      if (c === cut && ties > 0) {
        ties--;
        continue;
      }
      const bound = c + (this.#error[e] as number);
      if (bound > this.floor) this.floor = bound;
      this.items.delete(key);
      this.#more[e] = undefined;
      this.#free.push(e);
    }
    this.overflow = true;
  }

  /** Distinct sessions recorded for an entry (at most the cap). */
  #sessions(e: number): number {
    return Math.min(this.sessionCap, 1 + (this.#more[e]?.length ?? 0));
  }

  toState(privacy: PrivacySettings): FrequencyState {
    const count = this.#count;
    let entries: [string, number][] = [];
    for (const [key, e] of this.items) entries.push([freqKeyText(key), e]);
    entries.sort(
      (a, b) =>
        (count[b[1]] as number) - (count[a[1]] as number) ||
        (a[0] < b[0] ? -1 : 1),
    );
    if (this.overflow) entries = entries.slice(0, FREQ_CAPACITY);
    if (privacy.enabled)
      entries = entries.filter(
        ([, e]) => this.#sessions(e) >= privacy.minSessions,
      );
    return {
      capacity: FREQ_CAPACITY,
      n: this.n,
      overflow: this.overflow,
      items: entries.map(([key, e]) => ({
        key,
        count: count[e] as number,
        error: this.#error[e] as number,
        sessions: this.#sessions(e),
      })),
    };
  }
}

class StringShapeFitter {
  n = 0;
  readonly length = new KllSketch({ k: 100 });
  readonly positions: number[][] = [];
  readonly classes = new Array<number>(CLASS_COUNT).fill(0);
  readonly others = new Map<string, number>();

  add(s: string): void {
    this.n++;
    this.length.update(s.length);
    for (let i = 0; i < s.length; i++) {
      const code = s.charCodeAt(i);
      const c = charClass(code);
      (this.classes[c] as number)++;
      if (i < SHAPE_POSITIONS) {
        while (this.positions.length <= i)
          this.positions.push(new Array<number>(CLASS_COUNT).fill(0));
        ((this.positions[i] as number[])[c] as number)++;
      }
      if (c === 4) {
        const ch = s[i] as string;
        const prev = this.others.get(ch);
        if (prev !== undefined) this.others.set(ch, prev + 1);
        else if (this.others.size < OTHERS_CAP) this.others.set(ch, 1);
      }
    }
  }

  toState(): StringShapeState {
    return {
      n: this.n,
      length: this.length.toState(),
      positions: this.positions.map((p) => [...p]),
      classes: [...this.classes],
      others: Object.fromEntries(this.others),
    };
  }
}

class NumericFitter {
  integer = true;
  readonly sketch: KllSketch;
  constructor(k = 200) {
    this.sketch = new KllSketch({ k: k });
  }
  add(x: number): void {
    if (this.integer && !Number.isInteger(x)) this.integer = false;
    this.sketch.update(x);
  }
  toState(privacy: PrivacySettings): NumericState {
    const sketch = this.sketch.toState();
    if (!privacy.enabled) return { integer: this.integer, sketch };
    return {
      integer: this.integer,
      sketch: { k: sketch.k, n: sketch.n, min: null, max: null, levels: [[]] },
      quantiles: privateCurve(sketch),
    };
  }
}

/** Quantile curve that avoids the exact extremes (used under privacy). */
function privateCurve(sketch: KllSketchState): number[] {
  const s = InverseCdfSampler.fromSketch(sketch);
  if (!s) return [];
  const out: number[] = [];
  for (let i = 0; i < QUANTILE_POINTS; i++) {
    const q = 0.005 + (0.99 * i) / (QUANTILE_POINTS - 1);
    // the mean of two nearby quantiles: never an anchor (a source value) unless it is a point mass
    out.push((s.at(q - PRIVATE_DELTA) + s.at(q + PRIVATE_DELTA)) / 2);
  }
  return out;
}

/** Learns the model of one parameter slot from its values, streaming. */
export class SlotFitter {
  n = 0;
  readonly types: Partial<Record<ParamType, number>> = {};
  readonly freq: FrequencyCounter;
  numeric: NumericFitter | undefined;
  strings: StringShapeFitter | undefined;
  timestamp:
    { offset: NumericFitter; formats: Map<string, number> } | undefined;
  date: NumericFitter | undefined;
  list: { length: NumericFitter; element: SlotFitter } | undefined;
  /** Reuse counts per source index. */
  readonly reuse = new Map<number, number>();

  constructor(readonly sessionCap: number) {
    this.freq = new FrequencyCounter(sessionCap);
  }

  #type(t: ParamType): void {
    this.types[t] = (this.types[t] ?? 0) + 1;
  }

  #string(v: string, t: 'string' | 'json' | 'bytes', session: number): void {
    this.#type(t);
    this.freq.add(
      t === 'string' ? stringFreqKey(v) : NUL + valueKey({ t, v }),
      session,
    );
    (this.strings ??= new StringShapeFitter()).add(v);
  }

  /** Adds one observed value of an event starting at `eventUs`, in session number `session`. */
  add(p: ParamValue, eventUs: number, session: number): void {
    this.n++;
    switch (p.t) {
      case 'int':
        this.#type('int');
        this.freq.add(p.v, session);
        (this.numeric ??= new NumericFitter()).add(p.v);
        return;
      case 'float':
        this.#type('float');
        this.freq.add(NUL + valueKey(p), session);
        (this.numeric ??= new NumericFitter()).add(p.v);
        return;
      case 'bigint':
        this.#type('bigint');
        this.freq.add(NUL + valueKey(p), session);
        (this.numeric ??= new NumericFitter()).add(Number(p.v));
        return;
      case 'string':
        this.#string(p.v, 'string', session);
        return;
      case 'json':
        this.#string(p.v, 'json', session);
        return;
      case 'bytes':
        this.#string(p.v, 'bytes', session);
        return;
      case 'bool':
        this.#type('bool');
        this.freq.add(NUL + valueKey(p), session);
        return;
      case 'null':
        this.#type('null');
        return;
      case 'uuid':
        this.#type('uuid');
        return;
      case 'timestamp': {
        const ts = parseTimestamp(p.v);
        if (!ts) {
          this.#string(p.v, 'string', session);
          return;
        }
        this.#type('timestamp');
        const m = (this.timestamp ??= {
          offset: new NumericFitter(100),
          formats: new Map(),
        });
        m.offset.add(ts.epochUs - eventUs);
        m.formats.set(ts.format, (m.formats.get(ts.format) ?? 0) + 1);
        return;
      }
      case 'date': {
        const days = parseDateDays(p.v);
        if (days === undefined) {
          this.#string(p.v, 'string', session);
          return;
        }
        this.#type('date');
        this.freq.add(NUL + valueKey(p), session);
        (this.date ??= new NumericFitter(100)).add(
          days - daysOfEpochUs(eventUs),
        );
        return;
      }
      case 'list': {
        this.#type('list');
        const l = (this.list ??= {
          length: new NumericFitter(100),
          element: new SlotFitter(this.sessionCap),
        });
        l.length.add(p.v.length);
        for (const e of p.v) l.element.add(e, eventUs, session);
        return;
      }
    }
  }

  /**
   * Counts that this slot's value equalled the current value of reuse source `source` (an index
   * into the `sources` names given to {@link toState}).
   */
  addReuse(source: number): void {
    const c = (this.reuse.get(source) ?? 0) + 1;
    this.reuse.set(source, c);
    if (
      this.bestReuse < 0 ||
      (source !== this.bestReuse && c > (this.reuse.get(this.bestReuse) ?? 0))
    )
      this.bestReuse = source;
  }

  /** The source credited most often so far (-1: none yet). */
  bestReuse = -1;

  /**
   * The stored model. `sources[i]` names reuse source i as `<templateId>#<slot>`.
   */
  toState(
    privacy: PrivacySettings,
    sources: readonly string[] = [],
  ): SlotModelState {
    const out: SlotModelState = {
      n: this.n,
      types: { ...this.types },
      freq: this.freq.toState(privacy),
    };
    if (this.numeric) out.numeric = this.numeric.toState(privacy);
    if (this.strings) out.strings = this.strings.toState();
    if (this.timestamp) {
      const offset = this.timestamp.offset.toState(privacy);
      const ts: TimestampState = {
        offsetUs: offset.sketch,
        formats: Object.fromEntries(this.timestamp.formats),
      };
      if (offset.quantiles) ts.quantiles = offset.quantiles;
      out.timestamp = ts;
    }
    if (this.date) out.date = this.date.toState(privacy);
    if (this.list)
      out.list = {
        length: this.list.length.toState({ enabled: false, minSessions: 1 }),
        element: this.list.element.toState(privacy, sources),
      };
    if (this.reuse.size > 0) {
      const named: [string, number][] = [];
      for (const [source, count] of this.reuse) {
        const key = sources[source];
        if (key === undefined)
          throw new RangeError(
            `[stb] [models] Reuse source ${source} has no name.`,
          );
        named.push([key, count]);
      }
      const reuseSources = named
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, REUSE_SOURCES_CAP)
        .map(([key, count]) => {
          const hash = key.lastIndexOf('#');
          return {
            templateId: key.slice(0, hash),
            slot: Number(key.slice(hash + 1)),
            count,
          };
        });
      out.reuse = { sources: reuseSources };
    }
    return out;
  }
}
