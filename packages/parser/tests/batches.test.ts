import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { InputLine, RawQueryEvent } from '@stb/core';
import {
  mysqlGeneral,
  parseLogBatches,
  parseLogs,
  postgresCsvlog,
  postgresJsonlog,
  postgresStderr,
} from '@stb/parser';
import type { LogFormatContext } from '@stb/parser';
import { GENERATED } from './helpers';

// parseLogBatches is what `stb parse` reads: the same events, order and summary as parseLogs,
// whatever the batch and read-chunk boundaries (issue 19).

async function perEvent(files: string[]) {
  const run = parseLogs(files, { onInvalid: 'collect' });
  const events: RawQueryEvent[] = [];
  for await (const e of run) events.push(e);
  return { events, summary: run.summary() };
}

async function batched(files: string[]) {
  const run = parseLogBatches(files, { onInvalid: 'collect' });
  const events: RawQueryEvent[] = [];
  let batches = 0;
  for await (const b of run) {
    expect(b.length).toBeGreaterThan(0);
    expect(b.length).toBeLessThanOrEqual(2048);
    batches++;
    events.push(...b);
  }
  return { events, summary: run.summary(), batches };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'stb-parse-batches-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it.each([
  'pg-logstatement-duration/postgresql.log.gz',
  'pg-logstatement-duration/postgresql.csv.gz',
  'pg-logstatement-duration/postgresql.json.gz',
  'pg-mindur-rds/postgresql.log.gz',
  'mariadb-sysbench-small/general.log.gz',
  'mariadb-sysbench-small/slow.log.gz',
])('%s: batches hold the per-event stream', async (f) => {
  const file = path.join(GENERATED, f);
  const a = await perEvent([file]);
  const b = await batched([file]);
  expect(a.events.length).toBeGreaterThan(0);
  expect(b.events).toEqual(a.events);
  expect(b.summary).toEqual(a.summary);
});

it('several inputs and multi-line records across 1 MiB read chunks', async () => {
  // Repeat a real stderr log (multi-line statements with tab continuation lines) past several
  // read chunks, so records and lines straddle chunk and batch boundaries.
  const text = gunzipSync(
    readFileSync(
      path.join(GENERATED, 'pg-logstatement-duration/postgresql.log.gz'),
    ),
  ).toString('utf8');
  const big = path.join(dir, 'big.log');
  writeFileSync(big, text.repeat(Math.ceil((3 << 20) / text.length)));
  const csv = path.join(
    GENERATED,
    'pg-logstatement-duration/postgresql.csv.gz',
  );
  const a = await perEvent([big, csv]);
  const b = await batched([big, csv]);
  expect(b.batches).toBeGreaterThan(1);
  expect(b.events).toEqual(a.events);
  expect(b.summary).toEqual(a.summary);
  // Every line of the big file was read once, in order.
  expect(b.summary.files[0]?.linesRead).toBe(
    text.repeat(Math.ceil((3 << 20) / text.length)).split('\n').length - 1,
  );
  expect(b.events.some((e) => e.sql.includes('\n'))).toBe(true);
});

it.each([
  ['pg-logstatement-duration/postgresql.log.gz', postgresStderr],
  ['pg-mindur-rds/postgresql.log.gz', postgresStderr],
  ['pg-logstatement-duration/postgresql.csv.gz', postgresCsvlog],
  ['pg-mindur-rds/postgresql.csv.gz', postgresCsvlog],
  ['pg-logstatement-duration/postgresql.json.gz', postgresJsonlog],
  ['mariadb-sysbench-small/general.log.gz', mysqlGeneral],
] as const)(
  '%s: the plugin gives the same events and reports per line and in batches',
  async (f, plugin) => {
    const text = gunzipSync(readFileSync(path.join(GENERATED, f))).toString(
      'utf8',
    );
    // Damage a few lines too, so invalid and continuation-without-entry reports are compared.
    const lines: InputLine[] = `\tstray continuation\n${text}not a log line\n\n`
      .split('\n')
      .slice(0, -1)
      .map((t, i) => ({ text: t, line: i + 1 }));
    const context = () => {
      const reports: string[] = [];
      const ctx: LogFormatContext = {
        file: 'x.log',
        fileIndex: 0,
        onInvalid: 'collect',
        report: (kind, line, reason) => {
          reports.push(`${kind}:${line}:${reason ?? ''}`);
        },
      };
      return { ctx, reports };
    };
    const one = context();
    const perLine: RawQueryEvent[] = [];
    async function* each() {
      yield* lines;
    }
    for await (const e of plugin.parse(each(), {}, one.ctx)) perLine.push(e);
    const two = context();
    const inBatches: RawQueryEvent[] = [];
    async function* arrays() {
      for (let i = 0; i < lines.length; i += 7) yield lines.slice(i, i + 7);
    }
    const parseBatches = plugin.parseBatches;
    expect(parseBatches).toBeDefined();
    for await (const b of parseBatches!(arrays(), {}, two.ctx))
      inBatches.push(...b);
    expect(perLine.length).toBeGreaterThan(0);
    expect(inBatches).toEqual(perLine);
    expect(two.reports.sort()).toEqual(one.reports.sort());
    expect(one.reports.some((r) => r.startsWith('invalid:'))).toBe(true);
  },
);
