import type { ParamType, ParamValue } from '@stb/core';
import type {
  FrequencyState,
  KllSketchState,
  NumericState,
  SlotModelState,
  StringShapeState,
  TimestampState,
} from '../state-schemas';
import { InverseCdfSampler, KllSketch } from './kll';
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

interface FreqEntry {
  count: number;
  error: number;
  sessions: number[];
}

/** Exact counts up to 2×capacity distinct values, then the heaviest `capacity` (lossy counting). */
class FrequencyCounter {
  n = 0;
  overflow = false;
  floor = 0;
  readonly items = new Map<string, FreqEntry>();
  constructor(readonly sessionCap: number) {}

  add(key: string, session: number): void {
    this.n++;
    let e = this.items.get(key);
    if (!e) {
      if (this.items.size >= 2 * FREQ_CAPACITY) this.#prune();
      e = { count: 0, error: this.floor, sessions: [] };
      this.items.set(key, e);
    }
    e.count++;
    const s = e.sessions;
    if (
      s.length < this.sessionCap &&
      s[s.length - 1] !== session &&
      !s.includes(session)
    )
      s.push(session);
  }

  #prune(): void {
    const sorted = [...this.items.entries()].sort(
      (a, b) => b[1].count - a[1].count,
    );
    for (let i = FREQ_CAPACITY; i < sorted.length; i++) {
      const [key, e] = sorted[i] as [string, FreqEntry];
      if (e.count + e.error > this.floor) this.floor = e.count + e.error;
      this.items.delete(key);
    }
    this.overflow = true;
  }

  toState(privacy: PrivacySettings): FrequencyState {
    let entries = [...this.items.entries()].sort(
      (a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1),
    );
    if (this.overflow) entries = entries.slice(0, FREQ_CAPACITY);
    if (privacy.enabled)
      entries = entries.filter(
        ([, e]) => e.sessions.length >= privacy.minSessions,
      );
    return {
      capacity: FREQ_CAPACITY,
      n: this.n,
      overflow: this.overflow,
      items: entries.map(([key, e]) => ({
        key,
        count: e.count,
        error: e.error,
        sessions: e.sessions.length,
      })),
    };
  }
}

class StringShapeFitter {
  n = 0;
  readonly length = new KllSketch(100);
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
    this.sketch = new KllSketch(k);
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
  readonly reuse = new Map<string, number>();

  constructor(readonly sessionCap: number) {
    this.freq = new FrequencyCounter(sessionCap);
  }

  #type(t: ParamType): void {
    this.types[t] = (this.types[t] ?? 0) + 1;
  }

  #string(v: string, t: 'string' | 'json' | 'bytes', session: number): void {
    this.#type(t);
    this.freq.add(valueKey({ t, v }), session);
    (this.strings ??= new StringShapeFitter()).add(v);
  }

  /** Adds one observed value of an event starting at `eventUs`, in session number `session`. */
  add(p: ParamValue, eventUs: number, session: number): void {
    this.n++;
    switch (p.t) {
      case 'int':
      case 'float':
        this.#type(p.t);
        this.freq.add(valueKey(p), session);
        (this.numeric ??= new NumericFitter()).add(p.v);
        return;
      case 'bigint':
        this.#type('bigint');
        this.freq.add(valueKey(p), session);
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
        this.freq.add(valueKey(p), session);
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
        this.freq.add(valueKey(p), session);
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

  /** Counts that this slot's value equalled the current value of `sourceKey` (`<template>#<slot>`). */
  addReuse(sourceKey: string): void {
    const c = (this.reuse.get(sourceKey) ?? 0) + 1;
    this.reuse.set(sourceKey, c);
    if (
      this.bestReuse === undefined ||
      (sourceKey !== this.bestReuse &&
        c > (this.reuse.get(this.bestReuse) ?? 0))
    )
      this.bestReuse = sourceKey;
  }

  /** The source credited most often so far. */
  bestReuse: string | undefined;

  toState(privacy: PrivacySettings): SlotModelState {
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
        element: this.list.element.toState(privacy),
      };
    if (this.reuse.size > 0) {
      const sources = [...this.reuse.entries()]
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
      out.reuse = { sources };
    }
    return out;
  }
}
