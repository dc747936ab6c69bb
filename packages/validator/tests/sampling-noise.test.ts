import type { ValidationReport } from '@stb/core';
import {
  createRng,
  type QueryTemplate,
  type Rng,
  type TraceEvent,
  type TraceHeader,
  WindowCounter,
} from '@stb/core';

import { validateTraces } from '../src/index';

// Issue 13: scores take out sampling noise. Synthetic traces with a seeded RNG: two independent
// Poisson traces of one rate must look alike; a clustered process of the same mean rate must not.

const T0 = 1_700_000_000_000_000; // epoch µs
const SPAN_US = 8_000_000; // 8 s
const RATE = 500; // events/s over all sessions
const SESSIONS = 4;

const templates: QueryTemplate[] = [
  {
    kind: 'template',
    id: '00000000000000a1',
    text: 'SELECT v FROM t WHERE id = $1',
    queryType: 'SELECT',
    tables: ['t'],
    slots: [{ type: 'int', column: 't.id', context: '=' }],
  },
  {
    kind: 'template',
    id: '00000000000000a2',
    text: 'UPDATE t SET v = v + 1 WHERE id = $1',
    queryType: 'UPDATE',
    tables: ['t'],
    slots: [{ type: 'int', column: 't.id', context: '=' }],
  },
];

function event(rng: Rng, startUs: number): TraceEvent {
  const tpl = templates[rng.next() < 0.7 ? 0 : 1] as QueryTemplate;
  return {
    kind: 'event',
    startUs: Math.round(startUs),
    sessionId: `s${rng.int(SESSIONS)}`,
    templateId: tpl.id,
    params: [{ t: 'int', v: 1 + rng.int(1000) }],
  };
}

/** Events at the points of a Poisson process (batches of `batch` at one instant), rate `RATE`. */
function trace(seed: number, batch = 1): TraceEvent[] {
  const rng = createRng(seed);
  const events: TraceEvent[] = [];
  let t = 0;
  for (;;) {
    t += rng.exponential(RATE / batch) * 1e6;
    if (t >= SPAN_US) break;
    for (let i = 0; i < batch; i++) events.push(event(rng, T0 + t));
  }
  return events;
}

async function validate(
  a: TraceEvent[],
  b: TraceEvent[],
): Promise<ValidationReport> {
  return validateTraces(
    { catalog: templates, events: a },
    { catalog: templates, events: b },
    { createdAt: '2026-01-01T00:00:00.000Z' },
  );
}

function scoreOf(r: ValidationReport, id: string): number {
  const p = r.properties.find((x) => x.id === id);
  if (p?.score === null || p?.score === undefined)
    throw new Error(`property ${id} has no score`);
  return p.score;
}

describe('validator scores without sampling noise (issue 13)', () => {
  it('two independent Poisson traces of one rate score burstiness ≥ 0.95, parameters and inter-arrival high', async () => {
    // Uncorrected, such pairs scored burstiness ≈ 0.9, parameters ≈ 0.97, inter-arrival ≈ 0.98,
    // repeat rate ≈ 0.99 (the noise of 4000 events). Corrected, most pairs score 1; a few land
    // just under 0.95 on burstiness (seed pairs 3/4: 0.945, 31/32: 0.888), so the bounds are on
    // the mean (and median) of ten pairs, with a floor for each pair.
    const ids = ['burstiness', 'parameters', 'interArrival', 'repeatRate'];
    const scores = new Map<string, number[]>(ids.map((id) => [id, []]));
    for (let s = 1; s <= 20; s += 2) {
      const r = await validate(trace(s), trace(s + 1));
      for (const id of ids) scores.get(id)?.push(scoreOf(r, id));
    }
    const mean = (id: string): number => {
      const xs = scores.get(id) ?? [];
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    const sorted = (id: string): number[] =>
      [...(scores.get(id) ?? [])].sort((x, y) => x - y);
    expect(mean('burstiness')).toBeGreaterThanOrEqual(0.95);
    expect(sorted('burstiness')[5]).toBeGreaterThanOrEqual(0.97);
    expect(sorted('burstiness')[0]).toBeGreaterThanOrEqual(0.9);
    expect(mean('parameters')).toBeGreaterThanOrEqual(0.99);
    expect(mean('interArrival')).toBeGreaterThanOrEqual(0.99);
    expect(mean('repeatRate')).toBeGreaterThanOrEqual(0.996);
    for (const id of ['parameters', 'interArrival', 'repeatRate'])
      expect(sorted(id)[0]).toBeGreaterThanOrEqual(0.98);
  });

  it('Poisson vs. a clustered process of the same mean rate (batches of 6) scores burstiness < 0.7', async () => {
    const poisson = trace(7);
    const clustered = trace(8, 6);
    // same mean rate within 10 %
    expect(clustered.length / poisson.length).toBeGreaterThan(0.9);
    expect(clustered.length / poisson.length).toBeLessThan(1.1);
    const r = await validate(poisson, clustered);
    expect(scoreOf(r, 'burstiness')).toBeLessThan(0.7);
  });
});

/**
 * `count` sessions of 7 statements `lengthUs` apart in all, starting uniformly over 5 s: a web
 * app's connection per request. `clockUs` > 1 floors every start onto that clock, as a MySQL
 * general log stamps whole seconds.
 */
function shortSessions(
  seed: number,
  o: { count: number; lengthUs: number; clockUs: number },
): TraceEvent[] {
  const rng = createRng(seed);
  const events: TraceEvent[] = [];
  for (let s = 0; s < o.count; s++) {
    const start = T0 + rng.next() * 5_000_000;
    for (let i = 0; i < 7; i++) {
      const t = start + (o.lengthUs * i) / 6;
      events.push({
        ...event(rng, Math.floor(t / o.clockUs) * o.clockUs),
        sessionId: `w${s}`,
      });
    }
  }
  return events.sort((x, y) => x.startUs - y.startUs);
}

function header(timeResolutionUs: number): TraceHeader {
  return {
    kind: 'header',
    format: 'stb-trace',
    version: 2,
    dialect: 'mysql',
    source: {},
    timeResolutionUs,
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

describe('concurrency read off a coarse clock (issue 13)', () => {
  const run = (original: TraceEvent[], generated: TraceEvent[]) =>
    validateTraces(
      { header: header(1_000_000), catalog: templates, events: original },
      { header: header(1), catalog: templates, events: generated },
      { createdAt: '2026-01-01T00:00:00.000Z' },
    );

  it('two captures of one process of short sessions stamped in whole seconds score concurrency ≥ 0.9', async () => {
    // 240 sessions of 40 ms: about 10 of them cross a second, so each trace's session time reads
    // 10 ± 3 s. Without the allowance for that, these ten pairs scored 0.36–0.73 (mean 0.55);
    // with it 0.81–1 (mean 0.96).
    const scores: number[] = [];
    for (let s = 1; s <= 20; s += 2) {
      const r = await run(
        shortSessions(s, { count: 240, lengthUs: 40_000, clockUs: 1_000_000 }),
        shortSessions(s + 1, { count: 240, lengthUs: 40_000, clockUs: 1 }),
      );
      scores.push(scoreOf(r, 'concurrency'));
    }
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    expect(mean).toBeGreaterThanOrEqual(0.9);
    expect(Math.min(...scores)).toBeGreaterThanOrEqual(0.78);
  });

  it('sessions three times as long still score concurrency < 0.6 on that clock', async () => {
    const r = await run(
      shortSessions(3, { count: 240, lengthUs: 40_000, clockUs: 1_000_000 }),
      shortSessions(4, { count: 240, lengthUs: 120_000, clockUs: 1 }),
    );
    // 0.43: 29 session-seconds against 10, of which the clock explains about 8
    expect(scoreOf(r, 'concurrency')).toBeLessThan(0.6);
  });

  it('on an exact clock the allowance is nil: a 10 % longer session time still costs 0.09', async () => {
    const a = shortSessions(5, { count: 240, lengthUs: 1_000_000, clockUs: 1 });
    const b = shortSessions(5, { count: 240, lengthUs: 1_100_000, clockUs: 1 });
    const r = await validateTraces(
      { header: header(1), catalog: templates, events: a },
      { header: header(1), catalog: templates, events: b },
      { createdAt: '2026-01-01T00:00:00.000Z' },
    );
    expect(scoreOf(r, 'concurrency')).toBeGreaterThan(0.905);
    expect(scoreOf(r, 'concurrency')).toBeLessThan(0.915);
  });
});

/** Feeds per-window counts (window i gets counts[i] events) to a WindowCounter of 1 ms windows. */
function counter(counts: readonly number[], sizeUs = 1000): WindowCounter {
  const w = new WindowCounter(sizeUs);
  counts.forEach((c, i) => {
    for (let k = 0; k < c; k++) w.add(i * sizeUs + (k * sizeUs) / (c + 1));
  });
  w.finish();
  return w;
}

function poissonCount(rng: Rng, mean: number): number {
  // Knuth: product of uniforms (small means only)
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rng.next();
  while (p > limit) {
    k++;
    p *= rng.next();
  }
  return k;
}

describe('WindowCounter.vmrEstimate (issue 13)', () => {
  it('for Poisson counts, Var(ln VMR) ≈ 2/n (within 30 %)', () => {
    const rng = createRng(13);
    for (const n of [400, 2000]) {
      const counts = Array.from({ length: n }, () => poissonCount(rng, 8));
      // first and last windows hold events (so the window count is exactly n)
      counts[0] = Math.max(1, counts[0] as number);
      counts[n - 1] = Math.max(1, counts[n - 1] as number);
      const w = counter(counts);
      expect(w.windows).toBe(n);
      const e = w.vmrEstimate(10);
      expect(e).not.toBeNull();
      if (e === null) return;
      expect(e.vmr).toBeGreaterThan(0.8);
      expect(e.vmr).toBeLessThan(1.2);
      expect(e.logVariance / (2 / n)).toBeGreaterThan(0.7);
      expect(e.logVariance / (2 / n)).toBeLessThan(1.3);
    }
  });

  it('is larger for autocorrelated counts of the same marginal', () => {
    const rng = createRng(14);
    const n = 2000;
    const iid = Array.from({ length: n }, () => 1 + poissonCount(rng, 8));
    // the same values with each one held for 4 windows: lag-1 correlation ≈ 0.75
    const held = Array.from(
      { length: n },
      (_, i) => iid[Math.floor(i / 4)] as number,
    );
    const a = counter(iid).vmrEstimate(10);
    const b = counter(held).vmrEstimate(10);
    expect(a).not.toBeNull();
    expect(b).not.toBeNull();
    if (a === null || b === null) return;
    expect(b.logVariance).toBeGreaterThan(2 * a.logVariance);
  });

  it('merges a long idle gap (> RING empty windows) in bulk to the same moments as one at a time', () => {
    const rng = createRng(15);
    const gap = WindowCounter.RING * 3 + 17;
    const counts = [
      ...Array.from({ length: 300 }, () => 1 + poissonCount(rng, 5)),
      ...Array.from({ length: gap }, () => 0),
      ...Array.from({ length: 200 }, () => 1 + poissonCount(rng, 3)),
    ];
    const w = counter(counts);
    expect(w.windows).toBe(counts.length);
    const e = w.vmrEstimate(10);
    expect(e).not.toBeNull();
    if (e === null) return;

    // the same formula from moments computed directly over every window, zeros included
    const n = counts.length;
    const mean = counts.reduce((s, c) => s + c, 0) / n;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    let lag = 0;
    counts.forEach((c, i) => {
      const d = c - mean;
      m2 += d * d;
      m3 += d * d * d;
      m4 += d * d * d * d;
      if (i > 0) lag += c * (counts[i - 1] as number);
    });
    const v = m2 / n;
    const kurtosis = m4 / n / (v * v);
    const perWindow =
      kurtosis - 1 + v / (mean * mean) - (2 * (m3 / n)) / (v * mean);
    const rho = (lag / (n - 1) - mean * mean) / v;
    const r2 = Math.min(0.99, Math.max(0, rho) ** 2);
    const effective = (n * (1 - r2)) / (1 + r2);
    expect(e.vmr).toBeCloseTo(v / mean, 9);
    expect(e.logVariance).toBeCloseTo(perWindow / effective, 9);
  });
});
