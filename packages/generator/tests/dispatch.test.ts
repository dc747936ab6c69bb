import type { TraceEvent, TraceRecord } from '@stb/core';
import type { ModelArtifact } from '@stb/models';
import { generateTrace } from '@stb/generator';
import type { GenerateTraceOptions } from '@stb/generator';
import {
  TPCB,
  pooledArtifact,
  pooledTrace,
  runOrder,
} from './helpers/workload';

// A pool fed by one shared schedule (pgbench -R): the model must learn to dispatch units to free
// connections, and the generated unit starts must keep the source's Poisson burstiness, which
// per-connection think times lose (four renewal loops superpose to a far more regular process).

let artifact: ModelArtifact;
beforeAll(async () => {
  artifact = await pooledArtifact();
});

async function events(
  options: GenerateTraceOptions,
  from = artifact,
): Promise<TraceEvent[]> {
  const out: TraceEvent[] = [];
  for await (const r of generateTrace(
    from,
    options,
  ) as AsyncIterable<TraceRecord>)
    if (r.kind === 'event') out.push(r);
  return out;
}

/** Variance-to-mean ratio of BEGINs per window. */
function vmr(es: TraceEvent[], windowUs: number): number {
  const begins = es
    .filter((e) => e.templateId === TPCB.begin.id)
    .map((e) => e.startUs);
  const t0 = Math.min(...begins);
  const n = Math.floor((Math.max(...begins) - t0) / windowUs);
  const counts = new Array<number>(n).fill(0);
  for (const t of begins) {
    const w = Math.floor((t - t0) / windowUs);
    if (w < n) counts[w] = (counts[w] as number) + 1;
  }
  const mean = counts.reduce((a, b) => a + b, 0) / n;
  const variance = counts.reduce((a, c) => a + (c - mean) ** 2, 0) / n;
  return variance / mean;
}

describe('dispatched units', () => {
  it('learns that the pool takes units from one schedule', () => {
    const pool = artifact.sessions.classes.find((c) => c.pool.count === 4);
    expect(pool?.units?.mode).toBe('dispatch');
  });

  it('keeps the rate and the burstiness of the shared schedule', async () => {
    const source = pooledTrace().events;
    const generated = await events({ seed: 4, durationUs: 30_000_000 });
    const begins = (es: TraceEvent[]) =>
      es.filter((e) => e.templateId === TPCB.begin.id).length;
    expect(begins(generated) / begins(source)).toBeGreaterThan(0.9);
    expect(begins(generated) / begins(source)).toBeLessThan(1.1);
    const v = vmr(generated, 200_000);
    const vs = vmr(source, 200_000);
    expect(vs).toBeGreaterThan(0.6); // Poisson-like source
    expect(v / vs).toBeGreaterThan(0.6);
    expect(v / vs).toBeLessThan(1.6);
    expect(new Set(generated.map((e) => e.sessionId)).size).toBe(4);
  });

  it('shards still merge into the sequential run', async () => {
    const o = { seed: 9, durationUs: 5_000_000 };
    const all = await events(o);
    const s0 = await events({ ...o, shard: { index: 0, count: 2 } });
    const s1 = await events({ ...o, shard: { index: 1, count: 2 } });
    expect(s0.length).toBeGreaterThan(0);
    expect(s1.length).toBeGreaterThan(0);
    expect(runOrder([...s0, ...s1])).toEqual(runOrder(all));
  });
});

/** Share of the BEGINs (unit starts) in the first `share` of the span of all events. */
function earlyShare(es: TraceEvent[], share: number): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const e of es) {
    if (e.startUs < lo) lo = e.startUs;
    if (e.startUs > hi) hi = e.startUs;
  }
  const begins = es.filter((e) => e.templateId === TPCB.begin.id);
  const cut = lo + share * (hi - lo);
  return begins.filter((e) => e.startUs < cut).length / begins.length;
}

describe('dispatched units: rate profile (issue 13)', () => {
  const SPAN_US = 30_000_000;
  const RAMP = { share: 0.3, perSecond: 5 };
  let ramp: ModelArtifact;
  beforeAll(async () => {
    // 5 units/s over the first 30 % of the capture, then 100/s (a monitor polls from its start)
    ramp = await pooledArtifact({ ramp: RAMP });
  });

  it('a stationary schedule gets no profile', () => {
    const pool = artifact.sessions.classes.find((c) => c.pool.count === 4);
    expect(pool?.units).toBeDefined();
    expect(pool?.units?.profile).toBeUndefined();
  });

  it('a class whose schedule ramps up keeps its unit starts per 24th of the capture', () => {
    const source = pooledTrace({ ramp: RAMP }).events;
    expect(earlyShare(source, 0.3)).toBeLessThan(0.03);
    const pool = ramp.sessions.classes.find((c) => c.pool.count === 4);
    expect(pool?.units?.mode).toBe('dispatch');
    const profile = pool?.units?.profile;
    expect(profile).toBeDefined();
    expect(profile?.counts).toHaveLength(24);
    // the first 7 of 24 buckets (29 %) hold a few units each, the rest near 2100 / 17
    const counts = profile?.counts ?? [];
    expect(Math.max(...counts.slice(0, 7))).toBeLessThan(20);
    expect(Math.min(...counts.slice(8))).toBeGreaterThan(90);
  });

  it('the generated trace starts its units where the source did (duration and count stops)', async () => {
    const byDuration = await events({ seed: 5, durationUs: SPAN_US }, ramp);
    expect(earlyShare(byDuration, 0.3)).toBeLessThanOrEqual(0.05);
    const sourceEvents = pooledTrace({ ramp: RAMP }).events.length;
    const byCount = await events({ seed: 6, count: sourceEvents }, ramp);
    expect(earlyShare(byCount, 0.3)).toBeLessThanOrEqual(0.05);
    // the rate past the quiet phase is the source's
    const begins = (es: TraceEvent[]) =>
      es.filter((e) => e.templateId === TPCB.begin.id).length;
    const source = begins(pooledTrace({ ramp: RAMP }).events);
    expect(begins(byDuration) / source).toBeGreaterThan(0.85);
    expect(begins(byDuration) / source).toBeLessThan(1.15);
  });
});

describe('dispatched units: a connection opens with a unit of the schedule (issue 13)', () => {
  // 20 pooled connections carrying 100 units/s over 4 s: each connection opens with a unit, and
  // that unit is one of the schedule's. Counted on top of the schedule, the opening units made
  // the run's first moments too busy (pgbench -c 60 -R 150: +5 % statements/s over 8 s); here
  // that was 1.08× the source's units and 42 instead of 21 in the first 200 ms (5 seeds' means).
  it('keeps the source rate when many connections open at once', async () => {
    const o = { connections: 20, perSecond: 100, seconds: 4 };
    const source = pooledTrace(o).events;
    const many = await pooledArtifact(o);
    expect(many.sessions.classes[0]?.units?.mode).toBe('dispatch');
    const begins = (es: TraceEvent[], withinUs = Infinity): number => {
      const t0 = Math.min(...es.map((e) => e.startUs));
      return es.filter(
        (e) => e.templateId === TPCB.begin.id && e.startUs < t0 + withinUs,
      ).length;
    };
    let ratio = 0;
    let early = 0;
    const seeds = [1, 2, 3, 4, 5];
    for (const seed of seeds) {
      const generated = await events({ seed, durationUs: 4_000_000 }, many);
      ratio += begins(generated) / begins(source) / seeds.length;
      early += begins(generated, 200_000) / seeds.length;
    }
    expect(ratio).toBeGreaterThan(0.95);
    expect(ratio).toBeLessThan(1.05);
    expect(begins(source, 200_000)).toBe(21);
    expect(early).toBeLessThan(37);
  });
});
