import type { BenchResult, TraceEvent } from '@stb/core';
import { runBench } from '../src/runner';
import type { BenchOptions } from '../src/runner';
import { TraceBuilder, template } from './helpers/trace';

// A trace's events may come in arrays (openTrace's `eventBatches`, what `stb bench` reads): the
// runner must run exactly what it runs for the same events one by one, including a limit or a
// shard that ends inside an array. On the in-memory SQLite, closed loop.
const ins = template(
  'postgres',
  'INSERT INTO kv (id, v) VALUES ($1, $2)',
  'INSERT',
);
const sel = template('postgres', 'SELECT v FROM kv WHERE id = $1', 'SELECT');

function build(): TraceBuilder {
  const b = new TraceBuilder('postgres');
  for (let i = 0; i < 600; i++) {
    const s = `s${(i * 7) % 13}`;
    if (i % 3 === 0)
      b.add(s, ins, [
        { t: 'int', v: i },
        { t: 'string', v: `v${i}` },
      ]);
    else b.add(s, sel, [{ t: 'int', v: i - (i % 3) }]);
  }
  return b;
}

/** The events cut into arrays of uneven sizes (1, 2, 5, 64, 1, 2, …). */
async function* inBatches(
  events: readonly TraceEvent[],
): AsyncGenerator<TraceEvent[]> {
  const sizes = [1, 2, 5, 64];
  for (let at = 0, k = 0; at < events.length; k++) {
    const n = sizes[k % sizes.length] as number;
    yield events.slice(at, at + n);
    at += n;
  }
}

/** What must not depend on how the events were grouped. */
function shape(r: BenchResult) {
  return {
    status: r.status,
    count: r.overall.count,
    errors: r.overall.errors,
    templates: r.templates.map((t) => [t.templateId, t.count]).sort(),
    sessions: r.sessions,
    skipped: r.skipped,
  };
}

async function both(
  options: Partial<BenchOptions>,
): Promise<[BenchResult, BenchResult]> {
  const b = build();
  // the table comes from the setup script, so no statement fails on the sessions' order
  const base = {
    target: 'sqlite::memory:',
    mode: 'closed' as const,
    setup: { name: 'schema.sql', sql: 'CREATE TABLE kv (id INTEGER, v TEXT)' },
    ...options,
  };
  const one = await runBench(b.trace(), base);
  const batched = await runBench(
    {
      header: b.trace().header,
      templates: b.catalog,
      events: inBatches(b.events),
    },
    base,
  );
  return [one, batched];
}

describe('events in arrays', () => {
  it('run exactly as the same events one by one', async () => {
    const [one, batched] = await both({});
    expect(one.overall.count).toBe(600);
    expect(one.overall.errors).toBe(0);
    expect(shape(batched)).toEqual(shape(one));
  });

  it('a limit ending inside an array runs exactly that many statements', async () => {
    const [one, batched] = await both({ maxQueries: 250 });
    expect(one.overall.count).toBe(250);
    expect(shape(batched)).toEqual(shape(one));
  });

  it('--read-only and a shard skip the same events', async () => {
    const [one, batched] = await both({
      readOnly: true,
      shard: { index: 1, count: 2 },
    });
    expect(one.skipped.readOnly).toBeGreaterThan(0);
    expect(one.sessions.total).toBeGreaterThan(0);
    expect(one.sessions.total).toBeLessThan(14);
    expect(shape(batched)).toEqual(shape(one));
  });

  it('a plain array of arrays works too, and a dry run reads arrays', async () => {
    const b = build();
    const groups = [b.events.slice(0, 300), b.events.slice(300)];
    const r = await runBench(
      { templates: b.catalog, events: groups },
      {
        target: 'sqlite::memory:',
        mode: 'closed',
        setup: {
          name: 'schema.sql',
          sql: 'CREATE TABLE kv (id INTEGER, v TEXT)',
        },
      },
    );
    expect(r.overall.count).toBe(600);
    expect(r.overall.errors).toBe(0);
    const dry = await runBench(
      { templates: b.catalog, events: groups },
      { target: 'sqlite::memory:', dryRun: true },
    );
    expect(dry.status).toBe('completed');
  });
});
