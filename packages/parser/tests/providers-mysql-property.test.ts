import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { isStbError } from '@stb/core';
import { comparable, corruption, parseAll } from './helpers';

// Random MySQL general-log workloads written as a MySQL 8 general log file and as the managed
// services give them: mysql.general_log dumps (mysql --batch, INTO OUTFILE tab and CSV), Cloud
// Logging entries and CloudWatch events. Each must give the file's events; corruptions are
// counted or reported with file and line, never a crash.

const dir = mkdtempSync(path.join(tmpdir(), 'stb-parser-mysql-prop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
function write(text: string, ext = ''): string {
  const f = path.join(dir, `log-${fileNo++}${ext}`);
  writeFileSync(f, text);
  return f;
}

const piece = fc.constantFrom(
  'SELECT',
  ' ',
  'x',
  "'a\tb'",
  "'it''s'",
  '\\',
  '"q"',
  ',',
  'é',
  '\n  FROM t',
  '1',
);
const sql = fc
  .array(piece, { minLength: 1, maxLength: 8 })
  .map((p) => `SELECT ${p.join('')}`);
interface Row {
  thread: number;
  command: 'Connect' | 'Query' | 'Quit';
  argument: string;
  gapUs: number;
}
const rows = fc
  .array(
    fc.record({
      thread: fc.integer({ min: 1, max: 4 }),
      kind: fc.constantFrom('Query', 'Query', 'Query', 'Connect', 'Quit'),
      sql,
      gapUs: fc.integer({ min: 0, max: 3_000_000 }),
    }),
    { minLength: 3, maxLength: 20 },
  )
  .map((rs) =>
    rs.map((r): Row => ({
      thread: r.thread,
      command: r.kind,
      argument:
        r.kind === 'Query'
          ? r.sql
          : r.kind === 'Connect'
            ? `u${r.thread}@localhost on db${r.thread} using TCP/IP`
            : '',
      gapUs: r.gapUs,
    })),
  );

const BASE_US = Date.UTC(2026, 10, 24, 11, 0, 0) * 1000;
function times(rs: Row[]): number[] {
  let us = BASE_US;
  return rs.map((r) => (us += r.gapUs));
}
const iso = (us: number) =>
  `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 19)}.${String(us % 1_000_000).padStart(6, '0')}Z`;
const local = (us: number) => iso(us).replace('T', ' ').replace('Z', '');

/** The MySQL 8 general log file of the rows (ISO time on every entry). */
function generalFile(rs: Row[]): string {
  const t = times(rs);
  return (
    rs
      .map(
        (r, i) =>
          `${iso(t[i] as number)}\t${r.thread} ${r.command}\t${r.argument}`,
      )
      .join('\n') + '\n'
  );
}
const batchEscape = (s: string) =>
  s
    .replaceAll('\\', '\\\\')
    .replaceAll('\t', '\\t')
    .replaceAll('\n', '\\n')
    .replaceAll('\u0000', '\\0');
const outfileEscape = (s: string, sep: string) =>
  s
    .replaceAll('\\', '\\\\')
    .replaceAll(sep, `\\${sep}`)
    .replaceAll('\n', '\\\n')
    .replaceAll('"', '\\"');

type Wrap = (
  rs: Row[],
  pick: (k: number) => number,
) => { text: string; ext: string; format: string };
const table: Wrap = (rs, pick) => {
  const t = times(rs);
  const style = pick(3);
  const cols = (r: Row, i: number) => [
    local(t[i] as number),
    `u[u] @ localhost []`,
    String(r.thread),
    '1',
    r.command,
    r.argument,
  ];
  if (style === 0)
    return {
      format: 'mysql-table',
      ext: '.tsv',
      text:
        [
          'event_time\tuser_host\tthread_id\tserver_id\tcommand_type\targument',
          ...rs.map((r, i) => cols(r, i).map(batchEscape).join('\t')),
        ].join('\n') + '\n',
    };
  if (style === 1)
    return {
      format: 'mysql-table',
      ext: '.txt',
      text:
        rs
          .map((r, i) =>
            cols(r, i)
              .map((c) => outfileEscape(c, '\t'))
              .join('\t'),
          )
          .join('\n') + '\n',
    };
  return {
    format: 'mysql-table',
    ext: '.csv',
    text:
      rs
        .map((r, i) =>
          cols(r, i)
            .map((c, j) =>
              j === 2 || j === 3 ? c : `"${outfileEscape(c, ',')}"`,
            )
            .join(','),
        )
        .join('\n') + '\n',
  };
};
const gcp: Wrap = (rs, pick) => {
  const lines = generalFile(rs).split('\n').slice(0, -1);
  const entries = lines.map((l) => ({
    textPayload: l,
    resource: { type: 'cloudsql_database', labels: { database_id: 'p:m' } },
    timestamp: '2026-11-24T11:00:00Z',
    logName: 'projects/p/logs/cloudsql.googleapis.com%2Fmysql-general.log',
  }));
  return pick(2) === 0
    ? {
        format: 'gcp-mysql',
        ext: '.jsonl',
        text: entries.map((e) => JSON.stringify(e)).join('\n') + '\n',
      }
    : {
        format: 'gcp-mysql',
        ext: '.json',
        text: JSON.stringify(entries, null, 2) + '\n',
      };
};
const aws: Wrap = (rs, pick) => {
  const t = times(rs);
  const msgs = rs.map((r, i) => ({
    ms: Math.floor((t[i] as number) / 1000),
    message: `${iso(t[i] as number)}\t${r.thread} ${r.command}\t${r.argument}`,
  }));
  return pick(2) === 0
    ? {
        format: 'aws-mysql',
        ext: '.txt',
        text:
          msgs
            .map((m) => `${new Date(m.ms).toISOString()} ${m.message}`)
            .join('\n') + '\n',
      }
    : {
        format: 'aws-mysql',
        ext: '.json',
        text:
          JSON.stringify(
            {
              events: msgs.map((m) => ({
                timestamp: m.ms,
                message: m.message,
                ingestionTime: m.ms,
              })),
            },
            null,
            4,
          ) + '\n',
      };
};

const csvCell = (v: string) =>
  /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
/** Azure Database for MySQL audit records: diagnostic settings JSON, Log Analytics CSV, resource-specific CSV. */
const azure: Wrap = (rs, pick) => {
  const t = times(rs);
  const recs = rs.map((r, i) => {
    const base = {
      time: iso(t[i] as number),
      connection: String(r.thread),
      user: `u${r.thread}`,
      ip: 'localhost',
    };
    return r.command === 'Query'
      ? { ...base, cls: 'general_log', sub: 'LOG', db: '', sql: r.argument }
      : r.command === 'Connect'
        ? {
            ...base,
            cls: 'connection_log',
            sub: 'CONNECT',
            db: `db${r.thread}`,
            sql: '',
          }
        : {
            ...base,
            cls: 'connection_log',
            sub: 'DISCONNECT',
            db: '',
            sql: '',
          };
  });
  const style = pick(3);
  if (style === 0)
    return {
      format: 'azure-mysql',
      ext: '.json',
      text:
        JSON.stringify(
          {
            records: recs.map((r) => ({
              time: r.time,
              category: 'MySqlAuditLogs',
              operationName: 'LogEvent',
              properties: {
                event_class: r.cls,
                event_subclass: r.sub,
                event_time: r.time,
                connection_id: Number(r.connection),
                user: r.user,
                ip: r.ip,
                db: r.db,
                sql_text: r.sql,
              },
            })),
          },
          null,
          1,
        ) + '\n',
    };
  // Log Analytics `AzureDiagnostics` columns, or the resource-specific `MySqlAuditLogs` table's.
  const names =
    style === 1
      ? 'TimeGenerated [UTC],Category,event_class_s,event_subclass_s,event_time_t [UTC],connection_id_d,user_s,ip_s,db_s,sql_text_s'
      : 'TimeGenerated [UTC],Type,EventClass,EventSubclass,EventTime [UTC],ConnectionId,User,Ip,Db,SqlText';
  const row = (r: (typeof recs)[number]) => [
    r.time,
    'MySqlAuditLogs',
    r.cls,
    r.sub,
    r.time,
    r.connection,
    r.user,
    r.ip,
    r.db,
    r.sql,
  ];
  return {
    format: 'azure-mysql',
    ext: '.csv',
    text:
      [names, ...recs.map((r) => row(r).map(csvCell).join(','))].join('\r\n') +
      '\r\n',
  };
};
/** CloudWatch Logs Insights results downloaded as CSV (`fields @timestamp, @message`). */
const insights: Wrap = (rs) => {
  const t = times(rs);
  return {
    format: 'aws-mysql',
    ext: '.csv',
    text:
      [
        '@timestamp,@message',
        ...rs.map((r, i) =>
          [
            local(t[i] as number).slice(0, 23),
            `${iso(t[i] as number)}\t${r.thread} ${r.command}\t${r.argument}`,
          ]
            .map(csvCell)
            .join(','),
        ),
      ].join('\n') + '\n',
  };
};

describe.each([
  ['azure-mysql', azure],
  ['aws-mysql insights', insights],
  ['mysql-table', table],
  ['gcp-mysql', gcp],
  ['aws-mysql', aws],
] as [string, Wrap][])('%s', (_name, wrap) => {
  it('random valid envelopes give the events of the general log file', async () => {
    await fc.assert(
      fc.asyncProperty(rows, fc.infiniteStream(fc.nat()), async (rs, rnd) => {
        const it = rnd[Symbol.iterator]();
        const pick = (k: number) => (it.next().value as number) % k;
        const { text, ext, format } = wrap(rs, pick);
        const env = await parseAll(write(text, ext));
        const plain = await parseAll(write(generalFile(rs), '.log'), {
          format: 'mysql-general',
        });
        expect(env.summary.files[0]?.format).toBe(format);
        expect(plain.events).toHaveLength(
          rs.filter((r) => r.command === 'Query').length,
        );
        expect(comparable(env.events)).toEqual(comparable(plain.events));
      }),
      { numRuns: 25 },
    );
  });

  it('corrupt envelopes are counted or reported with file and line, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(
        rows,
        fc.infiniteStream(fc.nat()),
        corruption,
        async (rs, rnd, { how, at }) => {
          const it = rnd[Symbol.iterator]();
          const pick = (k: number) => (it.next().value as number) % k;
          const { text, ext, format } = wrap(rs, pick);
          const lines = text.split('\n');
          const i = at % Math.max(1, lines.length - 1);
          const bad =
            how === 'truncate'
              ? text.slice(0, at % text.length)
              : how === 'drop-line'
                ? lines.filter((_, j) => j !== i).join('\n')
                : how === 'garbage-line'
                  ? [
                      ...lines.slice(0, i),
                      '}{ "garbage\t\\',
                      ...lines.slice(i),
                    ].join('\n')
                  : lines
                      .map((l, j) => (j === i ? l.slice(0, l.length >> 1) : l))
                      .join('\n');
          const file = write(bad, ext);
          const collected = await parseAll(file, {
            format,
            onInvalid: 'collect',
          });
          for (const inv of collected.summary.invalid) {
            expect(inv.file).toBe(file);
            expect(inv.line).toBeGreaterThan(0);
          }
          try {
            await parseAll(file, { format, onInvalid: 'throw' });
          } catch (err) {
            expect(isStbError(err)).toBe(true);
            if (isStbError(err, 'STB_PARSE_INVALID_LINE'))
              expect(err.message).toContain(file);
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});
