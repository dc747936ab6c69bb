import { KllSketch } from '@stb/core';
import type { ParamType, ParamValue } from '@stb/core';
import type {
  KllSketchState,
  NumericState,
  SlotModelState,
  TimestampState,
} from '../state-schemas';
import { FormatsFitter } from './format-fit';
import { InverseCdfSampler } from './inverse-cdf';
import type { PrivacySettings } from './param-counters';
import {
  FrequencyCounter,
  KEEP_ALL,
  NUL,
  StringShapeFitter,
  stringFreqKey,
} from './param-counters';
import { daysOfEpochUs, parseDateDays, parseTimestamp } from './time-format';
import { valueKey } from './value-key';

export {
  CLASS_COUNT,
  FREQ_CAPACITY,
  SHAPE_POSITIONS,
  charClass,
  mayKeepLiteral,
  privacyMode,
} from './param-counters';
export type { PrivacyMode, PrivacySettings } from './param-counters';

const REUSE_SOURCES_CAP = 16;
const QUANTILE_POINTS = 65;
const PRIVATE_DELTA = 0.0021;

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
  /** Format-preserving models of text values (strings, JSON, UUIDs). */
  formats: FormatsFitter | undefined;
  /** Reuse counts per source index. */
  readonly reuse = new Map<number, number>();

  /** `depth` > 0 for the leaves of JSON documents (which never nest documents again). */
  constructor(
    readonly sessionCap: number,
    readonly depth = 0,
  ) {
    this.freq = new FrequencyCounter(sessionCap);
  }

  #formats(): FormatsFitter {
    return (this.formats ??= new FormatsFitter(this.sessionCap, {
      newLeaf: () => new SlotFitter(this.sessionCap, this.depth + 1),
      allowJson: this.depth === 0,
    }));
  }

  #type(t: ParamType): void {
    this.types[t] = (this.types[t] ?? 0) + 1;
  }

  #string(
    v: string,
    t: 'string' | 'json' | 'bytes',
    at: { eventUs: number; session: number },
  ): void {
    this.#type(t);
    this.freq.add(
      t === 'string' ? stringFreqKey(v) : NUL + valueKey({ t, v }),
      at.session,
    );
    (this.strings ??= new StringShapeFitter()).add(v);
    if (t !== 'bytes') this.#formats().add(v, t, at);
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
      case 'json':
      case 'bytes':
        this.#string(p.v, p.t, { eventUs, session });
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
        this.#formats().add(p.v, 'uuid', { eventUs, session });
        return;
      case 'timestamp': {
        const ts = parseTimestamp(p.v);
        if (!ts) {
          this.#string(p.v, 'string', { eventUs, session });
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
          this.#string(p.v, 'string', { eventUs, session });
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
          element: new SlotFitter(this.sessionCap, this.depth),
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
    if (this.formats) out.formats = this.formats.toState(privacy);
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
        length: this.list.length.toState(KEEP_ALL),
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
