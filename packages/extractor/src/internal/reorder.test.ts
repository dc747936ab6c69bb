import { ReorderBuffer } from './reorder';

/** The buffer's rule, written plainly: every held item in one list, the least (key, arrival) out. */
class Reference {
  held: { key: number; seq: number; item: number }[] = [];
  seq = 0;
  maxKey = Number.NEGATIVE_INFINITY;
  overflowed = 0;
  constructor(
    readonly windowUs: number,
    readonly maxItems: number,
  ) {}

  push(key: number, item: number): void {
    this.held.push({ key, seq: this.seq++, item });
    this.maxKey = Math.max(this.maxKey, key);
  }

  pop(all = false): number | undefined {
    if (this.held.length === 0) return undefined;
    let m = 0;
    for (let i = 1; i < this.held.length; i++) {
      const a = this.held[i] as { key: number; seq: number };
      const b = this.held[m] as { key: number; seq: number };
      if (a.key < b.key || (a.key === b.key && a.seq < b.seq)) m = i;
    }
    const least = this.held[m] as { key: number; item: number };
    if (!all && least.key > this.maxKey - this.windowUs) {
      if (this.held.length <= this.maxItems) return undefined;
      this.overflowed++;
    }
    this.held.splice(m, 1);
    return least.item;
  }
}

/** A seeded stream of keys: mostly rising, some repeated, some late by up to `late`. */
function keys(n: number, seed: number, late: number): number[] {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const out: number[] = [];
  let t = 1_000_000;
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.6) t += Math.floor(rand() * 50);
    out.push(r < 0.15 ? t - Math.floor(rand() * late) : t);
  }
  return out;
}

describe('ReorderBuffer', () => {
  it.each([
    // window, most items, late by up to: the run's ring wraps and grows while half full, and the
    // heap of late items interleaves with it
    [500, 100_000, 800],
    [5_000, 100_000, 300],
    [2_000, 700, 3_000],
    [0, 100_000, 100],
    [1_000_000, 3_000, 50],
  ])(
    'gives what the plain rule gives (window %i, at most %i held, late by up to %i)',
    (windowUs, maxItems, late) => {
      for (const seed of [1, 2, 3]) {
        const b = new ReorderBuffer<number>(windowUs, maxItems);
        const r = new Reference(windowUs, maxItems);
        const got: number[] = [];
        const want: number[] = [];
        keys(6_000, seed, late).forEach((k, i) => {
          b.push(k, i);
          r.push(k, i);
          for (let x = b.pop(); x !== undefined; x = b.pop()) got.push(x);
          for (let x = r.pop(); x !== undefined; x = r.pop()) want.push(x);
          expect(b.size).toBe(r.held.length);
        });
        for (let x = b.pop(true); x !== undefined; x = b.pop(true)) got.push(x);
        for (let x = r.pop(true); x !== undefined; x = r.pop(true))
          want.push(x);
        expect(got).toEqual(want);
        expect(got).toHaveLength(6_000);
        expect(b.overflowed).toBe(r.overflowed);
      }
    },
  );
});
