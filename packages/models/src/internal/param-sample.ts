import type { ParamType, ParamValue, Rng } from '@stb/core';
import { AliasTable } from '@stb/core';
import type { NumericState, SlotModelState } from '../state-schemas';
import { formatGenerator, randomUuid, shapeGenerator } from './format-sample';
import { InverseCdfSampler } from './inverse-cdf';
import { daysOfEpochUs, formatDateDays, formatTimestamp } from './time-format';
import { fromValueKey } from './value-key';

type Generate = (rng: Rng, eventUs: number) => ParamValue;

const HEX = '0123456789abcdef';
/** Draws of a slot's unseen-value component before it accepts a value the table holds. */
const NEW_VALUE_TRIES = 8;

export { randomUuid };

function numericSampler(
  state: NumericState | undefined,
): InverseCdfSampler | undefined {
  if (!state) return undefined;
  return state.quantiles
    ? InverseCdfSampler.fromQuantiles(state.quantiles)
    : InverseCdfSampler.fromSketch(state.sketch);
}

/** Draws values of one slot (not handling reuse: see {@link ReuseTable}). */
export class SlotSampler {
  readonly #alias: AliasTable | undefined;
  readonly #components: Generate[] = [];

  constructor(state: SlotModelState) {
    const weights: number[] = [];
    const keptByType = new Map<string, number>();
    const catByType = new Map<string, ParamValue[]>();
    const keptCounts: number[] = [];
    const kept: ParamValue[] = [];
    // Categories: exact tables keep every value seen twice or more; after overflow, numbers go
    // to the sketch and only heavy hitters of other types are kept. A number seen once goes to
    // the sketch too (Good–Turing: the share of values seen once estimates the chance that the
    // next value is a new one): replaying the 57 distinct ids of a sample as a categorical
    // table repeats about a third of them in 57 draws, which the source never did.
    const freq = state.freq;
    const heavy = Math.max(2, freq.n * 0.001);
    for (const item of freq.items) {
      const value = fromValueKey(item.key);
      const numeric =
        value.t === 'int' || value.t === 'float' || value.t === 'bigint';
      if (numeric && item.count === 1 && state.numeric) continue;
      if (freq.overflow) {
        if (numeric) continue;
        if (item.count - item.error < heavy) continue;
      }
      weights.push(item.count);
      kept.push(value);
      keptCounts.push(item.count);
      this.#components.push(() => value);
      keptByType.set(value.t, (keptByType.get(value.t) ?? 0) + item.count);
      const list = catByType.get(value.t) ?? [];
      list.push(value);
      catByType.set(value.t, list);
    }
    for (const [type, count] of Object.entries(state.types) as [
      ParamType,
      number,
    ][]) {
      const w = count - (keptByType.get(type) ?? 0);
      if (w <= 0) continue;
      const gen = this.#typeGenerator(type, state, {
        cats: catByType,
        kept,
        keptCounts,
      });
      if (!gen) continue;
      weights.push(w);
      this.#components.push(gen);
    }
    this.#alias = weights.length > 0 ? new AliasTable(weights) : undefined;
  }

  #typeGenerator(
    type: ParamType,
    state: SlotModelState,
    known: {
      cats: Map<string, ParamValue[]>;
      kept: ParamValue[];
      keptCounts: number[];
    },
  ): Generate | undefined {
    if (
      state.formats &&
      (type === 'string' || type === 'json' || type === 'uuid')
    ) {
      const gen = formatGenerator(state.formats, {
        type,
        kept: known.kept,
        keptCounts: known.keptCounts,
        leafSampler: (leaf) => new SlotSampler(leaf),
      });
      if (gen) return gen;
    }
    const cats = known.cats;
    switch (type) {
      case 'int':
      case 'float':
      case 'bigint': {
        const s = numericSampler(state.numeric);
        if (!s) return undefined;
        const integer = state.numeric?.integer ?? false;
        if (type === 'bigint')
          return (rng) => ({
            t: 'bigint',
            v: BigInt(Math.round(s.sample(rng))).toString(),
          });
        if (type === 'int') {
          // this component stands for values not in the table (the singletons' share): a draw
          // that lands on a value the table holds is redrawn (a few times), or the table's
          // values would come back on top of their own weight
          const held = new Set<number>();
          for (const v of known.kept) if (v.t === 'int') held.add(v.v);
          return (rng) => {
            let v = Math.round(s.sample(rng));
            for (let i = 0; i < NEW_VALUE_TRIES && held.has(v); i++)
              v = Math.round(s.sample(rng));
            return { t: 'int', v };
          };
        }
        return (rng) => {
          const v = s.sample(rng);
          return { t: 'float', v: integer ? Math.round(v) : v };
        };
      }
      case 'string': {
        if (!state.strings) return undefined;
        const gen = shapeGenerator(state.strings);
        return (rng) => ({ t: 'string', v: gen(rng) });
      }
      case 'bytes': {
        const len = state.strings
          ? InverseCdfSampler.fromSketch(state.strings.length)
          : undefined;
        return (rng) => {
          const n = len ? Math.max(0, Math.round(len.sample(rng) / 2)) : 0;
          let v = '';
          for (let i = 0; i < 2 * n; i++) v += HEX[rng.int(16)] as string;
          return { t: 'bytes', v };
        };
      }
      case 'json': {
        const known = cats.get('json') ?? [];
        return (rng) =>
          known.length > 0
            ? (known[rng.int(known.length)] as ParamValue)
            : { t: 'json', v: '{}' };
      }
      case 'bool': {
        let yes = 0;
        let all = 0;
        for (const item of state.freq.items)
          if (item.key === 'b1' || item.key === 'b0') {
            all += item.count;
            if (item.key === 'b1') yes += item.count;
          }
        const p = all > 0 ? yes / all : 0.5;
        return (rng) => ({ t: 'bool', v: rng.next() < p });
      }
      case 'null':
        return () => ({ t: 'null', v: null });
      case 'uuid':
        return (rng) => ({ t: 'uuid', v: randomUuid(rng) });
      case 'timestamp': {
        const ts = state.timestamp;
        if (!ts) return undefined;
        const s = ts.quantiles
          ? InverseCdfSampler.fromQuantiles(ts.quantiles)
          : InverseCdfSampler.fromSketch(ts.offsetUs);
        const formats = Object.keys(ts.formats);
        if (!s || formats.length === 0) return undefined;
        const fmt = new AliasTable(formats.map((f) => ts.formats[f] as number));
        return (rng, eventUs) => ({
          t: 'timestamp',
          v: formatTimestamp(
            eventUs + s.sample(rng),
            formats[fmt.sample(rng)] as string,
          ),
        });
      }
      case 'date': {
        const s = numericSampler(state.date);
        if (!s) return undefined;
        return (rng, eventUs) => ({
          t: 'date',
          v: formatDateDays(daysOfEpochUs(eventUs) + Math.round(s.sample(rng))),
        });
      }
      case 'list': {
        const l = state.list;
        if (!l) return undefined;
        const len = numericSampler(l.length);
        const element = new SlotSampler(l.element);
        return (rng, eventUs) => {
          const n = len ? Math.max(0, Math.round(len.sample(rng))) : 0;
          const v: ParamValue[] = [];
          for (let i = 0; i < n; i++) v.push(element.sample(rng, eventUs));
          return { t: 'list', v };
        };
      }
    }
  }

  /** Draws one fresh value. */
  sample(rng: Rng, eventUs: number): ParamValue {
    if (!this.#alias) return { t: 'null', v: null };
    return (this.#components[this.#alias.sample(rng)] as Generate)(
      rng,
      eventUs,
    );
  }
}

/** A source slot's model, looked up by template id and slot index. */
export type SlotStateOf = (
  templateId: string,
  slot: number,
) => SlotModelState | undefined;

/** Σ_v p(v)·q(v) over the frequent values the two slots share: how often they agree by chance. */
function coincidence(a: SlotModelState, b: SlotModelState): number {
  const na = a.freq.n || a.n;
  const nb = b.freq.n || b.n;
  if (na === 0 || nb === 0) return 0;
  const other = new Map<string, number>();
  for (const item of b.freq.items) other.set(item.key, item.count / nb);
  let sum = 0;
  for (const item of a.freq.items)
    sum += (item.count / na) * (other.get(item.key) ?? 0);
  return Math.min(1, sum);
}

/**
 * Reuse probabilities of a slot: per source `<template>#<slot>`, the probability of copying that
 * source's current value. Each source's observed rate is corrected for the rate at which the two
 * slots agree by chance (the sum over values of the product of their frequencies), so a slot
 * drawn from 10 values does not learn a spurious 10 % "reuse" of its previous value, and pgbench's
 * `bid` (1..scale) does not learn to copy `tid` (1..10·scale) from the times the two happened to
 * be equal. Without `stateOf` (or for a source it does not know), the slot's own collision
 * probability stands in for the chance rate.
 */
export class ReuseTable {
  readonly keys: string[] = [];
  readonly cumulative: number[] = [];

  constructor(state: SlotModelState, stateOf?: SlotStateOf) {
    const sources = state.reuse?.sources ?? [];
    if (sources.length === 0 || state.n === 0) return;
    const own = coincidence(state, state);
    const rates: number[] = [];
    let total = 0;
    for (const s of sources) {
      const source = stateOf?.(s.templateId, s.slot);
      const chance = source ? coincidence(state, source) : own;
      const observed = s.count / state.n;
      const rate =
        chance >= 1
          ? 0
          : Math.max(0, Math.min(1, (observed - chance) / (1 - chance)));
      rates.push(rate);
      total += rate;
    }
    if (total <= 0) return;
    // the sources' credits are disjoint (one per observation), so the rates add up to at most 1
    // but for rounding; scale down if they do not
    const scale = total > 1 ? 1 / total : 1;
    let cum = 0;
    sources.forEach((s, i) => {
      const rate = (rates[i] as number) * scale;
      if (rate <= 0) return;
      cum += rate;
      this.keys.push(`${s.templateId}#${s.slot}`);
      this.cumulative.push(cum);
    });
  }

  /** The source to copy from, or undefined for a fresh value. Consumes one random number when the table is non-empty. */
  pick(rng: Rng): string | undefined {
    const i = this.pickIndex(rng);
    return i < 0 ? undefined : this.keys[i];
  }

  /** {@link pick} as an index into `keys` (-1: a fresh value); the same random draws. */
  pickIndex(rng: Rng): number {
    const n = this.keys.length;
    if (n === 0) return -1;
    const u = rng.next();
    for (let i = 0; i < n; i++)
      if (u < (this.cumulative[i] as number)) return i;
    return -1;
  }
}
