import path from 'node:path';
import { Registry } from 'prom-client';
import { BenchResult, hash32, mix32 } from '@stb/core';
import { runBench } from '../src/runner';
import type { PluginDescriptor } from '../src/target';
import { TraceBuilder, template } from './helpers/trace';

// A plugin module used only here: `CRASH exit` calls process.exit in the worker thread,
// `CRASH throw` throws an uncaught exception there (tests/fixtures/crash-plugin.cjs).
const descriptor: PluginDescriptor = {
  // an absolute path: `import()` in the worker and `require` under jest both take it
  module: path.resolve(__dirname, 'fixtures/crash-plugin.cjs'),
  exportName: 'plugin',
  options: { delayMs: 1 },
  name: 'crash-test',
  dialect: 'postgres',
  display: 'crash-test:',
};

const work = template('postgres', 'SELECT $1::int', 'SELECT');
const SESSIONS = 12;
const PER_SESSION = 30;
/** The lane (worker) the runner assigns a session to, with 2 workers. */
const laneOf = (sid: string): number => mix32(hash32(sid), 0x2545f491) % 2;

describe('a worker crash', () => {
  it.each(['exit', 'throw'])(
    'is reported and its sessions are accounted for (CRASH %s)',
    async (how) => {
      const crash = template('postgres', `CRASH ${how}`, 'SELECT');
      const ids = Array.from({ length: SESSIONS }, (_, i) => `sess-${i}`);
      const victim = ids.find((s) => laneOf(s) === 0) as string;
      const onHealthy = ids.filter((s) => laneOf(s) === 1);
      expect(onHealthy.length).toBeGreaterThan(0);
      expect(onHealthy.length).toBeLessThan(SESSIONS);
      const b = new TraceBuilder('postgres');
      for (let i = 0; i < PER_SESSION; i++)
        for (const sid of ids)
          b.add(sid, sid === victim && i === 5 ? crash : work, [
            { t: 'int', v: i },
          ]);
      const registry = new Registry();
      const result = await runBench(b.trace(), {
        target: descriptor,
        mode: 'closed',
        workers: 2,
        connections: 4,
        registry,
      });
      expect(BenchResult.parse(result)).toBeTruthy();
      expect(result.faults.workerCrashes).toBe(1);
      const incident = result.faults.incidents.find(
        (x) => x.kind === 'worker-crashed',
      );
      expect(incident?.worker).toBe(0);
      expect(incident?.message).toMatch(
        /Worker 0 crashed .*its \d+ sessions are counted as aborted/,
      );
      // every session of the healthy worker ran to the end; the crashed worker's did not
      expect(result.sessions.total).toBe(SESSIONS);
      expect(result.sessions.completed).toBe(onHealthy.length);
      expect(result.sessions.aborted).toBe(SESSIONS - onHealthy.length);
      // every event is either measured or counted as not run, never lost
      expect(result.overall.count + result.skipped.notRun).toBe(
        SESSIONS * PER_SESSION,
      );
      expect(result.overall.count).toBeGreaterThanOrEqual(
        onHealthy.length * PER_SESSION,
      );
      expect(result.skipped.notRun).toBeGreaterThanOrEqual(PER_SESSION - 5);
      expect(result.templates.map((t) => t.templateId)).not.toContain(crash.id);
      const text = await registry.metrics();
      expect(text).toMatch(/^stb_bench_worker_crashes_total 1$/m);
    },
    60_000,
  );
});

describe('a worker that fails', () => {
  it('hands the main thread its whole error: code, message, details and stack', async () => {
    const b = new TraceBuilder('postgres');
    for (let i = 0; i < 10; i++) b.add(`s${i}`, work, [{ t: 'int', v: i }]);
    const err = await runBench(b.trace(), {
      target: { ...descriptor, options: { failConnectInWorker: true } },
      mode: 'closed',
      connections: 2,
      workers: 2,
    }).then(
      () => null,
      (e: unknown) => e as Error & { code?: string; details?: unknown },
    );
    expect(err).not.toBeNull();
    expect(err?.code).toBe('STB_DB_UNREACHABLE');
    expect(err?.message).toBe(
      '[stb] [db:crash-test] Cannot connect from a worker.',
    );
    expect(err?.details).toEqual({ target: 'crash-test:', where: 'worker' });
    // the stack is the worker's, not one made up in the main thread
    expect(err?.stack).toContain('crash-plugin.cjs');
  }, 30_000);
});
