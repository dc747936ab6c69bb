import type { ParamType, ParamValue } from '@stb/core';

/**
 * A value as a Map key: the primitive itself (number or string), so no key string is built per
 * value; lists by their JSON. Values of different types can share a key (int 5 and float 5,
 * string '5' and bigint '5'); entries also keep the type, and equality needs both, which is
 * exactly the equality of {@link valueKey} strings (`i5` ≠ `f5`; 0 and -0 are equal in both).
 */
export type ValuePrimitive = number | string;

/** The key primitive of a value, or undefined for `null` and `bool` (never tracked for reuse). */
export function valuePrimitive(p: ParamValue): ValuePrimitive | undefined {
  switch (p.t) {
    case 'null':
    case 'bool':
      return undefined;
    case 'list':
      return JSON.stringify(p.v);
    default:
      return p.v;
  }
}

function sameValueZero(a: ValuePrimitive, b: ValuePrimitive): boolean {
  return a === b || (a !== a && b !== b);
}

/** How reuse is attributed: counts per source so far and the source credited most so far. */
export interface ReuseCounts {
  readonly reuse: ReadonlyMap<number, number>;
  readonly bestReuse: number;
}

/**
 * The current value of every parameter source (a template slot, as a small integer) of one
 * session, indexed by value so the sources holding a value are found in O(1): entries live in
 * parallel arrays; entries holding equal primitives form a doubly linked chain whose head is in
 * a Map keyed by the primitive. No allocation per value once a source has an entry.
 */
export class SessionValues {
  readonly #source: number[] = [];
  readonly #type: ParamType[] = [];
  readonly #value: ValuePrimitive[] = [];
  /** When the entry was last set (larger = more recent). */
  readonly #stamp: number[] = [];
  readonly #next: number[] = [];
  readonly #prev: number[] = [];
  /** Source id → entry. */
  readonly #entry = new Map<number, number>();
  /** Primitive → first entry of its chain. */
  readonly #heads = new Map<ValuePrimitive, number>();
  #clock = 0;

  /**
   * The source to credit when a slot's value equals values currently held: `counts.bestReuse`
   * when it holds the value, else the holder credited most so far, ties to the most recently set.
   * -1 when no source holds the value.
   */
  creditFor(type: ParamType, v: ValuePrimitive, counts: ReuseCounts): number {
    let e = this.#heads.get(v);
    if (e === undefined) return -1;
    const preferred = counts.bestReuse;
    if (preferred >= 0) {
      const p = this.#entry.get(preferred);
      if (
        p !== undefined &&
        this.#type[p] === type &&
        sameValueZero(this.#value[p] as ValuePrimitive, v)
      )
        return preferred;
    }
    let best = -1;
    let bestCount = -1;
    let bestStamp = -1;
    for (; e !== -1; e = this.#next[e] as number) {
      if (this.#type[e] !== type) continue;
      const src = this.#source[e] as number;
      const c = counts.reuse.get(src) ?? 0;
      const stamp = this.#stamp[e] as number;
      if (c > bestCount || (c === bestCount && stamp > bestStamp)) {
        best = src;
        bestCount = c;
        bestStamp = stamp;
      }
    }
    return best;
  }

  /** Sets the current value of `source` (making it the most recently set holder of the value). */
  set(source: number, type: ParamType, v: ValuePrimitive): void {
    let e = this.#entry.get(source);
    if (e === undefined) {
      e = this.#source.length;
      this.#source.push(source);
      this.#type.push(type);
      this.#value.push(v);
      this.#stamp.push(++this.#clock);
      this.#next.push(-1);
      this.#prev.push(-1);
      this.#entry.set(source, e);
      this.#link(e, v);
      return;
    }
    this.#stamp[e] = ++this.#clock;
    const old = this.#value[e] as ValuePrimitive;
    if (this.#type[e] === type && sameValueZero(old, v)) return;
    this.#unlink(e, old);
    this.#type[e] = type;
    this.#value[e] = v;
    this.#link(e, v);
  }

  #link(e: number, v: ValuePrimitive): void {
    const head = this.#heads.get(v);
    this.#prev[e] = -1;
    this.#next[e] = head ?? -1;
    if (head !== undefined) this.#prev[head] = e;
    this.#heads.set(v, e);
  }

  #unlink(e: number, v: ValuePrimitive): void {
    const prev = this.#prev[e] as number;
    const next = this.#next[e] as number;
    if (prev === -1) {
      if (next === -1) this.#heads.delete(v);
      else this.#heads.set(v, next);
    } else this.#next[prev] = next;
    if (next !== -1) this.#prev[next] = prev;
  }
}
