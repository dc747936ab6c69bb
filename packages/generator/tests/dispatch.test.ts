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

async function events(options: GenerateTraceOptions): Promise<TraceEvent[]> {
  const out: TraceEvent[] = [];
  for await (const r of generateTrace(
    artifact,
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
