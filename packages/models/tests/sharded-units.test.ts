import type { TraceEvent } from '@stb/core';
import type { ModelArtifact } from '../src/index';
import {
  createModelRegistry,
  fitWorkloadModel,
  mergeModelArtifacts,
} from '../src/index';
import type { LoadedTrace } from './helpers/real-log';
import { loadSampleTrace } from './helpers/real-log';

/**
 * A sharded fit decides what one fit decides over all sessions (docs/scaling.md): the dispatched
 * units of a pool fed by one schedule and the classes of dominant templates that share a template
 * mix. Real logs: pgbench `-R 60` (4 clients, one Poisson schedule) and sysbench `oltp_read_write`
 * (6 threads, each dominated by the point select of whichever table it hit most).
 */
const N = 4;
const registry = createModelRegistry();

async function* stream(events: TraceEvent[]): AsyncGenerator<TraceEvent> {
  for (const e of events) yield e;
}

function fit(
  trace: LoadedTrace,
  shard?: { index: number; count: number },
  unitDispatch?: 'auto' | 'off',
): Promise<ModelArtifact> {
  return fitWorkloadModel(() => stream(trace.events), {
    catalog: trace.templates,
    header: trace.header,
    model: registry.get('markov'),
    modelOptions: { order: 1 },
    seed: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    ...(shard ? { shard } : {}),
    ...(unitDispatch ? { unitDispatch } : {}),
  });
}

const shards = (trace: LoadedTrace, count = N): Promise<ModelArtifact[]> =>
  Promise.all(
    Array.from({ length: count }, (_, index) => fit(trace, { index, count })),
  );
const merge = (parts: ModelArtifact[]): ModelArtifact =>
  mergeModelArtifacts(parts, { model: registry.get('markov') });

describe('sharded fit: dispatched units (pgbench -R)', () => {
  let trace: LoadedTrace;
  let full: ModelArtifact;
  let parts: ModelArtifact[];
  let merged: ModelArtifact;

  beforeAll(async () => {
    trace = await loadSampleTrace(
      'pg-tpcb-simple-logduration',
      'postgresql.csv.gz',
    );
    full = await fit(trace);
    parts = await shards(trace);
    merged = merge(parts);
  });

  it('merges into the units one fit learns, byte for byte', () => {
    const pool = full.sessions.classes.filter((c) => c.units);
    expect(pool).toHaveLength(1);
    expect(pool[0]?.units?.mode).toBe('dispatch');
    expect(JSON.stringify(merged.sessions.classes.map((c) => c.units))).toBe(
      JSON.stringify(full.sessions.classes.map((c) => c.units)),
    );
    // one shard learned them: the one that owns the class's first session
    expect(
      parts.filter((p) => p.sessions.classes.some((c) => c.units)),
    ).toHaveLength(1);
  });

  it('is deterministic: the same shard fits to the same bytes, any merge order to one model', async () => {
    const again = await fit(trace, { index: 2, count: N });
    expect(JSON.stringify(again)).toBe(JSON.stringify(parts[2]));
    expect(JSON.stringify(merge([...parts].reverse()))).toBe(
      JSON.stringify(merged),
    );
  });

  it('learns no units when the shards are fitted with unitDispatch off', async () => {
    const off = await Promise.all(
      Array.from({ length: N }, (_, index) =>
        fit(trace, { index, count: N }, 'off'),
      ),
    );
    expect(off[0]?.shard?.fit.unitDispatch).toBe('off');
    expect(merge(off).sessions.classes.every((c) => !c.units)).toBe(true);
    expect(() =>
      merge([...parts.slice(0, N - 1), off[N - 1] as ModelArtifact]),
    ).toThrow(/fit options/);
  });
});

describe('sharded fit: classes by template mix (sysbench)', () => {
  it('forms the classes one fit forms from dominant templates that share a mix', async () => {
    const trace = await loadSampleTrace(
      '../load/mariadb-sysbench-oltp',
      'mariadb_general.log.gz',
    );
    const full = await fit(trace);
    // six sessions: two shards (four would leave one empty)
    const merged = merge(await shards(trace, 2));
    const classes = (a: ModelArtifact): unknown =>
      a.sessions.classes.map((c) => ({
        dominant: c.dominantTemplate,
        sessions: c.sessions,
        statements: c.statements,
        pool: c.pool.count,
        units: c.units ?? null,
      }));
    // six threads, each dominated by some table's point select: one class in one fit
    expect(full.sessions.classes).toHaveLength(1);
    expect(classes(merged)).toEqual(classes(full));
  });
});
