import type { BenchResult } from './bench-result';
import { clientLimits, lagShare } from './client-limits';

/** The parts of a result the signs read: mean latency and lag, and the client block. */
function result(o: {
  latencyMean: number;
  lagMean?: number;
  busy?: number;
  wait?: number;
}): BenchResult {
  return {
    overall: { latencyMs: { mean: o.latencyMean } },
    ...(o.lagMean === undefined
      ? {}
      : { scheduleLagMs: { mean: o.lagMean, count: 10 } }),
    ...(o.busy === undefined
      ? {}
      : {
          client: {
            busiestThreadShare: o.busy,
            ...(o.wait === undefined ? {} : { cpuWaitShare: o.wait }),
          },
        }),
  } as unknown as BenchResult;
}

describe('clientLimits', () => {
  it('names nothing for a run the client kept up with, or without the fields', () => {
    expect(clientLimits(result({ latencyMean: 1 }))).toEqual([]);
    expect(
      clientLimits(
        result({ latencyMean: 1, lagMean: 0.2, busy: 0.85, wait: 0.099 }),
      ),
    ).toEqual([]);
  });

  it('names each sign past its threshold, with its share', () => {
    expect(
      clientLimits(
        result({ latencyMean: 1, lagMean: 0.5, busy: 0.9, wait: 0.1 }),
      ),
    ).toEqual([
      { kind: 'lag', share: 0.5 },
      { kind: 'busy', share: 0.9 },
      { kind: 'cpu-wait', share: 0.1 },
    ]);
    expect(
      clientLimits(result({ latencyMean: 2, busy: 0.2, wait: 0.4 })),
    ).toEqual([{ kind: 'cpu-wait', share: 0.4 }]);
  });

  it('lag share is of the mean latency, at most 1, undefined without lag', () => {
    expect(lagShare(result({ latencyMean: 4, lagMean: 1 }))).toBe(0.25);
    expect(lagShare(result({ latencyMean: 1, lagMean: 3 }))).toBe(1);
    expect(lagShare(result({ latencyMean: 1 }))).toBeUndefined();
    expect(lagShare(result({ latencyMean: 0, lagMean: 1 }))).toBeUndefined();
  });
});
