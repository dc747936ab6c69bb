import type { BenchResult } from '@stb/core';
import { nothingMeasured } from './bench';

/** The fields of a result `nothingMeasured` reads; the rest does not matter here. */
function result(over: {
  count?: number;
  status?: BenchResult['status'];
  stopReason?: string;
  ran?: number;
  warmupSeconds?: number;
  readOnly?: number;
  notRun?: number;
  gaveUp?: number;
}): BenchResult {
  return {
    status: over.status ?? 'completed',
    ...(over.stopReason === undefined ? {} : { stopReason: over.stopReason }),
    warmupSeconds: over.warmupSeconds ?? 0,
    overall: { count: over.count ?? 0 },
    skipped: { readOnly: over.readOnly ?? 0, notRun: over.notRun ?? 0 },
    sessions: {
      total: 2,
      completed: 2 - (over.gaveUp ?? 0),
      aborted: over.gaveUp ?? 0,
      gaveUp: over.gaveUp ?? 0,
    },
    client: { queries: over.ran ?? 0 },
    faults: { reconnects: 0, workerCrashes: 0, incidents: [] },
  } as unknown as BenchResult;
}

/** Options of a replay run, with `over`. */
const opts = (
  over: Omit<Parameters<typeof nothingMeasured>[1], 'mode'> & {
    mode?: 'replay' | 'closed' | 'open';
  } = {},
): Parameters<typeof nothingMeasured>[1] => ({ mode: 'replay', ...over });

describe('nothingMeasured', () => {
  it('says nothing for a run that measured statements, a dry run, a signal, a lost target, sessions that gave up or a failure', () => {
    expect(
      nothingMeasured(result({ count: 3, ran: 3 }), opts()),
    ).toBeUndefined();
    expect(nothingMeasured(result({}), opts({ dryRun: true }))).toBeUndefined();
    expect(
      nothingMeasured(
        result({ status: 'stopped', stopReason: 'signal' }),
        opts(),
      ),
    ).toBeUndefined();
    expect(
      nothingMeasured(result({ status: 'failed' }), opts()),
    ).toBeUndefined();
    // the target-lost line says what happened, and the result is written
    expect(
      nothingMeasured(
        result({ status: 'stopped', stopReason: 'target lost' }),
        opts(),
      ),
    ).toBeUndefined();
    // so does the line of sessions that gave up connecting (a full server does not stop the run)
    expect(nothingMeasured(result({ gaveUp: 2 }), opts())).toBeUndefined();
  });

  it('names the warm-up and what ended the run', () => {
    expect(
      nothingMeasured(
        result({ ran: 40, warmupSeconds: 10 }),
        opts({ warmup: 10 }),
      ),
    ).toMatch(
      /all 40 statements ran in the 10 s warm-up .* before the trace ended/,
    );
    expect(
      nothingMeasured(
        result({ ran: 20, warmupSeconds: 10 }),
        opts({ warmup: 10, maxQueries: 20 }),
      ),
    ).toMatch(/before --max-queries \(20\) ended/);
    expect(
      nothingMeasured(
        result({
          ran: 9,
          warmupSeconds: 10,
          status: 'stopped',
          stopReason: 'duration',
        }),
        opts({ warmup: 10, duration: 1 }),
      ),
    ).toMatch(/before --duration ended/);
  });

  it('names --read-only when it skipped every statement, and the rate of an open loop', () => {
    expect(nothingMeasured(result({ readOnly: 12 }), opts())).toMatch(
      /--read-only skipped all 12 statements/,
    );
    expect(
      nothingMeasured(
        result({ status: 'stopped', stopReason: 'duration' }),
        opts({ mode: 'open', rate: 0.001, duration: 2 }),
      ),
    ).toMatch(
      /--rate 0.001\/s and --duration 2 s\. Raise --rate or --duration/,
    );
  });
});
