import { KllSketch } from '@stb/core';
import type { FrequencyState, StringShapeState } from '../state-schemas';

/** Distinct values kept exactly before a slot's frequency table turns into heavy hitters. */
export const FREQ_CAPACITY = 256;
/** Positions with their own character-class counts in the string shape model. */
export const SHAPE_POSITIONS = 256;
/** Character classes: lower, upper, digit, space, other. */
export const CLASS_COUNT = 5;
const OTHERS_CAP = 256;

/**
 * How literals of the source may be kept: `keep-literals` copies every value; `default` keeps
 * numbers (as sketches), booleans and nulls, and other values only when seen in at least
 * `minSessions` distinct sessions; `strict` also reduces numbers to quantile curves and keeps no
 * value of any type seen in fewer sessions.
 */
export type PrivacyMode = 'keep-literals' | 'default' | 'strict';

/** Privacy settings applied when a fitted slot is turned into its stored state. */
export interface PrivacySettings {
  /** True in `strict` mode (kept for artifacts written before `mode` existed). */
  enabled: boolean;
  minSessions: number;
  /** Absent in old artifacts: then `enabled` means `strict`, else `keep-literals`. */
  mode?: PrivacyMode | undefined;
}

/** The effective mode of `p` (old artifacts carry only `enabled`). */
export function privacyMode(p: PrivacySettings): PrivacyMode {
  return p.mode ?? (p.enabled ? 'strict' : 'keep-literals');
}

/**
 * Whether a frequent value (its {@link valueKey}) seen in `sessions` distinct sessions may be
 * stored verbatim under `p`.
 */
export function mayKeepLiteral(
  key: string,
  sessions: number,
  p: PrivacySettings,
): boolean {
  const mode = privacyMode(p);
  if (mode === 'keep-literals' || sessions >= p.minSessions) return true;
  if (mode === 'strict') return false;
  const t = key.charCodeAt(0);
  // i(nt), f(loat), g (bigint), b(ool), n(ull): numbers keep their distribution
  return t === 105 || t === 102 || t === 103 || t === 98 || t === 110;
}

/** Settings that keep everything (list lengths, internal counters). */
export const KEEP_ALL: PrivacySettings = {
  enabled: false,
  minSessions: 1,
  mode: 'keep-literals',
};

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
export type FreqKey = string | number;

/** Prefix of frequency keys that are not plain strings. */
export const NUL = '\u0000';

export function stringFreqKey(v: string): string {
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
export class FrequencyCounter {
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
    entries = entries.filter(([key, e]) =>
      mayKeepLiteral(key, this.#sessions(e), privacy),
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

/** Length (in code points) and per-position character classes of strings. */
export class StringShapeFitter {
  n = 0;
  readonly length = new KllSketch({ k: 100 });
  readonly positions: number[][] = [];
  readonly classes = new Array<number>(CLASS_COUNT).fill(0);
  readonly others = new Map<string, number>();

  /** Adds a string, by code point: an emoji or a CJK character is one position and one `other`. */
  add(s: string): void {
    this.n++;
    let i = 0;
    for (let u = 0; u < s.length; u++, i++) {
      const code = s.charCodeAt(u);
      const c = charClass(code);
      (this.classes[c] as number)++;
      if (i < SHAPE_POSITIONS) {
        while (this.positions.length <= i)
          this.positions.push(new Array<number>(CLASS_COUNT).fill(0));
        ((this.positions[i] as number[])[c] as number)++;
      }
      if (c === 4) {
        let ch = s[u] as string;
        if (code >= 0xd800 && code <= 0xdbff && u + 1 < s.length) {
          const low = s.charCodeAt(u + 1);
          if (low >= 0xdc00 && low <= 0xdfff) ch = s.slice(u, ++u + 1);
        }
        const prev = this.others.get(ch);
        if (prev !== undefined) this.others.set(ch, prev + 1);
        else if (this.others.size < OTHERS_CAP) this.others.set(ch, 1);
      }
    }
    this.length.update(i);
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
