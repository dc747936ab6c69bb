import path from 'node:path';
import type { BenchResult } from '@stb/core';
import type { DbPlugin, DbSession } from '../src/db-plugin';
import { guardedConnect } from '../src/internal/plugin-deadline';
import type { BenchOptions } from '../src/runner';
import { runBench } from '../src/runner';
import type { PluginDescriptor } from '../src/target';
import { TraceBuilder, template } from './helpers/trace';

// A third-party plugin without a statement deadline of its own (no `capabilities.ownDeadline`):
// the runner puts its own around each statement. Until 2026-12-06 a statement that such a plugin
// never settled held its session, and a run without --duration, for ever (each case here hung).
// tests/fixtures/hang-plugin.cjs: `HANG` never settles unless the plugin's cancel ends it.

const MODULE = path.resolve(__dirname, 'fixtures/hang-plugin.cjs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const hangPlugin = (require(MODULE) as { plugin: DbPlugin }).plugin;

function target(options: Record<string, boolean | string>): PluginDescriptor {
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
  options: Record<string, boolean | string>,
  extra: Partial<BenchOptions> = {},
): Promise<{ r: BenchResult; ms: number }> {
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

/** The run completed, the hung statement counted as the one error (class timeout), the rest ran. */
function expectOneTimeout(r: BenchResult, reconnects: number): void {
  expect(r.status).toBe('completed');
  expect(r.overall.count).toBe(5);
  expect(r.overall.errors).toBe(1);
  expect(r.templates.find((t) => t.templateId === hang.id)).toMatchObject({
    count: 1,
    errors: 1,
    errorsByClass: { timeout: 1 },
  });
  expect(r.templates.find((t) => t.templateId === sel.id)).toMatchObject({
    count: 4,
    errors: 0,
  });
  expect(r.faults.reconnects).toBe(reconnects);
}

describe('the statement deadline the runner gives a plugin without one of its own', () => {
  it.each([
    ['inline', 0],
    ['in a worker thread', 1],
  ])(
    'a statement that never settles ends as a lost connection of class timeout; the session reconnects and runs the rest (%s)',
    async (_where, workers) => {
      const { r, ms } = await run({}, { workers });
      expectOneTimeout(r, 1);
      // the deadline (300 ms), the connection given up at once (no cancel), then the grace (1 s)
      expect(ms).toBeGreaterThanOrEqual(1300);
      expect(ms).toBeLessThan(8000);
    },
    20_000,
  );

  it('cancels it through the plugin when it can: class timeout, the connection kept', async () => {
    const { r, ms } = await run({ cancellable: true });
    expectOneTimeout(r, 0);
    expect(ms).toBeLessThan(8000);
  }, 20_000);

  it('does not wait on a close that never settles', async () => {
    const { r, ms } = await run({ closeHangs: true });
    expect(r.status).toBe('completed');
    expect(r.overall.count).toBe(5);
    expect(r.overall.errors).toBe(1);
    expect(ms).toBeLessThan(10_000);
  }, 20_000);

  it.each([
    ['with an error of its own', 'outcome'],
    ['by throwing', 'throw'],
  ])(
    'a statement the plugin ends %s once its connection is given up still counts as one timeout, and the next one runs on a new connection',
    async (_how, closeEnds) => {
      const { r } = await run({ closeEnds });
      expectOneTimeout(r, 1);
    },
    20_000,
  );

  it('fails a dry run whose prepare hangs, naming the template, rather than count the rest as failed', async () => {
    await expect(run({}, { dryRun: true })).rejects.toMatchObject({
      code: 'STB_DB_UNREACHABLE',
      message: expect.stringMatching(
        new RegExp(
          `^\\[stb\\] \\[bench\\] The connection to the target was lost during the dry run, preparing template ${hang.id}: .*\\. 1 templates were checked before it; the rest were not\\.$`,
        ),
      ) as unknown,
    });
  }, 20_000);

  it('refuses a statementTimeoutMs that is not a positive number', async () => {
    await expect(run({}, { statementTimeoutMs: 0 })).rejects.toMatchObject({
      code: 'STB_OPTIONS_INVALID',
    });
  });
});

it('refuses statementTimeoutMs for a plugin that bounds its statements itself', async () => {
  await expect(
    runBench(trace(), {
      target: 'sqlite::memory:',
      statementTimeoutMs: 1000,
    }),
  ).rejects.toMatchObject({
    code: 'STB_OPTIONS_INVALID',
    message:
      '[stb] [bench] The sqlite plugin bounds its statements itself, so `statementTimeoutMs` (--statement-timeout) would have no effect: for a PostgreSQL or MySQL target, set ?query_timeout=<ms> in its URL.',
  });
});

describe('guardedConnect', () => {
  const limits = { statementTimeoutMs: 300, connectTimeoutMs: 300 };

  it('fails a connect attempt that does not settle in time, with one [stb] line', async () => {
    const open = guardedConnect(
      hangPlugin,
      () => new Promise(() => undefined),
      limits,
    );
    const t0 = performance.now();
    await expect(open()).rejects.toMatchObject({
      code: 'STB_DB_UNREACHABLE',
      message:
        "[stb] [db:hang-test] The plugin's connect did not settle within 300 ms.",
    });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('closes a connection that opens after its attempt was given up', async () => {
    let closed = false;
    const late: DbSession = {
      execute: () => Promise.resolve({ ok: true, rows: 1 }),
      close: () => {
        closed = true;
        return Promise.resolve();
      },
      [Symbol.asyncDispose]: () => Promise.resolve(),
    };
    const open = guardedConnect(
      hangPlugin,
      () => new Promise((resolve) => setTimeout(resolve, 500, late)),
      limits,
    );
    await expect(open()).rejects.toMatchObject({ code: 'STB_DB_UNREACHABLE' });
    expect(closed).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    expect(closed).toBe(true);
  });

  it('bounds serverVersion: one that never settles fails after 5 s, and the session still runs statements', async () => {
    const inner: DbSession = {
      execute: () => Promise.resolve({ ok: true, rows: 1 }),
      serverVersion: () => new Promise<string>(() => undefined),
      close: () => Promise.resolve(),
      [Symbol.asyncDispose]: () => Promise.resolve(),
    };
    const s = await guardedConnect(
      hangPlugin,
      () => Promise.resolve(inner),
      limits,
    )();
    const t0 = performance.now();
    await expect(s.serverVersion?.()).rejects.toThrow(
      'no server version within 5000 ms',
    );
    expect(performance.now() - t0).toBeGreaterThanOrEqual(4900);
    const q = {
      templateId: sel.id,
      text: sel.text,
      params: [],
      queryType: 'SELECT',
    } as const;
    expect(await s.execute(q)).toMatchObject({ ok: true });
    await s.close();
  }, 15_000);

  it('leaves a plugin that declares a deadline of its own as it is', async () => {
    const own: DbPlugin = {
      ...hangPlugin,
      capabilities: { ...hangPlugin.capabilities, ownDeadline: true },
    };
    const session = {
      execute: () => Promise.resolve({ ok: true, rows: 1 }),
    } as unknown as DbSession;
    const open = (): Promise<DbSession> => Promise.resolve(session);
    expect(guardedConnect(own, open, limits)).toBe(open);
    expect(await guardedConnect(hangPlugin, open, limits)()).not.toBe(session);
  });
});
