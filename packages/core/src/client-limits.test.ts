import type { BenchResult } from './bench-result';
import { clientLimitWarning, clientLimits, lagShare } from './client-limits';

/** The parts of a result the signs read: mean latency and lag, and the client block. */
function result(o: {
  latencyMean: number;
  lagMean?: number;
  busy?: number;
  wait?: number;
  queries?: number;
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
            queries: o.queries ?? 100,
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

  it('names nothing for a run that ran no statement (its shares are its start-up)', () => {
    expect(
      clientLimits(result({ latencyMean: 0, busy: 1, wait: 0.5, queries: 0 })),
    ).toEqual([]);
    expect(
      clientLimits(result({ latencyMean: 0, busy: 1, wait: 0.5, queries: 1 })),
    ).toEqual([
      { kind: 'busy', share: 1 },
      { kind: 'cpu-wait', share: 0.5 },
    ]);
  });

  it('lag share is of the mean latency, at most 1, undefined without lag', () => {
    expect(lagShare(result({ latencyMean: 4, lagMean: 1 }))).toBe(0.25);
    expect(lagShare(result({ latencyMean: 1, lagMean: 3 }))).toBe(1);
    expect(lagShare(result({ latencyMean: 1 }))).toBeUndefined();
    expect(lagShare(result({ latencyMean: 0, lagMean: 1 }))).toBeUndefined();
  });

  it('a warning names the run and the signs, and is undefined without them', () => {
    expect(clientLimitWarning(result({ latencyMean: 1 }), 'a.json')).toBe(
      undefined,
    );
    expect(
      clientLimitWarning(
        result({ latencyMean: 1, lagMean: 0.5, busy: 0.2, wait: 0.25 }),
        'b.json',
      ),
    ).toBe(
      "The client limited b.json (schedule lag 50% of the mean latency; a runner thread waiting for a CPU 25% of the run): its figures are partly the load generator's, so a difference may be the client's, not the database's. Give the runner cores of its own and re-run.",
    );
  });
});
