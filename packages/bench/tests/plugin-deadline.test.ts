import path from 'node:path';
import type { BenchOptions } from '../src/runner';
import { runBench } from '../src/runner';
import type { PluginDescriptor } from '../src/target';
import { TraceBuilder, template } from './helpers/trace';

// A third-party plugin without a statement deadline of its own (no `capabilities.ownDeadline`):
// the runner puts its own around each statement. Until 2026-12-06 a statement that such a plugin
// never settled held its session, and a run without --duration, for ever (each case here hung).
// tests/fixtures/hang-plugin.cjs: `HANG` never settles unless the plugin's cancel ends it.

const MODULE = path.resolve(__dirname, 'fixtures/hang-plugin.cjs');

function target(options: Record<string, boolean>): PluginDescriptor {
  return {
    module: MODULE,
    exportName: 'plugin',
    options,
    name: 'hang-test',
    dialect: 'postgres',
    display: 'hang-test',
  };
}

const sel = template('postgres', 'SELECT $1::int', 'SELECT');
const hang = template('postgres', 'HANG', 'SELECT');

/** One session: two statements, the one that hangs, two more. */
function trace(): ReturnType<TraceBuilder['trace']> {
  const b = new TraceBuilder('postgres');
  b.add('s0', sel, [{ t: 'int', v: 1 }]);
  b.add('s0', sel, [{ t: 'int', v: 2 }]);
  b.add('s0', hang, []);
  b.add('s0', sel, [{ t: 'int', v: 3 }]);
  b.add('s0', sel, [{ t: 'int', v: 4 }]);
  return b.trace();
}

async function run(
  options: Record<string, boolean>,
  extra: Partial<BenchOptions> = {},
): Promise<{ r: Awaited<ReturnType<typeof runBench>>; ms: number }> {
  const t0 = performance.now();
  const r = await runBench(trace(), {
    target: target(options),
    mode: 'closed',
    connections: 1,
    statementTimeoutMs: 300,
    ...extra,
  });
  return { r, ms: performance.now() - t0 };
}

describe('the statement deadline the runner gives a plugin without one of its own', () => {
  it.each([
    ['inline', 0],
    ['in a worker thread', 1],
  ])(
    'a statement that never settles ends as a lost connection of class timeout; the session reconnects and runs the rest (%s)',
    async (_where, workers) => {
      const { r, ms } = await run({}, { workers });
      expect(r.status).toBe('completed');
      expect(r.overall.count).toBe(5);
      expect(r.overall.errors).toBe(1);
      const h = r.templates.find((t) => t.templateId === hang.id);
      expect(h).toMatchObject({
        count: 1,
        errors: 1,
        errorsByClass: { timeout: 1 },
      });
      expect(r.templates.find((t) => t.templateId === sel.id)).toMatchObject({
        count: 4,
        errors: 0,
      });
      expect(r.faults.reconnects).toBe(1);
      // the deadline (300 ms), without a cancel given up at once, then the grace (1 s)
      expect(ms).toBeGreaterThanOrEqual(1300);
      expect(ms).toBeLessThan(8000);
    },
    20_000,
  );

  it('cancels it through the plugin when it can: class timeout, the connection kept', async () => {
    const { r, ms } = await run({ cancellable: true });
    expect(r.status).toBe('completed');
    expect(r.overall.count).toBe(5);
    const h = r.templates.find((t) => t.templateId === hang.id);
    expect(h).toMatchObject({
      count: 1,
      errors: 1,
      errorsByClass: { timeout: 1 },
    });
    expect(r.faults.reconnects).toBe(0);
    expect(ms).toBeLessThan(8000);
  }, 20_000);

  it('does not wait on a close that never settles', async () => {
    const { r, ms } = await run({ closeHangs: true });
    expect(r.status).toBe('completed');
    expect(r.overall.count).toBe(5);
    expect(r.overall.errors).toBe(1);
    expect(ms).toBeLessThan(10_000);
  }, 20_000);

  it('bounds its connect by the reconnect timeout: a reconnect that never settles loses the target', async () => {
    const { r, ms } = await run(
      { connectHangs: true },
      { reconnectTimeoutMs: 600 },
    );
    expect(r.status).toBe('stopped');
    expect(r.stopReason).toBe('target lost');
    expect(r.sessions.aborted).toBe(1);
    const lost = r.faults.incidents.find((i) => i.kind === 'connection-lost');
    expect(lost?.message).toContain(
      "The plugin's connect did not settle within 600 ms.",
    );
    expect(ms).toBeLessThan(10_000);
  }, 20_000);

  it('refuses a statementTimeoutMs that is not a positive number', async () => {
    await expect(run({}, { statementTimeoutMs: 0 })).rejects.toMatchObject({
      code: 'STB_OPTIONS_INVALID',
    });
  });
});
