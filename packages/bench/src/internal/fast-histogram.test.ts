import { Histogram, Registry } from 'prom-client';
import { createRng } from '@stb/core';
import { LATENCY_BUCKETS_SECONDS } from '../metrics';
import { FastHistogram } from './fast-histogram';

/** Metric lines with labels in a canonical order, so both renderings compare as sets. */
function canonical(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) =>
      l.replace(
        /\{([^}]*)\}/,
        (_, body: string) => `{${body.split(',').sort().join(',')}}`,
      ),
    )
    .sort();
}

describe('FastHistogram', () => {
  it("renders exactly what prom-client's Histogram renders for the same observations", async () => {
    const fastRegistry = new Registry();
    const refRegistry = new Registry();
    const config = {
      name: 'x_seconds',
      help: 'test',
      labelNames: ['template', 'query_type'] as const,
      buckets: LATENCY_BUCKETS_SECONDS,
    };
    const fast = new FastHistogram({ ...config, registers: [fastRegistry] });
    const ref = new Histogram({
      ...config,
      labelNames: [...config.labelNames],
      registers: [refRegistry],
    });
    const rng = createRng(5);
    const series = [
      ['a1', 'SELECT'],
      ['b2', 'INSERT'],
      ['other', 'SELECT'],
    ] as const;
    for (let i = 0; i < 5000; i++) {
      const [t, q] = series[rng.int(series.length)] as readonly [
        string,
        string,
      ];
      // exact bucket bounds too: `le` is inclusive
      const v =
        rng.next() < 0.1
          ? (LATENCY_BUCKETS_SECONDS[
              rng.int(LATENCY_BUCKETS_SECONDS.length)
            ] as number)
          : Math.exp(rng.next() * 14 - 11);
      fast.labels(t, q).observe(v);
      ref.labels(t, q).observe(v);
    }
    const a = canonical(await fastRegistry.metrics());
    const b = canonical(await refRegistry.metrics());
    // same values in the same order: even the float sums agree
    expect(a).toEqual(b);
    expect(a.filter((l) => l.startsWith('x_seconds_count'))).toHaveLength(3);
    fast.reset();
    expect(await fastRegistry.metrics()).toMatch(
      /x_seconds_count\{[^}]*\} 0\n/,
    );
  });
});
