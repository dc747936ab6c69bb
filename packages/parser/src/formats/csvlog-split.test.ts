import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import { splitCsvlogRecord } from './csvlog-split';

// The csvlog splitter must give exactly csv-parse's fields whenever it accepts a record, and
// leave to csv-parse (undefined) every record it does not read the same way (issue 19).

const CSV_OPTIONS = { relax_column_count: true, record_delimiter: '\n' };

/** csv-parse's reading of one record: its fields, or undefined when it is not exactly one record. */
function reference(text: string): string[] | undefined {
  try {
    const rows: string[][] = parseCsv(text, CSV_OPTIONS);
    return rows.length === 1 ? rows[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Records of a csvlog text: lines joined while a quoted field is open (quote parity). */
function records(text: string): string[] {
  const out: string[] = [];
  let parts: string[] = [];
  let odd = false;
  for (const line of text.split('\n')) {
    if (parts.length === 0 && line === '') continue;
    parts.push(line);
    if ((line.split('"').length - 1) & 1) odd = !odd;
    if (!odd) {
      out.push(parts.join('\n'));
      parts = [];
    }
  }
  return out;
}

const ROOT = path.resolve(__dirname, '../../../..');
function csvlogFixtures(): string[] {
  const dirs = [
    path.join(ROOT, 'fixtures/samples'),
    path.join(ROOT, 'fixtures/load'),
    path.join(ROOT, 'packages/parser/tests/fixtures/generated'),
  ];
  const out: string[] = [];
  for (const d of dirs)
    for (const sub of readdirSync(d, { withFileTypes: true }))
      if (sub.isDirectory())
        for (const f of readdirSync(path.join(d, sub.name)))
          if (f === 'postgresql.csv.gz') out.push(path.join(d, sub.name, f));
  return out;
}

describe('splitCsvlogRecord', () => {
  const files = csvlogFixtures();
  let multiLine = 0;
  it('finds the csvlog fixtures', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.each(files.map((f) => [path.relative(ROOT, f), f]))(
    '%s: every record split as csv-parse splits it',
    (_name, file) => {
      const recs = records(gunzipSync(readFileSync(file)).toString('utf8'));
      expect(recs.length).toBeGreaterThan(0);
      for (const r of recs) {
        const fast = splitCsvlogRecord(r);
        // PostgreSQL's own records are always taken by the fast path.
        expect(fast).toBeDefined();
        expect(fast).toEqual(reference(r));
        if (r.includes('\n')) multiLine++;
      }
    },
  );

  it('the fixtures hold multi-line records', () => {
    expect(multiLine).toBeGreaterThan(0);
  });

  it.each([
    ['plain', 'a,b,c'],
    ['empty fields', ',,'],
    ['trailing comma', 'a,b,'],
    ['one field', 'abc'],
    ['quoted', '"a","b,c",d'],
    ['empty quoted', '"",x,""'],
    ['doubled quotes', '"say ""hi""","""",""""""'],
    ['doubled quote at the end', 'x,"a"""'],
    ['quoted newlines', '"line 1\nline 2",b,"\n"'],
    ['quoted newline then doubled quote', '"a\n""b""\n",c'],
    ['carriage return in a field', 'a\rb,"c\rd"'],
    ['unicode', 'é,"日本,語","😀"""'],
    [
      'real record',
      '2024-05-01 12:00:00.123 UTC,"app","db",123,"127.0.0.1:5432",6631a1b0.7b,1,"SELECT",2024-05-01 12:00:00 UTC,3/4,0,LOG,00000,"statement: SELECT ""x"", 1",,,,,,,,"psql","client backend",,0',
    ],
  ])('%s: same fields as csv-parse', (_name, text) => {
    const fast = splitCsvlogRecord(text);
    expect(fast).toBeDefined();
    expect(fast).toEqual(reference(text));
  });

  it.each([
    ['quote inside an unquoted field', 'ab"c,d'],
    ['text after a closing quote', '"ab"c,d'],
    ['space after a closing quote', '"ab" ,d'],
    ['space before an opening quote', 'a, "b"'],
    ['unclosed quote', 'a,"b'],
    ['newline outside quotes', 'a,"b"\nc,d'],
    ['newline in an unquoted field', '"a",b\nc'],
    ['empty text', ''],
  ])('%s: left to csv-parse', (_name, text) => {
    expect(splitCsvlogRecord(text)).toBeUndefined();
  });

  it('never disagrees with csv-parse on random records', () => {
    // A small deterministic generator over the characters that matter.
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = ['a', ',', '"', '\n', '\r', ' ', 'é', '""'];
    let accepted = 0;
    for (let k = 0; k < 20000; k++) {
      let t = '';
      const len = 1 + rnd(12);
      for (let i = 0; i < len; i++) t += alphabet[rnd(alphabet.length)];
      const fast = splitCsvlogRecord(t);
      if (fast === undefined) continue;
      accepted++;
      expect([t, fast]).toEqual([t, reference(t)]);
    }
    expect(accepted).toBeGreaterThan(1000);
  });
});
