import type { TraceEvent, TraceRecord } from '@stb/core';
import { generateTrace } from '@stb/generator';
import type { GenerateTraceOptions } from '@stb/generator';
import type { ModelArtifact } from '@stb/models';
import { fitMarkov, pooledTrace, runOrder } from './helpers/workload';

// The think-time coupling (docs/models.md "Think-time coupling"): a shared process moves every
// session's think-time ranks together while each think time keeps its learned distribution.

let plain: ModelArtifact;
let coupled: ModelArtifact;
beforeAll(async () => {
  // 4 long-lived connections running closed loops (pgbench without -R)
  plain = await fitMarkov(pooledTrace({ connections: 4, perSecond: 100 }), {
    unitDispatch: 'off',
  });
  const lags = [1, 2, 4, 8, 16, 32, 64];
  // normal scores of unit variance correlated 0.5 across sessions up to 32 draws apart, none
  // further: ρ² 0.52, φ 0.97 (a correlation time of about 32 draws)
  coupled = {
    ...plain,
    sessions: {
      ...plain.sessions,
      coupling: {
        lags,
        sums: lags.map((l) => (l <= 32 ? 5000 : 0)),
        pairs: lags.map(() => 10_000),
        gaps: 10_000,
        sum: 0,
        sumSquares: 10_000,
      },
    },
  };
});

async function events(
  artifact: ModelArtifact,
  options: GenerateTraceOptions,
): Promise<TraceEvent[]> {
  const out: TraceEvent[] = [];
  for await (const r of generateTrace(
    artifact,
    options,
  ) as AsyncIterable<TraceRecord>)
    if (r.kind === 'event') out.push(r);
  return out;
}

/** Mean gap between consecutive statements of a session, µs. */
function meanThinkUs(es: TraceEvent[]): number {
  const last = new Map<string, number>();
  let sum = 0;
  let n = 0;
  for (const e of es) {
    const p = last.get(e.sessionId);
    if (p !== undefined) {
      sum += e.startUs - p;
      n++;
    }
    last.set(e.sessionId, e.startUs);
  }
  return sum / n;
}

function vmr(es: TraceEvent[], windowUs: number): number {
  const t0 = es[0]?.startUs ?? 0;
  const n = Math.floor(((es[es.length - 1]?.startUs ?? 0) - t0) / windowUs) + 1;
  const c = new Array<number>(n).fill(0);
  for (const e of es) {
    const i = Math.floor((e.startUs - t0) / windowUs);
    c[i] = (c[i] as number) + 1;
  }
  const m = es.length / n;
  return c.reduce((x, y) => x + (y - m) ** 2, 0) / (n - 1) / m;
}

/**
 * Correlation between sessions of the statement counts per `windowUs`: the mean over pairs of
 * sessions of the Pearson correlation of their counts.
 */
function crossSessionCorrelation(es: TraceEvent[], windowUs: number): number {
  const t0 = es[0]?.startUs ?? 0;
  const t1 = es[es.length - 1]?.startUs ?? 0;
  const n = Math.floor((t1 - t0) / windowUs) + 1;
  const counts = new Map<string, number[]>();
  for (const e of es) {
    let c = counts.get(e.sessionId);
    if (!c) counts.set(e.sessionId, (c = new Array<number>(n).fill(0)));
    const i = Math.floor((e.startUs - t0) / windowUs);
    c[i] = (c[i] as number) + 1;
  }
  const series = [...counts.values()].filter(
    (c) => c.reduce((a, b) => a + b, 0) > 100,
  );
  const corr = (a: number[], b: number[]): number => {
    const ma = a.reduce((x, y) => x + y, 0) / n;
    const mb = b.reduce((x, y) => x + y, 0) / n;
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = 0; i < n; i++) {
      const da = (a[i] as number) - ma;
      const db = (b[i] as number) - mb;
      ab += da * db;
      aa += da * da;
      bb += db * db;
    }
    return ab / Math.sqrt(aa * bb);
  };
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < series.length; i++)
    for (let j = i + 1; j < series.length; j++) {
      sum += corr(series[i] as number[], series[j] as number[]);
      pairs++;
    }
  return sum / pairs;
}

describe('think-time coupling', () => {
  it('keeps the think times and the rate, and makes sessions move together', async () => {
    const o = { seed: 4, durationUs: 30_000_000 };
    const a = await events(plain, o);
    const b = await events(coupled, o);
    // the same distribution of think times: the mean within 5 % (seed 4: 0.975, statements
    // 1.025; over 120 s of the \sleep fixture's model, coupled and not, 0.9 % apart)
    expect(meanThinkUs(b) / meanThinkUs(a)).toBeGreaterThan(0.95);
    expect(meanThinkUs(b) / meanThinkUs(a)).toBeLessThan(1.05);
    expect(b.length / a.length).toBeGreaterThan(0.95);
    expect(b.length / a.length).toBeLessThan(1.05);
    // sessions' statements per 100 ms correlate across sessions only when coupled
    const ca = crossSessionCorrelation(a, 100_000);
    const cb = crossSessionCorrelation(b, 100_000);
    // seed 4: 0.07 → 0.49, and the 100-ms variance-to-mean ratio of all statements 1.4 → 4.3
    expect(Math.abs(ca)).toBeLessThan(0.1);
    expect(cb).toBeGreaterThan(0.3);
    expect(vmr(b, 100_000)).toBeGreaterThan(2 * vmr(a, 100_000));
  });

  it('is deterministic, and shards still merge into the sequential run', async () => {
    const o = { seed: 8, durationUs: 10_000_000 };
    const all = await events(coupled, o);
    expect(await events(coupled, o)).toEqual(all);
    const s0 = await events(coupled, { ...o, shard: { index: 0, count: 2 } });
    const s1 = await events(coupled, { ...o, shard: { index: 1, count: 2 } });
    expect(s0.length).toBeGreaterThan(0);
    expect(s1.length).toBeGreaterThan(0);
    expect(runOrder([...s0, ...s1])).toEqual(runOrder(all));
  });
});
