import { z } from 'zod';
import type { ExecOutcome } from '../src/bound-query';
import type { DbPlugin, DbSession } from '../src/db-plugin';
import { runBench } from '../src/runner';
import type { PluginDescriptor } from '../src/target';
import { TraceBuilder, template } from './helpers/trace';

// A connection runs one session's statement at a time. A session that went to sleep until its
// next event, due within the schedule's inline wait, was woken from its own `finally` and started
// its next statement on its connection, and that `finally` then gave the connection to the idle
// pool: another session took it while the statement ran. Until 2026-12-06 two sessions so shared
// a connection (pg queued the second statement, and since the statement deadline's change the
// first one's outcome was lost and the run hung: a vs-pgbench run and, in 3 of 8 runs,
// postgres-runtime's metrics test).

/** A plugin whose sessions answer after a 1 ms timer and count any overlap on one connection. */
function overlapProbe(): { plugin: DbPlugin; overlaps: () => number } {
  let overlaps = 0;
  const plugin: DbPlugin = {
    kind: 'db',
    name: 'overlap-probe',
    apiVersion: 1,
    options: z.object({}),
    dialect: 'postgres',
    dependencies: [],
    capabilities: {
      prepared: false,
      transactions: true,
      maxConnections: null,
      cancel: false,
    },
    connect(): Promise<DbSession> {
      let running = false;
      const close = (): Promise<void> => Promise.resolve();
      return Promise.resolve({
        execute(): Promise<ExecOutcome> {
          if (running) overlaps++;
          running = true;
          return new Promise((resolve) =>
            setTimeout(() => {
              running = false;
              resolve({ ok: true, rows: 1 });
            }, 1),
          );
        },
        close,
        [Symbol.asyncDispose]: close,
      });
    },
  };
  return { plugin, overlaps: () => overlaps };
}

const target: PluginDescriptor = {
  module: 'overlap-probe',
  exportName: 'plugin',
  options: {},
  name: 'overlap-probe',
  dialect: 'postgres',
  display: 'overlap-probe',
};

it('never runs two statements on one connection at once (replay, events due within the inline wait)', async () => {
  const sel = template('postgres', 'SELECT $1::int', 'SELECT');
  const b = new TraceBuilder('postgres');
  // 4 sessions, a statement each per ms; each statement takes about 1 ms (the probe's timer)
  for (let i = 0; i < 1000; i++)
    for (let s = 0; s < 4; s++)
      b.add(`s${String(s)}`, sel, [{ t: 'int', v: i }]);
  const t0 = 1_700_000_000_000_000;
  // logged durations leave 20 µs of think time between a session's statements: its next one is
  // due 20 µs after the previous one completes, within the schedule's inline wait (30 µs)
  const events = b.events.map((ev, k) => ({
    ...ev,
    startUs: t0 + Math.floor(k / 4) * 1000 + (k % 4) * 250,
    durationUs: 980,
  }));
  const trace = () => ({
    header: b.trace().header,
    templates: b.catalog,
    events: (async function* () {
      yield* events;
    })(),
  });
  const probe = overlapProbe();
  for (const connections of [4, 2]) {
    const r = await runBench(trace(), {
      target,
      plugin: probe.plugin,
      mode: 'replay',
      connections,
    });
    expect(r.overall.count).toBe(4000);
  }
  expect(probe.overlaps()).toBe(0);
}, 60_000);
