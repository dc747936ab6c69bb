import type { ParamValue } from '@stb/core';
import { createRng } from '@stb/core';
import type { ReuseCounts } from './session-values';
import { SessionValues, valuePrimitive } from './session-values';
import { valueKey } from './value-key';

const counts = (
  reuse: [number, number][] = [],
  bestReuse = -1,
): ReuseCounts => ({ reuse: new Map(reuse), bestReuse });

/**
 * Reference: the string-keyed holder sets the fitter used before (`valueKey` → sources, least
 * recently set first; credit the preferred source, else the most credited, ties to the latest).
 */
class Reference {
  readonly values = new Map<number, string>();
  readonly holders = new Map<string, Set<number>>();
  creditFor(p: ParamValue, c: ReuseCounts): number {
    const holders = this.holders.get(valueKey(p));
    if (!holders) return -1;
    if (c.bestReuse >= 0 && holders.has(c.bestReuse)) return c.bestReuse;
    let best = -1;
    let bestCount = -1;
    for (const src of holders) {
      const n = c.reuse.get(src) ?? 0;
      if (n >= bestCount) {
        best = src;
        bestCount = n;
      }
    }
    return best;
  }
  set(source: number, p: ParamValue): void {
    const key = valueKey(p);
    const old = this.values.get(source);
    if (old !== undefined && old !== key) {
      const set = this.holders.get(old);
      set?.delete(source);
      if (set?.size === 0) this.holders.delete(old);
    }
    this.values.set(source, key);
    let set = this.holders.get(key);
    if (!set) this.holders.set(key, (set = new Set()));
    set.delete(source);
    set.add(source);
  }
}

function credit(v: SessionValues, p: ParamValue, c: ReuseCounts): number {
  return v.creditFor(p.t, valuePrimitive(p) as string | number, c);
}
function set(v: SessionValues, source: number, p: ParamValue): void {
  v.set(source, p.t, valuePrimitive(p) as string | number);
}

describe('SessionValues', () => {
  it('tells types apart like valueKey: int 5, float 5, string "5" and bigint "5" differ', () => {
    const v = new SessionValues();
    set(v, 0, { t: 'int', v: 5 });
    set(v, 1, { t: 'string', v: '5' });
    expect(credit(v, { t: 'int', v: 5 }, counts())).toBe(0);
    expect(credit(v, { t: 'float', v: 5 }, counts())).toBe(-1);
    expect(credit(v, { t: 'string', v: '5' }, counts())).toBe(1);
    expect(credit(v, { t: 'bigint', v: '5' }, counts())).toBe(-1);
    // 0 and -0 are one value (`f0`), NaN equals NaN (`fNaN`)
    set(v, 2, { t: 'float', v: -0 });
    set(v, 3, { t: 'float', v: NaN });
    expect(credit(v, { t: 'float', v: 0 }, counts())).toBe(2);
    expect(credit(v, { t: 'float', v: NaN }, counts())).toBe(3);
    // lists by content
    set(v, 4, { t: 'list', v: [{ t: 'int', v: 1 }] });
    expect(credit(v, { t: 'list', v: [{ t: 'int', v: 1 }] }, counts())).toBe(4);
    expect(valuePrimitive({ t: 'null', v: null })).toBeUndefined();
    expect(valuePrimitive({ t: 'bool', v: true })).toBeUndefined();
  });

  it('prefers the best source, then the most credited holder, ties to the most recent', () => {
    const v = new SessionValues();
    set(v, 0, { t: 'int', v: 2 });
    set(v, 1, { t: 'int', v: 2 });
    set(v, 2, { t: 'int', v: 2 });
    const two: ParamValue = { t: 'int', v: 2 };
    expect(credit(v, two, counts())).toBe(2); // all 0: the latest
    expect(credit(v, two, counts([[0, 3]]))).toBe(0); // most credited
    expect(credit(v, two, counts([[0, 3]], 1))).toBe(1); // the best source holds it
    expect(credit(v, two, counts([[0, 3]], 7))).toBe(0); // the best source does not
    set(v, 0, { t: 'int', v: 2 }); // re-set: now the most recent
    expect(credit(v, two, counts())).toBe(0);
    set(v, 0, { t: 'int', v: 3 }); // moved to another value
    expect(credit(v, two, counts([[0, 9]]))).toBe(2); // 0 no longer holds 2
    expect(credit(v, { t: 'int', v: 3 }, counts())).toBe(0);
  });

  it('matches the string-keyed reference on random sessions', () => {
    const rng = createRng(11);
    const draw = (): ParamValue => {
      const x = rng.int(6);
      switch (rng.int(5)) {
        case 0:
          return { t: 'int', v: x };
        case 1:
          return { t: 'float', v: x === 0 ? -0 : x };
        case 2:
          return { t: 'string', v: String(x) };
        case 3:
          return { t: 'bigint', v: String(x) };
        default:
          return { t: 'list', v: [{ t: 'int', v: x }] };
      }
    };
    for (let session = 0; session < 50; session++) {
      const v = new SessionValues();
      const ref = new Reference();
      const reuse = new Map<number, number>();
      let best = -1;
      for (let i = 0; i < 400; i++) {
        const source = rng.int(12);
        const p = draw();
        const c = { reuse, bestReuse: best };
        const got = credit(v, p, c);
        expect(got).toBe(ref.creditFor(p, c));
        if (got >= 0) {
          const n = (reuse.get(got) ?? 0) + 1;
          reuse.set(got, n);
          if (best < 0 || (got !== best && n > (reuse.get(best) ?? 0)))
            best = got;
        }
        set(v, source, p);
        ref.set(source, p);
      }
    }
  });
});
