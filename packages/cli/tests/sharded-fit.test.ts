// Issue 21: fitting n shards of a real log and merging them gives the model one fit gives:
// template, transition and session-class counts exactly; parameter quantiles within the KLL
// sketches' rank error; a generated trace whose validation score is within 0.01 of the single
// fit's. Runs the `stb` command as real processes (4 shards in parallel).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kllQuantile, kllRankError, kllWeightedItems } from '@stb/core';
import type { KllSketchState } from '@stb/core';
import type { ModelArtifact, SlotModelState } from '@stb/models';
import { runStb } from './helpers';

const LOG = path.resolve(
  __dirname,
  '../../../fixtures/load/pg-mixed-pool-short/postgresql.csv.gz',
);
const dir = mkdtempSync(path.join(tmpdir(), 'stb-cli-shard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (f: string): string => path.join(dir, f);
const N = 4;

async function stb(args: string[]): Promise<string> {
  const r = await runStb(args, { env: { SOURCE_DATE_EPOCH: '1700000000' } });
  if (r.code !== 0 && !(args[0] === 'validate' && r.code === 1))
    throw new Error(`stb ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stderr;
}

function read(file: string): ModelArtifact {
  return JSON.parse(readFileSync(at(file), 'utf8')) as ModelArtifact;
}

/** JSON with object keys sorted, so maps built in another order compare equal. */
function canonical(v: unknown): string {
  const sort = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(sort)
      : x !== null && typeof x === 'object'
        ? Object.fromEntries(
            Object.keys(x)
              .sort()
              .map((k) => [k, sort((x as Record<string, unknown>)[k])]),
          )
        : x;
  return JSON.stringify(sort(v));
}

/**
 * How far `q` is from the rank interval of `x` in `state`: [share below x, share at or below x]
 * (a point mass spans an interval of ranks).
 */
function rankDistance(state: KllSketchState, x: number, q: number): number {
  const { values, weights, total } = kllWeightedItems(state);
  let below = 0;
  let atMost = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    const w = weights[i] as number;
    if (v < x) below += w;
    if (v <= x) atMost += w;
  }
  return Math.max(0, below / total - q, q - atMost / total);
}

function numericSketches(a: ModelArtifact): Map<string, KllSketchState> {
  const out = new Map<string, KllSketchState>();
  for (const [id, slots] of Object.entries(a.parameters.templates))
    slots.forEach((s: SlotModelState, i) => {
      if (s.numeric) out.set(`${id}#${i}`, s.numeric.sketch);
    });
  return out;
}

let full: ModelArtifact;
let merged: ModelArtifact;

beforeAll(async () => {
  await stb(['parse', '-q', '-i', LOG, '-o', at('trace.jsonl')]);
  await Promise.all([
    stb(['learn', '-q', '-i', at('trace.jsonl'), '-o', at('full.json')]),
    ...Array.from({ length: N }, (_, i) =>
      stb([
        'learn',
        '-q',
        '-i',
        at('trace.jsonl'),
        '--shard',
        `${i}/${N}`,
        '-o',
        at(`shard-${i}.json`),
      ]),
    ),
  ]);
  await stb([
    'merge-models',
    ...Array.from({ length: N }, (_, i) => at(`shard-${N - 1 - i}.json`)),
    '-o',
    at('merged.json'),
  ]);
  full = read('full.json');
  merged = read('merged.json');
}, 120_000);

describe('issue 21: n = 4 shards fitted and merged equal one fit', () => {
  it('gives the same template counts, sessions and statements exactly', () => {
    const counts = (a: ModelArtifact): string =>
      canonical(Object.fromEntries(a.templates.map((t) => [t.id, t.count])));
    expect(counts(merged)).toBe(counts(full));
    expect(merged.source).toEqual(full.source);
    // every shard held some sessions: the split is real
    for (let i = 0; i < N; i++)
      expect(read(`shard-${i}.json`).source.sessions).toBeGreaterThan(0);
  });

  it('gives the same transition counts exactly, globally and per session class', () => {
    // the vocabulary's order is first appearance, which a shard cannot know; the counts are exact
    const chain = (state: unknown): string => {
      const { symbols, ...rest } = state as { symbols: string[] };
      return canonical({ ...rest, symbols: [...symbols].sort() });
    };
    expect(chain(merged.sequence.state)).toBe(chain(full.sequence.state));
    const classes = (a: ModelArtifact): string =>
      canonical(
        a.sessions.classes.map((c) => ({
          dominant: c.dominantTemplate,
          sessions: c.sessions,
          statements: c.statements,
          pool: c.pool.count,
          initial: c.initial.count,
          arrivals: c.arrivals,
          lengths: c.length.n,
          sequence: chain(c.sequence),
        })),
      );
    expect(full.sessions.classes.length).toBeGreaterThan(1);
    expect(classes(merged)).toBe(classes(full));
    expect(merged.arrival.sessionStarts).toEqual(full.arrival.sessionStarts);
    expect(merged.sessions.meanConcurrency).toBeCloseTo(
      full.sessions.meanConcurrency,
      9,
    );
  });

  it('gives parameter quantiles within the sketches’ rank error', () => {
    const a = numericSketches(full);
    const b = numericSketches(merged);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    expect(a.size).toBeGreaterThan(0);
    for (const [key, sketch] of a) {
      const other = b.get(key) as KllSketchState;
      expect(other.n).toBe(sketch.n);
      // both sketches carry their own error: 2 ε bounds the difference in rank
      const eps = 2 * kllRankError(sketch.k);
      for (const q of [0.05, 0.25, 0.5, 0.75, 0.95]) {
        const x = kllQuantile(kllWeightedItems(other), q) as number;
        expect(rankDistance(sketch, x, q)).toBeLessThanOrEqual(
          eps + 1 / sketch.n,
        );
      }
    }
  });

  it('learns the same dispatched units as one fit (decision and state)', () => {
    const units = (a: ModelArtifact): string =>
      canonical(a.sessions.classes.map((c) => c.units ?? null));
    // the pool of this capture (pgbench -R) is fed by one schedule: one fit dispatches it
    expect(
      full.sessions.classes.some((c) => c.units?.mode === 'dispatch'),
    ).toBe(true);
    expect(units(merged)).toBe(units(full));
    // each class's units come from one shard only: the one owning its first session
    const reported = Array.from({ length: N }, (_, i) =>
      read(`shard-${i}.json`).sessions.classes.filter((c) => c.units),
    ).flat();
    expect(reported).toHaveLength(
      full.sessions.classes.filter((c) => c.units).length,
    );
  });

  it('generates a trace that validates within 0.01 of the single fit’s', async () => {
    const score = async (model: string): Promise<number> => {
      await stb([
        'generate',
        '-q',
        '-m',
        at(`${model}.json`),
        '-n',
        String(full.source.events),
        '--seed',
        '7',
        '-o',
        at(`gen-${model}.jsonl`),
      ]);
      await stb([
        'validate',
        '-q',
        '--original',
        at('trace.jsonl'),
        '--generated',
        at(`gen-${model}.jsonl`),
        '--json-report',
        at(`report-${model}.json`),
      ]);
      const r = JSON.parse(
        readFileSync(at(`report-${model}.json`), 'utf8'),
      ) as { score: number };
      return r.score;
    };
    // the default single fit, dispatched units included (docs/scaling.md)
    const [a, b] = [await score('full'), await score('merged')];
    expect(Math.abs(a - b)).toBeLessThanOrEqual(0.01);
  }, 120_000);

  it('stb merge-traces of 4 generated shards equals the sequential run', async () => {
    const gen = (out: string, extra: string[] = []): Promise<string> =>
      stb([
        'generate',
        '-q',
        '-m',
        at('merged.json'),
        '--duration',
        '5s',
        '--seed',
        '3',
        ...extra,
        '-o',
        at(out),
      ]);
    await Promise.all([
      gen('seq.jsonl'),
      ...Array.from({ length: N }, (_, i) =>
        gen(`g${i}.jsonl`, ['--shard', `${i}/${N}`]),
      ),
    ]);
    await stb([
      'merge-traces',
      ...Array.from({ length: N }, (_, i) => at(`g${i}.jsonl`)),
      '-o',
      at('g.jsonl'),
    ]);
    const events = (f: string): string[] =>
      readFileSync(at(f), 'utf8')
        .split('\n')
        .filter((l) => l.includes('"kind":"event"'));
    const seq = events('seq.jsonl');
    expect(seq.length).toBeGreaterThan(100);
    expect(events('g.jsonl')).toEqual(seq);
  }, 120_000);

  it('refuses a missing shard, other options and models that do not merge', async () => {
    const shards = Array.from({ length: N - 1 }, (_, i) =>
      at(`shard-${i}.json`),
    );
    let r = await runStb(['merge-models', ...shards, '-o', at('x.json')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^\[stb\] .*Shard 3\/4 missing/m);

    await stb([
      'learn',
      '-q',
      '-i',
      at('trace.jsonl'),
      '--order',
      '2',
      '--shard',
      `3/${N}`,
      '-o',
      at('order2.json'),
    ]);
    r = await runStb([
      'merge-models',
      ...shards,
      at('order2.json'),
      '-o',
      at('x.json'),
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/model options/);

    // shards fitted without dispatched units do not merge with shards fitted with them
    await stb([
      'learn',
      '-q',
      '-i',
      at('trace.jsonl'),
      '--unit-dispatch',
      'off',
      '--shard',
      `3/${N}`,
      '-o',
      at('off.json'),
    ]);
    r = await runStb([
      'merge-models',
      ...shards,
      at('off.json'),
      '-o',
      at('x.json'),
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/fit options/);

    r = await runStb(['merge-models', at('full.json'), '-o', at('x.json')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/not a shard artifact/);

    r = await runStb([
      'learn',
      '-i',
      at('trace.jsonl'),
      '-m',
      'hmm',
      '--shard',
      '0/2',
      '-o',
      at('h.json'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/`hmm` models do not merge.*-m markov/);
  }, 120_000);
});
