import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { isStbError } from '@stb/core';
import { parseAll } from './helpers';

// The Azure Database for MySQL and CloudWatch Logs Insights details the fixtures do not cover:
// the resource-specific slow-log table, exports mixing both logs, and what bad records become.
const dir = mkdtempSync(path.join(tmpdir(), 'stb-azure-mysql-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (text: string, ext: string): string => {
  const f = path.join(dir, `f${n++}${ext}`);
  writeFileSync(f, text);
  return f;
};

test('resource-specific MySqlSlowLogs rows (QueryDurationMs, StartTime, SqlText)', async () => {
  const csv = [
    'TimeGenerated [UTC],Type,StartTime [UTC],QueryDurationMs,LockDurationMs,Host,Db,ThreadId,RowsSent,RowsExamined,SqlText',
    '"12/2/2026, 3:04:49.250 PM",MySqlSlowLogs,"12/2/2026, 3:04:49.000 PM",250,1,"app[app] @  [10.0.0.4]",shop,42,1,10,"SELECT *\nFROM orders WHERE id = 7;"',
    '"12/2/2026, 3:04:50.012 PM",MySqlSlowLogs,"12/2/2026, 3:04:50.000 PM",12,0,"app[app] @  [10.0.0.4]",shop,42,0,1,"UPDATE orders SET paid = 1 WHERE id = 7"',
  ].join('\r\n');
  const { events, summary } = await parseAll(file(`${csv}\r\n`, '.csv'));
  expect(summary.files[0]?.format).toBe('azure-mysql');
  expect(
    events.map((e) => [e.sql, e.startUs, e.durationUs, e.database]),
  ).toEqual([
    [
      'SELECT *\nFROM orders WHERE id = 7',
      Date.UTC(2026, 11, 2, 15, 4, 49) * 1000,
      250_000,
      'shop',
    ],
    [
      'UPDATE orders SET paid = 1 WHERE id = 7',
      Date.UTC(2026, 11, 2, 15, 4, 50) * 1000,
      12_000,
      'shop',
    ],
  ]);
  expect(new Set(events.map((e) => e.sessionId)).size).toBe(1);
});

const slow = {
  time: '2026-12-02T03:04:49.001Z',
  category: 'MySqlSlowLogs',
  properties: {
    event_class: 'slow_log',
    start_time: '2026-12-02T03:04:49.000Z',
    query_time: 0.001,
    lock_time: 0,
    user_host: 'u[u] @  [127.0.0.1]',
    db: 'd',
    thread_id: 9,
    rows_sent: 1,
    rows_examined: 1,
    sql_text: 'SELECT 2',
  },
};
const audit = (sub: string, sql: string) => ({
  time: '2026-12-02T03:04:48Z',
  category: 'MySqlAuditLogs',
  properties: {
    event_class: sub === 'CONNECT' ? 'connection_log' : 'general_log',
    event_subclass: sub,
    event_time: '2026-12-02T03:04:48Z',
    connection_id: 9,
    user: 'u',
    ip: '127.0.0.1',
    db: 'd',
    sql_text: sql,
  },
});

test('an export holding both logs reads the first record’s log, or the one option `log` names', async () => {
  const text =
    [
      audit('CONNECT', ''),
      audit('LOG', 'SELECT 1'),
      slow,
      audit('ERROR', 'SELEC 1'),
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n';
  const f = file(text, '.json');
  const first = await parseAll(f);
  expect(first.summary.files[0]?.format).toBe('azure-mysql');
  expect(first.events.map((e) => [e.sql, e.database, e.user])).toEqual([
    ['SELECT 1', 'd', 'u'],
  ]);
  expect(first.summary.skipped).toMatchObject({ other: 1, error: 1 });
  const slowOnly = await parseAll(f, {
    formatOptions: { 'azure-mysql': { log: 'slow' } },
  });
  expect(slowOnly.events.map((e) => [e.sql, e.durationUs])).toEqual([
    ['SELECT 2', 1000],
  ]);
  expect(slowOnly.summary.skipped['other']).toBe(3);
});

test('a record that is not an Azure MySQL record is reported with file and line', async () => {
  const text = [
    audit('LOG', 'SELECT 1'),
    {
      category: 'MySqlAuditLogs',
      properties: {
        event_class: 'general_log',
        event_subclass: 'LOG',
        connection_id: 1,
      },
    },
  ]
    .map((r) => JSON.stringify(r))
    .join('\n');
  const f = file(`${text}\n`, '.json');
  const err = await parseAll(f).catch((e: unknown) => e);
  expect(isStbError(err, 'STB_PARSE_INVALID_LINE')).toBe(true);
  expect((err as Error).message).toContain(`Line 2 of \`${f}\``);
  const kept = await parseAll(f, { onInvalid: 'collect' });
  expect(kept.events).toHaveLength(1);
  expect(kept.summary.invalid[0]).toMatchObject({ file: f, line: 2 });
});

test('Logs Insights rows sorted newest first are reported, with the fix, not reordered', async () => {
  const rows = [
    '@timestamp,@message',
    '2026-12-02 03:04:49.000,2026-12-02T03:04:49.000000Z\t3 Query\tSELECT 2',
    '2026-12-02 03:04:48.000,2026-12-02T03:04:48.000000Z\t3 Query\tSELECT 1',
  ];
  const f = file(`${rows.join('\n')}\n`, '.csv');
  const r = await parseAll(f, { onInvalid: 'collect' });
  expect(r.summary.files[0]?.format).toBe('aws-mysql');
  expect(r.events.map((e) => e.sql)).toEqual(['SELECT 2']);
  expect(r.summary.invalid[0]).toMatchObject({ file: f, line: 3 });
  expect(r.summary.invalid[0]?.reason).toContain('sort @timestamp asc');
});
