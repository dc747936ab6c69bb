import { BenchResult } from '@stb/core';
import { runBench } from '../src/runner';
import { TraceBuilder, template } from './helpers/trace';

// The whole run's time windows (`overall.latencyWindows`) on a real in-memory SQLite run: every
// measured execution is in exactly one window, the windows are equal and there are at most 64.
describe('latencyWindows of a run', () => {
  it('holds every measured execution of the whole run, in at most 64 equal windows', async () => {
    const select = template('postgres', 'SELECT $1 + 1', 'SELECT');
    const pause = template(
      'postgres',
      'WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $1) SELECT count(*) FROM c',
      'SELECT',
    );
    const b = new TraceBuilder('postgres');
    for (let i = 0; i < 3000; i++) {
      b.add(`s${i % 3}`, select, [{ t: 'int', v: i }]);
      if (i % 10 === 0) b.add(`s${i % 3}`, pause, [{ t: 'int', v: 2000 }]);
    }
    const r = BenchResult.parse(
      JSON.parse(
        JSON.stringify(
          await runBench(b.trace(), {
            target: 'sqlite::memory:',
            mode: 'closed',
          }),
        ),
      ),
    );
    const w = r.overall.latencyWindows;
    expect(w).toBeDefined();
    if (!w) return;
    expect(Math.log2(w.widthMs) % 1).toBe(0); // 1 ms × a power of two
    expect(w.windows.length).toBeGreaterThan(0);
    expect(w.windows.length).toBeLessThanOrEqual(64);
    const total = w.windows.flat().reduce((a, [, n]) => a + n, 0);
    expect(total).toBe(r.overall.count);
    // the run lasted about as long as its windows (the last one may be cut short)
    expect(w.windows.length * w.widthMs).toBeGreaterThanOrEqual(
      r.durationSeconds * 1000 - w.widthMs,
    );
    // templates carry no windows (only the whole run's interval uses them)
    expect(r.templates.every((t) => t.latencyWindows === undefined)).toBe(true);
  }, 30_000);
});
