/**
 * Issue 14: after a corrupt record, every log format resynchronises at the next record and
 * counts what it skipped, instead of losing the rest of the file (a csvlog with one unclosed
 * quote used to yield 88 statements from 8,423 lines) or stopping.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GENERATED, SAMPLES, parseAll } from './helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'stb-parser-resync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (file: string): string[] =>
  gunzipSync(readFileSync(file)).toString('utf8').split('\n');
const PG = path.join(SAMPLES, 'pg-tpcb-simple-logstatement');
const MY = path.join(GENERATED, 'mariadb-sysbench-small');

interface Case {
  format: string;
  file: string;
  /** Index of a line to corrupt, searched from the middle. */
  pick: (l: string) => boolean;
  corrupt: (l: string) => string;
}

const cases: Case[] = [
  {
    format: 'postgres-stderr',
    file: path.join(PG, 'postgresql.log.gz'),
    pick: (l) => l.includes('LOG:  statement: UPDATE'),
    corrupt: (l) => `\u0000\u0001garbage ${l.slice(40)}`,
  },
  {
    format: 'postgres-csvlog',
    file: path.join(PG, 'postgresql.csv.gz'),
    pick: (l) => l.includes(',"statement: UPDATE'),
    // the closing quote of the message field is lost: the field never closes
    corrupt: (l) => l.replace(/(statement: [^"]*)"/, '$1'),
  },
  {
    format: 'postgres-jsonlog',
    file: path.join(PG, 'postgresql.json.gz'),
    pick: (l) => l.includes('statement: UPDATE'),
    corrupt: (l) => l.slice(0, Math.floor(l.length / 2)),
  },
  {
    format: 'mysql-slow',
    file: path.join(MY, 'slow.log.gz'),
    pick: (l) => /^(SELECT|UPDATE|INSERT|DELETE)\b/.test(l),
    corrupt: () => '\u0000\u0001\u0002\u0003 binary garbage',
  },
  {
    format: 'mysql-general',
    file: path.join(MY, 'general.log.gz'),
    pick: (l) => /\d (Query|Execute)\t/.test(l),
    corrupt: () => '\u0000\u0001\u0002\u0003 binary garbage',
  },
];

describe.each(cases)('$format after a corrupt record', (c) => {
  it('skips that record, counts it, and parses the rest of the file', async () => {
    const all = lines(c.file);
    let k = Math.floor(all.length / 2);
    while (k < all.length && !c.pick(all[k] as string)) k++;
    expect(k).toBeLessThan(all.length);
    const bad = [...all];
    bad[k] = c.corrupt(all[k] as string);
    const f = path.join(dir, `${c.format}.log`);
    writeFileSync(f, bad.join('\n'));
    const clean = await parseAll(c.file, { format: c.format });
    const got = await parseAll(f, { format: c.format, onInvalid: 'collect' });
    const invalid = got.summary.invalid.length + got.summary.invalidDropped;
    expect(invalid).toBeGreaterThanOrEqual(1);
    expect(got.summary.invalidLines).toBeGreaterThanOrEqual(1);
    // at most the corrupt record and its neighbour are lost
    expect(got.events.length).toBeGreaterThanOrEqual(clean.events.length - 2);
    expect(got.events.length).toBeLessThanOrEqual(clean.events.length);
    // parsing went on to the end: the last statements are there
    expect(got.events.at(-1)?.sql).toBe(clean.events.at(-1)?.sql);
    expect(got.summary.invalid[0]?.line).toBeGreaterThanOrEqual(k - 5);
  });
});
