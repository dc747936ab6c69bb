import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createRng } from '@stb/core';
import { GENERATED, SAMPLES, parseAll, scratchDir } from './helpers';

const { file } = scratchDir('stb-parser-cut-');

/** The first `lines` lines of a real server's log (each with its line end). */
function head(rel: string, lines: number): string {
  const raw = readFileSync(rel);
  const text = rel.endsWith('.gz')
    ? gunzipSync(raw).toString('utf8')
    : raw.toString('utf8');
  return `${text.split('\n').slice(0, lines).join('\n')}\n`;
}

const LOGS: [name: string, format: string, text: () => string][] = [
  [
    'stderr, log_statement = all',
    'postgres-stderr',
    () =>
      head(
        path.join(SAMPLES, 'pg-tpcb-simple-logstatement/postgresql.log.gz'),
        120,
      ),
  ],
  [
    'stderr, log_min_duration_statement = 0, extended protocol',
    'postgres-stderr',
    () =>
      head(
        path.join(SAMPLES, 'pg-tpcb-prepared-logduration/postgresql.log.gz'),
        120,
      ),
  ],
  [
    'csvlog',
    'postgres-csvlog',
    () =>
      head(
        path.join(SAMPLES, 'pg-tpcb-simple-logstatement/postgresql.csv.gz'),
        120,
      ),
  ],
  [
    'jsonlog',
    'postgres-jsonlog',
    () =>
      head(
        path.join(SAMPLES, 'pg-tpcb-simple-logstatement/postgresql.json.gz'),
        120,
      ),
  ],
  [
    'MariaDB general log',
    'mysql-general',
    () =>
      head(
        path.join(SAMPLES, 'mariadb-sysbench-text/mariadb_general.log.gz'),
        200,
      ),
  ],
  [
    'MariaDB slow log',
    'mysql-slow',
    () => head(path.join(GENERATED, 'mariadb-sysbench-small/slow.log.gz'), 200),
  ],
];

/** Byte offsets (UTF-16 here: the samples are ASCII) of `text`'s line starts, 1-based lines. */
function lineStarts(text: string): number[] {
  const starts = [0, 0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1))
    starts.push(i + 1);
  return starts;
}

describe('a log cut in its last line (a log still being written, a partial copy)', () => {
  it.each(LOGS)(
    '%s: the cut entry is skipped as truncated, everything before it is read as if the log ended there',
    async (_name, format, text) => {
      const full = text();
      const starts = lineStarts(full);
      const rng = createRng(19);
      // Cuts anywhere in the last third (inside statements, prefixes, headers, parameters),
      // never right after a line end (that is a whole log).
      const cuts = new Set<number>();
      while (cuts.size < 40) {
        const at = Math.floor(full.length * (2 / 3 + rng.next() / 3));
        if (full[at - 1] !== '\n') cuts.add(at);
      }
      // The events, their source file aside (each run reads a file of its own).
      const read = async (name: string, data: string) => {
        const r = await parseAll(file(name, data), { format });
        return {
          summary: r.summary,
          events: r.events.map((e) => ({
            ...e,
            source: { ...e.source, file: '' },
          })),
        };
      };
      for (const at of cuts) {
        const cut = await read('cut.log', full.slice(0, at));
        const f = cut.summary.files[0];
        expect(f?.skipped['truncated']).toBe(1);
        const from = f?.truncatedAt as number;
        expect(from).toBeGreaterThan(0);
        // Not read as a shorter statement, and not an invalid line either.
        expect(cut.summary.invalidLines).toBe(0);
        const before = await read('before.log', full.slice(0, starts[from]));
        expect(cut.events).toEqual(before.events);
        expect(before.summary.files[0]?.truncatedAt).toBeUndefined();
      }
    },
  );

  it('a whole log (last line ended) has nothing truncated', async () => {
    for (const [, format, text] of LOGS) {
      // (cut at a line end, a slow log may end in an entry's header lines: invalid, not cut)
      const { summary } = await parseAll(file('whole.log', text()), {
        format,
        onInvalid: 'collect',
      });
      expect(summary.files[0]?.truncatedAt).toBeUndefined();
      expect(summary.skipped['truncated']).toBeUndefined();
    }
  });
});
