import { createRng } from '../rng';
import { WindowCounter } from './window-counter';

/** Population VMR of per-window counts, computed directly. */
function directVmr(counts: readonly number[]): number {
  const n = counts.length;
  const mean = counts.reduce((s, c) => s + c, 0) / n;
  const sumSq = counts.reduce((s, c) => s + c * c, 0);
  return Math.max(0, sumSq / n - mean * mean) / mean;
}

describe('WindowCounter', () => {
  it('counts from the first event window to the last, empty windows between included', () => {
    const w = new WindowCounter(1000);
    // windows 5, 5, 7, 9, 9, 9 → counts [2, 0, 1, 0, 3]
    for (const t of [5000, 5999, 7100, 9000, 9500, 9999]) w.add(t);
    w.finish();
    expect(w.windows).toBe(5);
    expect(w.vmr(1)).toBeCloseTo(directVmr([2, 0, 1, 0, 3]), 12);
    expect(w.vmr(6)).toBeNull();
  });

  it('finish(endUs) adds the trailing empty windows up to the one holding endUs', () => {
    const a = new WindowCounter(1000);
    const b = new WindowCounter(1000);
    for (const t of [0, 10, 1500, 2500]) {
      a.add(t);
      b.add(t);
    }
    a.finish();
    b.finish(5400); // windows 3, 4, 5 are empty
    expect(a.windows).toBe(3);
    expect(b.windows).toBe(6);
    expect(b.vmr(1)).toBeCloseTo(directVmr([2, 1, 1, 0, 0, 0]), 12);
    // an end before the last event adds nothing; finishing again changes nothing
    const c = new WindowCounter(1000);
    for (const t of [0, 10, 1500, 2500]) c.add(t);
    c.finish(1200);
    c.finish(1200);
    expect(c.windows).toBe(3);
    expect(c.vmr(1)).toBe(a.vmr(1));
  });

  it('with the default ring counts a late event in its own window; with a ring of one in the current window', () => {
    const times = [0, 50, 100, 1200, 2100, 600, 3000]; // 600 arrives late
    const ring = new WindowCounter(1000);
    const one = new WindowCounter(1000, { reorderWindows: 1 });
    for (const t of times) {
      ring.add(t);
      one.add(t);
    }
    ring.finish();
    one.finish();
    expect(ring.windows).toBe(4);
    expect(one.windows).toBe(4);
    expect(ring.vmr(1)).toBeCloseTo(directVmr([4, 1, 1, 1]), 12);
    // 600 lands in window 2, the current one when it arrives
    expect(one.vmr(1)).toBeCloseTo(directVmr([3, 1, 2, 1]), 12);
    expect(one.vmr(1)).not.toBeCloseTo(ring.vmr(1) as number, 6);
  });

  it('a ring of one gives the same figures as the default ring for events in time order, long gaps included', () => {
    const rng = createRng(3);
    const a = new WindowCounter(1000);
    const b = new WindowCounter(1000, { reorderWindows: 1 });
    let t = 0;
    for (let i = 0; i < 5000; i++) {
      t += rng.next() < 0.01 ? 2_000_000 * rng.next() : 800 * rng.next();
      a.add(Math.floor(t));
      b.add(Math.floor(t));
    }
    a.finish(t + 50_000);
    b.finish(t + 50_000);
    expect(b.windows).toBe(a.windows);
    expect(b.vmr(10)).toBe(a.vmr(10));
    const ea = a.vmrEstimate(10);
    const eb = b.vmrEstimate(10);
    expect(ea).not.toBeNull();
    expect(eb?.vmr).toBe(ea?.vmr);
    expect(eb?.logVariance).toBeCloseTo(ea?.logVariance as number, 9);
  });

  it('counts negative times in their own windows', () => {
    const w = new WindowCounter(1000);
    for (const t of [-2500, -2400, -1500, 200]) w.add(t);
    w.finish();
    expect(w.windows).toBe(4); // windows −3, −2, −1, 0
    expect(w.vmr(1)).toBeCloseTo(directVmr([2, 1, 0, 1]), 12);
  });

  it('reports nothing without events, too few windows, or no counts', () => {
    const w = new WindowCounter(1000);
    w.finish(10_000);
    expect(w.windows).toBe(0);
    expect(w.vmr(1)).toBeNull();
    expect(w.vmrEstimate(1)).toBeNull();
    const even = new WindowCounter(1000);
    for (let i = 0; i < 20; i++) even.add(i * 1000 + 1);
    even.finish();
    expect(even.vmr(10)).toBe(0);
    expect(even.vmrEstimate(10)).toBeNull(); // a VMR of 0 has no logarithm
  });
});
