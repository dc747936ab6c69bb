import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { isStbError } from '@stb/core';
import { detectLogFormat, parseLogs } from '../src/index';
import { SAMPLES, parseAll, scratchDir } from './helpers';

const { dir, file } = scratchDir('stb-parser-bad-');

async function failure(
  p: Promise<unknown>,
): Promise<{ code: string; message: string; details: unknown }> {
  try {
    await p;
  } catch (err) {
    expect(isStbError(err)).toBe(true);
    return err as { code: string; message: string; details: unknown };
  }
  throw new Error('expected a failure');
}

const PG_LINE = (n: number, msg: string) =>
  `2026-11-24 11:01:22.${String(n).padStart(3, '0')} UTC [17514] bench@bench/pgbench LOG:  ${msg}`;

describe('bad input', () => {
  it('binary garbage: unknown format, naming the formats tried and how to force one', async () => {
    const bytes = Buffer.alloc(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    const err = await failure(parseAll(file('garbage.bin', bytes)));
    expect(err.code).toBe('STB_PARSE_UNKNOWN_FORMAT');
    expect(err.message).toContain('postgres-stderr');
    expect(err.message).toContain('mysql-general');
    expect(err.message).toContain('--format');
    expect(err.message).toContain('garbage.bin');
  });

  it('binary garbage forced as a format: counted invalid lines under skip, a clear error under throw', async () => {
    const bytes = Buffer.from(
      Array.from({ length: 2000 }, (_, i) => (i * 7919) % 256),
    );
    const f = file('garbage2.bin', bytes);
    const { events, summary } = await parseAll(f, {
      format: 'postgres-stderr',
      onInvalid: 'skip',
    });
    expect(events).toHaveLength(0);
    expect(summary.skipped['invalid']).toBeGreaterThan(0);
    const err = await failure(parseAll(f, { format: 'postgres-stderr' }));
    expect(err.code).toBe('STB_PARSE_INVALID_LINE');
    expect(err.message).toMatch(/Line \d+ of `.*garbage2\.bin`/);
  });

  it('truncated gzip: STB_GZIP_CORRUPT after the events before the cut', async () => {
    const gz = readFileSync(
      path.join(SAMPLES, 'pg-tpcb-simple-logstatement/postgresql.log.gz'),
    );
    const f = file('cut.log.gz', gz.subarray(0, Math.floor(gz.length / 2)));
    const run = parseLogs(f);
    let n = 0;
    const err = await failure(
      (async () => {
        for await (const _ of run) n++;
      })(),
    );
    expect(err.code).toBe('STB_GZIP_CORRUPT');
    expect(n).toBeGreaterThan(1000);
  });

  it('a 10 MB single line: one statement when it is one, a clear error past maxLineLength', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    const f = file(
      'long.log',
      `${PG_LINE(1, `statement: SELECT '${big}'`)}\n${PG_LINE(2, 'statement: SELECT 1')}\n`,
    );
    const { events } = await parseAll(f);
    expect(events).toHaveLength(2);
    expect(events[0]?.sql.length).toBe(big.length + 9);
    const err = await failure(parseAll(f, { maxLineLength: 1024 * 1024 }));
    expect(err.code).toBe('STB_PARSE_LINE_TOO_LONG');
    // a 10 MB line of junk is no known format
    const junk = file('junk.txt', `${big}\n`);
    expect((await failure(parseAll(junk))).code).toBe(
      'STB_PARSE_UNKNOWN_FORMAT',
    );
  });

  it('a log cut mid-entry: what was read comes back, the cut entry is counted as truncated', async () => {
    const text = [
      PG_LINE(1, 'statement: SELECT 1'),
      PG_LINE(2, 'statement: SELECT\n\t2,'),
      '2026-11-24 11:01:22.003 UTC [175',
    ].join('\n');
    const { events, summary } = await parseAll(file('cut.log', text), {
      format: 'postgres-stderr',
      onInvalid: 'collect',
    });
    expect(events.map((e) => e.sql)).toEqual(['SELECT 1', 'SELECT\n2,']);
    expect(summary.invalid).toEqual([]);
    expect(summary.files[0]?.truncatedAt).toBe(4);
    expect(summary.skipped['truncated']).toBe(1);
    // cut inside a continuation line: the statement it continues is the cut entry
    const cont = await parseAll(
      file(
        'cut2.log',
        `${PG_LINE(1, 'statement: SELECT 1')}\n${PG_LINE(2, 'statement: SELECT a,')}\n\tb FROM t WHE`,
      ),
      { format: 'postgres-stderr', onInvalid: 'throw' },
    );
    expect(cont.events.map((e) => e.sql)).toEqual(['SELECT 1']);
    expect(cont.summary.files[0]?.truncatedAt).toBe(2);
    // csvlog cut inside a quoted field
    const csv = readFileSync(
      path.join(SAMPLES, 'pg-tpcb-simple-logstatement/postgresql.csv.gz'),
    );
    const { gunzipSync } = await import('node:zlib');
    const lines = gunzipSync(csv)
      .toString()
      .split('\n')
      .slice(0, 20)
      .join('\n');
    const cut = lines.slice(0, lines.lastIndexOf('statement:') + 15);
    const r = await parseAll(file('cut.csv', cut), { onInvalid: 'collect' });
    expect(r.summary.files[0]?.format).toBe('postgres-csvlog');
    expect(r.summary.invalid).toHaveLength(0);
    expect(r.summary.skipped['truncated']).toBe(1);
    // the same record cut short with its last line ended: an unclosed quoted field, invalid
    const ended = await parseAll(file('ended.csv', `${cut}\n`), {
      onInvalid: 'collect',
    });
    expect(ended.summary.invalid).toHaveLength(1);
    expect(ended.summary.invalid[0]?.reason).toMatch(/cut short/);
  });

  it('an empty file gives no events and no error', async () => {
    const { events, summary } = await parseAll(file('empty.log', ''));
    expect(events).toHaveLength(0);
    expect(summary.files[0]?.format).toBe('none');
  });

  it('a missing file and an unknown format name are clear errors', async () => {
    expect((await failure(parseAll(path.join(dir, 'nope.log')))).code).toBe(
      'STB_INPUT_NOT_FOUND',
    );
    const f = file('one.log', PG_LINE(1, 'statement: SELECT 1'));
    expect((await failure(parseAll(f, { format: 'oracle-alert' }))).code).toBe(
      'STB_PLUGIN_NOT_FOUND',
    );
    expect(
      (
        await failure(
          parseAll(f, {
            format: 'postgres-stderr',
            formatOptions: { prefix: '%Z' },
          }),
        )
      ).code,
    ).toBe('STB_PLUGIN_OPTIONS_INVALID');
    expect(
      (
        await failure(
          parseAll(f, { format: 'mysql-general', formatOptions: { nope: 1 } }),
        )
      ).code,
    ).toBe('STB_PLUGIN_OPTIONS_INVALID');
  });

  it('detectLogFormat ranks candidates and throws on unknown input', () => {
    const ranked = detectLogFormat([
      PG_LINE(1, 'statement: SELECT 1'),
      PG_LINE(2, 'statement: SELECT 2'),
    ]);
    expect(ranked[0]?.name).toBe('postgres-stderr');
    let err: unknown;
    try {
      detectLogFormat(['hello world', 'nothing here']);
    } catch (e) {
      err = e;
    }
    expect(isStbError(err, 'STB_PARSE_UNKNOWN_FORMAT')).toBe(true);
  });
});

describe('parseLogs options', () => {
  const pg = path.join(SAMPLES, 'pg-tpcb-simple-logduration/postgresql.log.gz');
  const my = path.join(SAMPLES, 'mariadb-sysbench-text/mariadb_general.log.gz');

  it('several files: sessions prefixed by file index, each file in log order', async () => {
    const { events, summary } = await parseAll([pg, my]);
    expect(summary.files.map((f) => f.format)).toEqual([
      'postgres-stderr',
      'mysql-general',
    ]);
    expect(events.filter((e) => e.sessionId.startsWith('0:'))).toHaveLength(
      3183,
    );
    // 3921 logged, less the capture's `SET SESSION sql_log_off = 1` (logging-control)
    expect(events.filter((e) => e.sessionId.startsWith('1:'))).toHaveLength(
      3920,
    );
    expect(
      events.every(
        (e) => e.fileIndex === (e.sessionId.startsWith('0:') ? 0 : 1),
      ),
    ).toBe(true);
    expect(summary.sessions).toBe(9); // 5 + 4 (the admin session had only its sql_log_off)
    // the same file twice never merges sessions
    const twice = await parseAll([pg, pg]);
    expect(new Set(twice.events.map((e) => e.sessionId)).size).toBe(10);
  });

  it('filters: database, user, application, time window, excluded sessions', async () => {
    const all = (await parseAll(pg)).events;
    const setup = all[0]?.sessionId as string;
    const r = await parseAll(pg, { filters: { excludeSessions: [setup] } });
    expect(r.events).toHaveLength(3183 - 5);
    expect(r.summary.filtered).toBe(5);
    const re = await parseAll(pg, { filters: { excludeSessions: [/@/] } });
    expect(re.events).toHaveLength(0);
    expect(
      (await parseAll(pg, { filters: { databases: ['other'] } })).events,
    ).toHaveLength(0);
    expect(
      (
        await parseAll(pg, {
          filters: { users: ['bench'], applications: ['pgbench'] },
        })
      ).events,
    ).toHaveLength(3183);
    const mid = all[1000]?.startUs as number;
    const window = await parseAll(pg, {
      filters: { from: mid, to: mid + 1_000_000 },
    });
    expect(window.events.length).toBeGreaterThan(0);
    expect(
      window.events.every(
        (e) =>
          (e.startUs as number) >= mid &&
          (e.startUs as number) < mid + 1_000_000,
      ),
    ).toBe(true);
  });

  it('progress reports bytes read and events, ending at the file size', async () => {
    const seen: { bytesRead: number; totalBytes?: number; events: number }[] =
      [];
    await parseAll(pg, { onProgress: (p) => seen.push({ ...p }) });
    const last = seen.at(-1);
    expect(last?.totalBytes).toBe(readFileSync(pg).length);
    expect(last?.bytesRead).toBe(last?.totalBytes);
    expect(last?.events).toBe(3183);
  });

  it('a run is iterated once; abort stops it with STB_ABORTED', async () => {
    const run = parseLogs(pg);
    for await (const _ of run) break;
    expect(() => run[Symbol.asyncIterator]()).toThrow(/only once/);
    const ac = new AbortController();
    const r2 = parseLogs([pg, pg, pg], { signal: ac.signal });
    let n = 0;
    const err = await failure(
      (async () => {
        for await (const _ of r2) if (++n === 2000) ac.abort();
      })(),
    );
    expect(err.code).toBe('STB_ABORTED');
  });

  it('gzip is detected by content, not by name', async () => {
    const text = `${PG_LINE(1, 'statement: SELECT 1')}\n`;
    const { events } = await parseAll(file('plain-but-named.gz', text));
    expect(events).toHaveLength(1);
    const { events: e2 } = await parseAll(
      file('gzip-named.log', gzipSync(text)),
    );
    expect(e2).toHaveLength(1);
  });
});
