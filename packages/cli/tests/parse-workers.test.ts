import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { LogInputOptions } from '../src/inputs';
import { traceText } from './trace-text';
import { runStb, SAMPLES_DIR } from './helpers';

// `stb parse --workers` (issue 19): the logs are parsed and extracted on a thread of their own and
// the main thread assembles the trace. Whatever the hand-off, the trace must be the one-thread
// trace byte for byte (templates, ids, session order, transaction indexes), with the same counts.
// The parse thread is the built `dist/log-worker.cjs`, the extraction threads of `--workers 2` and
// more `dist/extract-worker.cjs`: build the CLI first.

const GEN = path.resolve(__dirname, '../../parser/tests/fixtures/generated');
const sample = (dir: string, file: string): string =>
  path.join(SAMPLES_DIR, dir, file);

// Two logs of the same 8 s: a real pgbench log's clients split by pid parity (written in beforeAll).
const OVERLAP_DIR = path.join(
  os.tmpdir(),
  `stb-parse-workers-overlap-${process.pid}`,
);
const OVERLAP = ['even.log', 'odd.log'].map((f) => path.join(OVERLAP_DIR, f));
function writeOverlap(): void {
  const text = gunzipSync(
    readFileSync(sample('pg-tpcb-simple-logduration', 'postgresql.log.gz')),
  ).toString('utf8');
  const parts: string[][] = [[], []];
  let to = parts[0] as string[];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const pid = /^\S+ \S+ \S+ \[(\d+)\]/.exec(line)?.[1];
    if (pid !== undefined) to = parts[Number(pid) % 2] as string[];
    to.push(line);
  }
  mkdirSync(OVERLAP_DIR, { recursive: true });
  parts.forEach((p, i) =>
    writeFileSync(OVERLAP[i] as string, p.join('\n') + '\n'),
  );
}

/** Every real log of the repository the CLI reads without options. */
const LOGS: string[][] = [
  ...[
    'pg-tpcb-simple-logstatement',
    'pg-tpcb-simple-logduration',
    'pg-tpcb-prepared-logduration',
    'pg-tpcb-extended-logstatement',
  ].flatMap((d) =>
    ['postgresql.log.gz', 'postgresql.csv.gz', 'postgresql.json.gz'].map(
      (f) => [sample(d, f)],
    ),
  ),
  [sample('pg-webapp-logstatement', 'postgresql.log.gz')],
  [sample('pg-webapp-logstatement', 'postgresql.csv.gz')],
  [sample('mariadb-sysbench-text', 'mariadb_general.log.gz')],
  [sample('mariadb-sysbench-prepared', 'mariadb_general.log.gz')],
  [sample('mariadb-webapp-text', 'mariadb_general.log.gz')],
  ...['postgresql.log.gz', 'postgresql.csv.gz', 'postgresql.json.gz'].map(
    (f) => [path.join(GEN, 'pg-logstatement-duration', f)],
  ),
  [path.join(GEN, 'pg-mindur-rds', 'postgresql.log.gz')],
  [path.join(GEN, 'mariadb-sysbench-small', 'general.log.gz')],
  [path.join(GEN, 'mariadb-sysbench-small', 'slow.log.gz')],
  [path.join(GEN, 'mariadb-tables', 'general.log')],
  // Several files: merged by time, session ids prefixed by the file's index.
  [
    sample('pg-tpcb-simple-logduration', 'postgresql.log.gz'),
    sample('pg-tpcb-prepared-logduration', 'postgresql.csv.gz'),
  ],
  // Two logs of the same period: the merge interleaves them.
  OVERLAP,
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'stb-parse-workers-'));
  writeOverlap();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(OVERLAP_DIR, { recursive: true, force: true });
});

let n = 0;
/** The trace and summaries of `files` parsed with `extra` (see {@link traceText}). */
function trace(
  files: string[],
  extra: Partial<LogInputOptions>,
): Promise<string> {
  return traceText(path.join(dir, `t${n++}.jsonl`), files, extra);
}

describe('stb parse --workers: the same trace as one thread', () => {
  it.each(
    LOGS.map(
      (files) =>
        [
          files
            .map((f) => `${path.basename(path.dirname(f))}/${path.basename(f)}`)
            .join(' + '),
          files,
        ] as const,
    ),
  )(
    '%s: workers 1 and 3 (hand-offs of 1 statement, some extracted on the parse thread), packed and in JSON (hand-offs of 7)',
    async (_name, files) => {
      const seq = await trace(files, {});
      expect(seq).toMatch(/"kind":"event"/);
      if (files === OVERLAP)
        // Both inputs' sessions, interleaved (the order itself is tested in the parser).
        expect(seq.match(/"sessionId":"[01]:/g)?.slice(0, 200)).toEqual(
          expect.arrayContaining(['"sessionId":"0:', '"sessionId":"1:']),
        );
      // Events held encoded (what `stb parse` does for JSONL): batches cross packed.
      expect(await trace(files, { workers: 1, encodeEvents: true })).toBe(seq);
      // Two extraction threads besides the parse thread, one statement per hand-off: the main
      // thread takes every other statement from each.
      expect(
        await trace(files, {
          workers: 3,
          handOffEvents: 1,
          encodeEvents: true,
        }),
      ).toBe(seq);
      // Two extraction threads, and every third hand-off extracted on the parse thread itself
      // (by default only when they fall behind): the main thread takes the three in turn.
      let here = 0;
      expect(
        await trace(files, {
          workers: 3,
          handOffEvents: 1,
          extractHereEvery: 3,
          onExtractedHere: (n) => (here = n),
          encodeEvents: true,
        }),
      ).toBe(seq);
      // Every third of at least as many hand-offs as events (not just a few the default route
      // might have kept on its own).
      const events = seq.match(/"kind":"event"/g)?.length ?? 0;
      expect(here).toBeGreaterThanOrEqual(Math.floor(events / 3));
      // Events as objects (CSV output): batches cross as JSON.
      expect(await trace(files, { workers: 1, handOffEvents: 7 })).toBe(seq);
    },
    120_000,
  );

  it('raises the same error as one thread (no statement in the input)', async () => {
    const files = [path.join(GEN, 'pg-providers', 'nostatements.log.gz')];
    const seq = await trace(files, {});
    expect(seq).toMatch(/^error STB_MODEL_EMPTY_INPUT/);
    expect(await trace(files, { workers: 1 })).toBe(seq);
    expect(await trace(files, { workers: 3, encodeEvents: true })).toBe(seq);
  });

  it('raises the same error as one thread (a missing file)', async () => {
    const files = [path.join(dir, 'missing.log')];
    const seq = await trace(files, {});
    expect(seq).toMatch(/^error STB_INPUT_NOT_FOUND/);
    expect(await trace(files, { workers: 1 })).toBe(seq);
    expect(await trace(files, { workers: 3, encodeEvents: true })).toBe(seq);
  });
});

describe('stb parse --workers: errors in input order', () => {
  // A statement with invalid UTF-8 near the start (raised where the statement is assembled, on the
  // main thread) and a gzip cut short at the end (raised by the parse thread when it gets there,
  // up to 24 hand-offs ahead): one thread meets the first one first, and so must the threads.
  it('raises the first error of the input, not the first to arrive', async () => {
    const text = gunzipSync(
      readFileSync(sample('pg-tpcb-simple-logstatement', 'postgresql.log.gz')),
    );
    const at = text.indexOf('UPDATE pgbench_accounts', text.length >> 4);
    const bad = Buffer.concat([
      text.subarray(0, at),
      Buffer.from([0x2f, 0x2a, 0xe9, 0x2a, 0x2f, 0x20]), // a comment with a Latin-1 é
      text.subarray(at),
    ]);
    const gz = gzipSync(bad);
    const file = path.join(dir, 'bad-utf8-cut.log.gz');
    writeFileSync(file, gz.subarray(0, gz.length - 64));
    const seq = await trace([file], {});
    expect(seq).toMatch(
      /^error STB_INPUT_ENCODING .*bad-utf8-cut\.log\.gz:\d+/,
    );
    expect(await trace([file], { workers: 1, encodeEvents: true })).toBe(seq);
    expect(await trace([file], { workers: 3, encodeEvents: true })).toBe(seq);
    expect(await trace([file], { workers: 1, handOffEvents: 7 })).toBe(seq);
  }, 60_000);
});

describe('the stb binary with --workers', () => {
  // The binary sets the heap's growing factor to 100 % at run time for --workers 2 and more
  // (heap-growing.ts), after it was set at start: the process must run to its end and write the
  // one-thread trace (the header's createdAt aside).
  it('writes the one-thread trace with --workers 0, 1 and 2', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'stb-parse-workers-bin-'));
    try {
      const log = sample('pg-tpcb-simple-logstatement', 'postgresql.log.gz');
      const run = async (w: number): Promise<string> => {
        const out = path.join(dir, `w${w}.jsonl`);
        const r = await runStb([
          'parse',
          '-i',
          log,
          '-o',
          out,
          '-w',
          String(w),
          '--quiet',
        ]);
        expect({ code: r.code, stderr: r.stderr }).toEqual({
          code: 0,
          stderr: '',
        });
        return readFileSync(out, 'utf8').split('\n').slice(1).join('\n');
      };
      const seq = await run(0);
      expect(seq.split('\n').length).toBeGreaterThan(8_000);
      expect(await run(1)).toBe(seq);
      expect(await run(2)).toBe(seq);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
