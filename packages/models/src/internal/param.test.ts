import type { ParamValue, Rng } from '@stb/core';
import { createRng } from '@stb/core';
import { SlotFitter } from './param-fit';
import { ReuseTable, SlotSampler } from './param-sample';
import { parseTimestamp } from './time-format';

const OPEN = { enabled: false, minSessions: 5 };

function ks(a: number[], b: number[]): number {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i] as number, y[j] as number);
    while (i < x.length && (x[i] as number) <= v) i++;
    while (j < y.length && (y[j] as number) <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

function zipf(rng: Rng, cdf: number[]): number {
  const n = cdf.length;
  const u = rng.next() * (cdf[n - 1] as number);
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cdf[mid] as number) < u) lo = mid + 1;
    else hi = mid;
  }
  return lo + 1;
}

function fitAndSample(
  values: ParamValue[],
  privacy = OPEN,
  eventUs = 0,
): { state: ReturnType<SlotFitter['toState']>; out: ParamValue[] } {
  const f = new SlotFitter(privacy.minSessions);
  values.forEach((v, i) => f.add(v, eventUs, i % 50));
  const state = JSON.parse(JSON.stringify(f.toState(privacy))) as ReturnType<
    SlotFitter['toState']
  >;
  const sampler = new SlotSampler(state);
  const rng = createRng(99);
  const out: ParamValue[] = [];
  for (let i = 0; i < values.length; i++)
    out.push(sampler.sample(rng, eventUs));
  return { state, out };
}

const nums = (vs: ParamValue[]): number[] => vs.map((v) => v.v as number);

describe('parameter models: planted distributions', () => {
  const N = 20_000;

  it('zipfian keys (s = 1.1 over 100k ids): KS < 0.02, heavy keys keep their share, integers kept', () => {
    const rng = createRng(1);
    const n = 100_000;
    const cdf: number[] = [];
    let acc = 0;
    for (let k = 1; k <= n; k++) cdf.push((acc += 1 / k ** 1.1));
    const values: ParamValue[] = Array.from({ length: N }, () => ({
      t: 'int',
      v: zipf(rng, cdf),
    }));
    const { out } = fitAndSample(values);
    expect(ks(nums(values), nums(out))).toBeLessThan(0.02);
    expect(out.every((v) => v.t === 'int' && Number.isInteger(v.v))).toBe(true);
    const share = (vs: ParamValue[], k: number): number =>
      vs.filter((v) => v.v === k).length / vs.length;
    expect(Math.abs(share(out, 1) - share(values, 1))).toBeLessThan(0.02);
    expect(Math.max(...nums(out))).toBeLessThanOrEqual(
      Math.max(...nums(values)),
    );
    expect(Math.min(...nums(out))).toBeGreaterThanOrEqual(1);
  });

  it('exponential floats (mean 50): KS < 0.02 and values stay non-negative', () => {
    const rng = createRng(2);
    const values: ParamValue[] = Array.from({ length: N }, () => ({
      t: 'float',
      v: rng.exponential(0.02),
    }));
    const { out } = fitAndSample(values);
    expect(ks(nums(values), nums(out))).toBeLessThan(0.02);
    expect(out.every((v) => v.t === 'float' && v.v >= 0)).toBe(true);
  });

  it('uniform integers 1..100000 (pgbench aid): KS < 0.02 and many distinct values', () => {
    const rng = createRng(3);
    const values: ParamValue[] = Array.from({ length: N }, () => ({
      t: 'int',
      v: 1 + rng.int(100_000),
    }));
    const { out } = fitAndSample(values);
    expect(ks(nums(values), nums(out))).toBeLessThan(0.02);
    expect(new Set(nums(out)).size).toBeGreaterThan(N * 0.8);
  });

  it('categorical strings: total variation < 0.02, exact values', () => {
    const rng = createRng(4);
    const cats = ['red', 'green', 'blue', 'cyan', 'magenta'];
    const w = [0.5, 0.2, 0.15, 0.1, 0.05];
    const values: ParamValue[] = Array.from({ length: N }, () => ({
      t: 'string',
      v: cats[rng.categorical(w)] as string,
    }));
    const { out } = fitAndSample(values);
    let tv = 0;
    for (const c of cats) {
      const p = values.filter((v) => v.v === c).length / N;
      const q = out.filter((v) => v.v === c).length / N;
      tv += Math.abs(p - q) / 2;
    }
    expect(tv).toBeLessThan(0.02);
    expect(out.every((v) => cats.includes(v.v as string))).toBe(true);
  });

  it('high-cardinality strings keep length and character classes (sysbench c column)', () => {
    const rng = createRng(5);
    const digits = (k: number): string =>
      Array.from({ length: k }, () => String(rng.int(10))).join('');
    const values: ParamValue[] = Array.from({ length: 5000 }, () => ({
      t: 'string',
      v: Array.from({ length: 10 }, () => digits(11)).join('-'),
    }));
    const { out } = fitAndSample(values);
    const re = /^(\d{11}-){9}\d{11}$/;
    const ok = out.filter((v) => re.test(v.v as string)).length / out.length;
    expect(ok).toBeGreaterThan(0.95);
    const sourceSet = new Set(values.map((v) => v.v));
    expect(out.some((v) => sourceSet.has(v.v as string))).toBe(false);
  });

  it('bool and null rates, uuids, IN-list lengths and elements', () => {
    const rng = createRng(6);
    const values: ParamValue[] = [];
    for (let i = 0; i < 10_000; i++) {
      const u = rng.next();
      if (u < 0.2) values.push({ t: 'null', v: null });
      else if (u < 0.5) values.push({ t: 'bool', v: rng.next() < 0.25 });
      else values.push({ t: 'uuid', v: `0000000${i}` });
    }
    const { out } = fitAndSample(values);
    const rate = (t: string): number =>
      out.filter((v) => v.t === t).length / out.length;
    expect(Math.abs(rate('null') - 0.2)).toBeLessThan(0.02);
    expect(Math.abs(rate('bool') - 0.3)).toBeLessThan(0.02);
    const bools = out.filter((v) => v.t === 'bool');
    expect(
      Math.abs(bools.filter((v) => v.v === true).length / bools.length - 0.25),
    ).toBeLessThan(0.04);
    const uuids = out.filter((v) => v.t === 'uuid').map((v) => v.v);
    expect(
      uuids.every((u) =>
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(
          u,
        ),
      ),
    ).toBe(true);
    expect(new Set(uuids).size).toBe(uuids.length);

    const lists: ParamValue[] = Array.from({ length: 5000 }, () => ({
      t: 'list',
      v: Array.from({ length: 1 + rng.int(10) }, () => ({
        t: 'int' as const,
        v: 1 + rng.int(1000),
      })),
    }));
    const l = fitAndSample(lists).out;
    const lengths = (vs: ParamValue[]): number[] =>
      vs.map((v) => (v.v as ParamValue[]).length);
    expect(ks(lengths(lists), lengths(l))).toBeLessThan(0.05);
    const elements = l.flatMap((v) => v.v as ParamValue[]);
    expect(
      elements.every((e) => e.t === 'int' && e.v >= 1 && e.v <= 1000),
    ).toBe(true);
  });

  it('timestamps are relative to the event time and keep their text format', () => {
    const rng = createRng(7);
    const eventUs = Date.UTC(2024, 4, 1, 12) * 1000;
    const values: ParamValue[] = Array.from({ length: 5000 }, () => {
      const back = Math.round(rng.uniform(0, 3600e6));
      const d = new Date((eventUs - back) / 1000);
      return {
        t: 'timestamp',
        v: d.toISOString().replace('T', ' ').replace('Z', '+00'),
      };
    });
    const later = eventUs + 86_400e6;
    const f = new SlotFitter(5);
    values.forEach((v) => f.add(v, eventUs, 0));
    const sampler = new SlotSampler(f.toState(OPEN));
    const r = createRng(1);
    for (let i = 0; i < 500; i++) {
      const v = sampler.sample(r, later);
      expect(v.t).toBe('timestamp');
      expect(v.v).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\+00$/);
      const parsed = parseTimestamp(v.v as string)?.epochUs as number;
      expect(parsed).toBeLessThanOrEqual(later + 1000);
      expect(parsed).toBeGreaterThanOrEqual(later - 3600e6 - 1000);
    }
  });
});

describe('parameter models: privacy', () => {
  it('never emits rare literals verbatim; keeps categories seen in >= k sessions', () => {
    const rng = createRng(8);
    const values: ParamValue[] = [];
    // common category in every session; secret strings each once; numbers high-cardinality
    for (let i = 0; i < 4000; i++) {
      values.push(
        i % 2 === 0
          ? { t: 'string', v: 'ACTIVE' }
          : { t: 'string', v: `secret-${rng.int(1e9)}` },
      );
    }
    const { state, out } = fitAndSample(values, {
      enabled: true,
      minSessions: 5,
    });
    const secrets = new Set(
      values.filter((v) => v.v !== 'ACTIVE').map((v) => v.v),
    );
    expect(out.some((v) => secrets.has(v.v as string))).toBe(false);
    expect(JSON.stringify(state)).not.toMatch(/secret-\d+/);
    const active = out.filter((v) => v.v === 'ACTIVE').length / out.length;
    expect(Math.abs(active - 0.5)).toBeLessThan(0.03);

    const floats: ParamValue[] = Array.from({ length: 4000 }, () => ({
      t: 'float',
      v: rng.uniform(0, 1000),
    }));
    const f = fitAndSample(floats, { enabled: true, minSessions: 5 });
    const src = new Set(floats.map((v) => v.v));
    expect(f.out.some((v) => src.has(v.v as number))).toBe(false);
    const stored = JSON.stringify(f.state);
    expect(floats.some((v) => stored.includes(String(v.v as number)))).toBe(
      false,
    );
    expect(ks(nums(floats), nums(f.out))).toBeLessThan(0.03);
  });
});

describe('reuse table', () => {
  it('corrects observed reuse for chance coincidences', () => {
    const f = new SlotFitter(5);
    for (let i = 0; i < 1000; i++) f.add({ t: 'int', v: 1 + (i % 10) }, 0, 0);
    // 10 % coincidental reuse of its own previous value: chance level for 10 equiprobable values
    for (let i = 0; i < 100; i++) f.addReuse(0);
    expect(new ReuseTable(f.toState(OPEN, ['t#0'])).keys).toHaveLength(0);
    const g = new SlotFitter(5);
    for (let i = 0; i < 1000; i++) g.add({ t: 'int', v: i }, 0, 0);
    for (let i = 0; i < 1000; i++) g.addReuse(0);
    const table = new ReuseTable(g.toState(OPEN, ['u#1']));
    expect(table.keys).toEqual(['u#1']);
    expect(table.cumulative[0]).toBeCloseTo(1, 6);
  });

  it('corrects each source for its own chance rate (pgbench bid does not copy tid)', () => {
    // TPC-B at scale 2: bid uniform on 1..2, tid on 1..20. The fit credits bid's match with tid
    // when no better source matched: 1 time in 40 here, half the 5 % the two agree by chance.
    // Pooled with bid's own-history matches (50 %, its chance level), that used to leave tid a
    // small share of copies, which wrote tids 3..20 into bid.
    const rng = createRng(7);
    const tid = new SlotFitter(5);
    for (let i = 0; i < 4000; i++)
      tid.add({ t: 'int', v: 1 + rng.int(20) }, 0, i % 9);
    const bid = new SlotFitter(5);
    for (let i = 0; i < 4000; i++)
      bid.add({ t: 'int', v: 1 + rng.int(2) }, 0, i % 9);
    for (let i = 0; i < 2000; i++) bid.addReuse(0); // its previous value
    for (let i = 0; i < 100; i++) bid.addReuse(1); // tid, when only tid matched
    const names = ['branches#1', 'tellers#0'];
    const states = new Map([
      ['branches#1', bid.toState(OPEN, names)],
      ['tellers#0', tid.toState(OPEN, names)],
    ]);
    const stateOf = (id: string, slot: number) => states.get(`${id}#${slot}`);
    const state = states.get('branches#1')!;
    expect(new ReuseTable(state, stateOf).keys).toEqual([]);
    // history.bid copies branches.bid every time: kept, at rate 1
    const hist = new SlotFitter(5);
    for (let i = 0; i < 4000; i++)
      hist.add({ t: 'int', v: 1 + rng.int(2) }, 0, i % 9);
    for (let i = 0; i < 4000; i++) hist.addReuse(0);
    const copy = new ReuseTable(hist.toState(OPEN, ['branches#1']), stateOf);
    expect(copy.keys).toEqual(['branches#1']);
    expect(copy.cumulative[0]).toBeCloseTo(1, 6);
  });
});

describe('frequency table', () => {
  it('keeps what a stable sort by count would keep when it prunes (ties in first-seen order)', () => {
    // reference lossy counting: prune by a stable sort, keep the first 256
    const rng = createRng(4);
    const f = new SlotFitter(5);
    const ref = new Map<string, { count: number; error: number }>();
    let floor = 0;
    for (let i = 0; i < 20_000; i++) {
      const x = rng.next() < 0.3 ? rng.int(50) : rng.int(5000);
      const p: ParamValue =
        rng.next() < 0.8 ? { t: 'int', v: x } : { t: 'string', v: `v${x}` };
      f.add(p, 0, i % 7);
      const key = p.t === 'int' ? `i${p.v}` : `s${p.v}`;
      let e = ref.get(key);
      if (!e) {
        if (ref.size >= 512) {
          const sorted = [...ref.entries()].sort(
            (a, b) => b[1].count - a[1].count,
          );
          for (const [k, v] of sorted.slice(256)) {
            floor = Math.max(floor, v.count + v.error);
            ref.delete(k);
          }
        }
        ref.set(key, (e = { count: 0, error: floor }));
      }
      e.count++;
    }
    const expected = [...ref.entries()]
      .sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1))
      .slice(0, 256)
      .map(([key, e]) => ({ key, count: e.count, error: e.error }));
    const state = f.toState(OPEN).freq;
    expect(state.overflow).toBe(true);
    expect(
      state.items.map(({ key, count, error }) => ({ key, count, error })),
    ).toEqual(expected);
  });

  it('keeps string values that look like other types apart, and counts distinct sessions up to the cap', () => {
    const f = new SlotFitter(3);
    const values: ParamValue[] = [
      { t: 'int', v: 7 },
      { t: 'string', v: '7' },
      { t: 'string', v: 'i7' },
      { t: 'string', v: '\u0000x' },
      { t: 'float', v: 7.5 },
      { t: 'bigint', v: '7' },
    ];
    for (let s = 0; s < 5; s++) for (const v of values) f.add(v, 0, s);
    const items = f.toState(OPEN).freq.items;
    expect(items.map((i) => i.key).sort()).toEqual(
      ['i7', 's7', 'si7', 's\u0000x', 'f7.5', 'g7'].sort(),
    );
    for (const i of items) expect(i).toMatchObject({ count: 5, sessions: 3 });
  });
});

describe('parameter models: numbers seen once (Good–Turing, issue 13)', () => {
  it('a slot of ~60 distinct ints draws ≥ 90 % distinct values in 60 draws (a replayed table gave ≈ 63 %)', () => {
    const rng = createRng(57);
    const seen = new Set<number>();
    while (seen.size < 60) seen.add(1 + rng.int(1_000_000));
    const values: ParamValue[] = [...seen].map((v) => ({ t: 'int', v }));
    const f = new SlotFitter(OPEN.minSessions);
    values.forEach((v, i) => f.add(v, 0, i % 50));
    const sampler = new SlotSampler(f.toState(OPEN));
    for (let seed = 0; seed < 5; seed++) {
      const draw = createRng(500 + seed);
      const out = Array.from({ length: 60 }, () => sampler.sample(draw, 0));
      expect(out.every((v) => v.t === 'int')).toBe(true);
      expect(new Set(nums(out)).size).toBeGreaterThanOrEqual(54);
      // still within the range seen
      expect(Math.min(...nums(out))).toBeGreaterThanOrEqual(Math.min(...seen));
      expect(Math.max(...nums(out))).toBeLessThanOrEqual(Math.max(...seen));
    }
  });

  it('a small domain seen many times still draws only its values, in their shares', () => {
    const rng = createRng(58);
    const domain = [10, 20, 30, 40, 50];
    const values: ParamValue[] = Array.from({ length: 1000 }, () => ({
      t: 'int',
      v: domain[rng.int(domain.length)] as number,
    }));
    const { out } = fitAndSample(values);
    expect(new Set(nums(out))).toEqual(new Set(domain));
    for (const d of domain) {
      const share = out.filter((v) => v.v === d).length / out.length;
      expect(share).toBeGreaterThan(0.15);
      expect(share).toBeLessThan(0.25);
    }
  });

  it('keeps values seen twice or more exactly and draws the singletons from the sketch', () => {
    const rng = createRng(59);
    // 10 repeated values (each 20 times) and 200 singletons: 200 / 400 of the mass is new values
    const repeated = Array.from({ length: 10 }, (_, i) => 1_000_000 + i);
    const values: ParamValue[] = [];
    for (const v of repeated)
      for (let k = 0; k < 20; k++) values.push({ t: 'int', v });
    const singles = new Set<number>();
    while (singles.size < 200) singles.add(1 + rng.int(999_999));
    for (const v of singles) values.push({ t: 'int', v });
    const { out } = fitAndSample(values);
    const fromRepeated = out.filter((v) =>
      repeated.includes(v.v as number),
    ).length;
    // at least their own share (the sketch the singletons' mass is drawn from holds the repeated
    // values too, so they come out at ≈ 0.75 here, not the source's 0.5: reported, not fixed)
    expect(fromRepeated / out.length).toBeGreaterThan(0.4);
    const others = nums(out).filter((v) => !repeated.includes(v));
    // the rest are mostly values never seen (a replayed table would give only seen ones)
    const unseen = others.filter((v) => !singles.has(v)).length;
    expect(unseen / others.length).toBeGreaterThan(0.9);
  });
});
