// A transaction the input cuts: the trace ends, or `maxQueries` stops it, while a session is
// inside BEGIN … with its COMMIT never sent. With fewer connections than sessions that session
// held its connection for ever and the sessions waiting for it never ran: `stb bench
// --max-queries 400` on the shared pgbench sample against SQLite (one connection) hung until a
// signal. Now the cut transaction is rolled back and the connection handed on.
import type { BenchResult } from '@stb/core';
import { createBenchRunner } from '../src/runner';
import type { BenchOptions } from '../src/runner';
import { usePgDatabase } from './helpers/db';
import { TraceBuilder, template } from './helpers/trace';

const db = usePgDatabase();

const T = {
  begin: template('postgres', 'BEGIN', 'TCL'),
  commit: template('postgres', 'COMMIT', 'TCL'),
  one: template('postgres', 'SELECT $1::int', 'SELECT'),
};

/** A opens a transaction and runs one statement; B and C run `n` statements each; A's COMMIT comes last. */
function cutTrace(n: number, commit: boolean): TraceBuilder {
  const b = new TraceBuilder('postgres');
  b.add('A', T.begin).add('A', T.one, [{ t: 'int', v: 0 }]);
  for (let i = 0; i < n; i++) {
    b.add('B', T.one, [{ t: 'int', v: i }]);
    b.add('C', T.one, [{ t: 'int', v: i }]);
  }
  if (commit) b.add('A', T.commit);
  return b;
}

async function within(
  trace: TraceBuilder,
  options: BenchOptions,
  ms: number,
): Promise<BenchResult | 'timeout'> {
  const run = createBenchRunner(trace.trace(), options);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const result = await Promise.race([
    run.result,
    new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms))),
  ]);
  clearTimeout(timer);
  if (result === 'timeout') {
    run.stop('duration');
    await run.result;
  }
  return result;
}

describe('a transaction the input cuts', () => {
  it.each([
    ['the trace ends inside it', 'inline', false, undefined, 0],
    ['maxQueries stops before its COMMIT', 'inline', true, 30, 0],
    ['the trace ends inside it', 'a worker', false, undefined, 1],
    ['maxQueries stops before its COMMIT', 'a worker', true, 30, 1],
  ] as const)(
    'PostgreSQL (%s: %s), one connection for three sessions: the others still run and the run completes',
    async (_label, _where, commit, maxQueries, workers) => {
      const url = db.url();
      if (url === null) return;
      const trace = cutTrace(20, commit);
      const r = await within(
        trace,
        {
          target: url,
          mode: 'closed',
          connections: 1,
          workers,
          windowEvents: 8,
          ...(maxQueries === undefined ? {} : { maxQueries }),
        },
        10_000,
      );
      expect(r).not.toBe('timeout');
      if (r === 'timeout') return;
      expect(r.status).toBe('completed');
      expect(r.overall.errors).toBe(0);
      expect(r.overall.count).toBe(maxQueries ?? 42);
      expect(r.skipped.notRun).toBe(0);
    },
    30_000,
  );
});
