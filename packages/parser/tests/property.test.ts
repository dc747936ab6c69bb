import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { isStbError } from '@stb/core';
import type { RawParam } from '@stb/core';
import { formatPgParameters } from '../src/internal/pg-params';
import { parseAll } from './helpers';

// Random valid logs of each format must give back every statement; random corruptions must give
// errors (StbError) or counted skips, never an escaping exception under 'skip'/'collect'.

const dir = mkdtempSync(path.join(tmpdir(), 'stb-parser-prop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
function write(text: string): string {
  const f = path.join(dir, `log-${fileNo++}`);
  writeFileSync(f, text);
  return f;
}

const word = fc.constantFrom(
  'SELECT',
  'x',
  'FROM',
  't',
  'WHERE',
  'id',
  '=',
  '1',
  "'it''s'",
  '"Q"',
  '(',
  ')',
  ',',
  '$$body; here$$',
  "'a;b'",
  '/* c; */',
  'é',
  '42.5',
  'NULL',
  '`bt`',
);
/** SQL-ish text, possibly multi-line (no \r, no leading/trailing blanks). */
const sqlText = fc
  .array(fc.tuple(word, fc.constantFrom(' ', ' ', ' ', '\n', '\n  ')), {
    minLength: 1,
    maxLength: 8,
  })
  .map((parts) => parts.map(([w, sep], i) => (i === 0 ? w : sep + w)).join(''));
const paramValue = fc.oneof(
  fc.constant(null),
  fc
    .string({ maxLength: 12 })
    .filter((s) => !s.includes('\r') && !s.includes('\u0000')),
  fc.constantFrom("it's", 'a\nb', "$1 = 'x'", ''),
);

interface Stmt {
  session: number;
  sql: string;
  params: RawParam[] | undefined;
  durationUs: number;
  gapMs: number;
}
const stmt = (sessions: number) =>
  fc.record({
    session: fc.integer({ min: 0, max: sessions - 1 }),
    sql: sqlText,
    params: fc
      .option(fc.array(paramValue, { minLength: 1, maxLength: 3 }), {
        nil: undefined,
      })
      .map((vs) => vs?.map((value, i) => ({ index: i + 1, value }))),
    durationUs: fc
      .integer({ min: 0, max: 5_000_000 })
      .map((us) => us - (us % 1000)),
    gapMs: fc.integer({ min: 0, max: 1500 }),
  });
const workload = fc
  .integer({ min: 1, max: 4 })
  .chain((n) =>
    fc.tuple(
      fc.constant(n),
      fc.array(stmt(n), { minLength: 1, maxLength: 25 }),
    ),
  );

const BASE_MS = Date.UTC(2026, 10, 24, 11, 0, 0);
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
function pgTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)} UTC`;
}
function withTimes(stmts: Stmt[]): (Stmt & { ms: number })[] {
  let ms = BASE_MS + 1000;
  return stmts.map((s) => {
    ms += s.gapMs;
    return { ...s, ms };
  });
}

/** PostgreSQL stderr with the samples' prefix; log_min_duration_statement style (end-stamped). */
function pgStderr(n: number, stmts: Stmt[]): string {
  const out: string[] = [];
  const prefix = (ms: number, s: number, app = 'app') =>
    `${pgTime(ms)} [${100 + s}] u@db/${app} `;
  for (let s = 0; s < n; s++) {
    out.push(
      `${pgTime(BASE_MS)} [${100 + s}] [unknown]@[unknown]/[unknown] LOG:  connection received: host=127.0.0.1 port=${5000 + s}`,
    );
    out.push(
      `${prefix(BASE_MS, s)}LOG:  connection authorized: user=u database=db application_name=app`,
    );
  }
  for (const st of withTimes(stmts)) {
    const tab = (t: string) => t.replaceAll('\n', '\n\t');
    const p = prefix(st.ms, st.session);
    const dur = (st.durationUs / 1000).toFixed(3);
    if (st.params) {
      out.push(
        `${p}LOG:  duration: ${dur} ms  execute <unnamed>: ${tab(st.sql)}`,
      );
      out.push(
        `${p}DETAIL:  parameters: ${tab(formatPgParameters(st.params))}`,
      );
    } else out.push(`${p}LOG:  duration: ${dur} ms  statement: ${tab(st.sql)}`);
  }
  out.push(`${pgTime(BASE_MS + 999_999)} [1] LOG:  checkpoint starting: time`);
  return out.join('\n') + '\n';
}

const q = (v: string | undefined) =>
  v === undefined ? '' : `"${v.replaceAll('"', '""')}"`;
type PgRow = (r: {
  ms: number;
  s: number;
  msg: string;
  detail?: string;
}) => string;

/** csvlog/jsonlog records of a workload, one per line, made by `row`. */
function pgRecords(n: number, stmts: Stmt[], row: PgRow): string {
  const rows: string[] = [];
  for (let s = 0; s < n; s++)
    rows.push(
      row({
        ms: BASE_MS,
        s,
        msg: `connection received: host=127.0.0.1 port=${5000 + s}`,
      }),
    );
  for (const st of withTimes(stmts)) {
    const dur = (st.durationUs / 1000).toFixed(3);
    rows.push(
      st.params
        ? row({
            ms: st.ms,
            s: st.session,
            msg: `duration: ${dur} ms  execute <unnamed>: ${st.sql}`,
            detail: `parameters: ${formatPgParameters(st.params)}`,
          })
        : row({
            ms: st.ms,
            s: st.session,
            msg: `duration: ${dur} ms  statement: ${st.sql}`,
          }),
    );
  }
  return rows.join('\n') + '\n';
}

const pgCsv = (n: number, stmts: Stmt[]): string =>
  pgRecords(n, stmts, ({ ms, s, msg, detail }) =>
    [
      pgTime(ms),
      q('u'),
      q('db'),
      String(100 + s),
      q(`127.0.0.1:${5000 + s}`),
      `sess.${s}`,
      '1',
      q('SELECT'),
      pgTime(BASE_MS),
      '3/0',
      '0',
      'LOG',
      '00000',
      q(msg),
      q(detail),
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      q('app'),
      q('client backend'),
      '',
      '0',
    ].join(','),
  );

const pgJson = (n: number, stmts: Stmt[]): string =>
  pgRecords(n, stmts, ({ ms, s, msg: message, detail }) =>
    JSON.stringify({
      timestamp: pgTime(ms),
      user: 'u',
      dbname: 'db',
      pid: 100 + s,
      remote_host: '127.0.0.1',
      remote_port: 5000 + s,
      session_id: `sess.${s}`,
      line_num: 1,
      error_severity: 'LOG',
      message,
      detail,
      application_name: 'app',
    }),
  );

function mysqlStamp(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear() % 100)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
/** MariaDB general log: a time only on the first entry of each second. */
function mysqlGeneralLog(n: number, stmts: Stmt[]): string {
  const out = [
    'mariadbd, Version: 10.11.19-MariaDB (Debian 12). started with:',
    'Tcp port: 3306  Unix socket: /tmp/s',
    'Time\t\t    Id Command\tArgument',
  ];
  let lastSec = -1;
  const line = (ms: number, rest: string) => {
    const sec = Math.floor(ms / 1000);
    out.push(`${sec === lastSec ? '\t\t' : `${mysqlStamp(ms)}\t`}${rest}`);
    lastSec = sec;
  };
  for (let s = 0; s < n; s++)
    line(
      BASE_MS,
      `${String(10 + s).padStart(6)} Connect\tu@127.0.0.1 on db using TCP/IP`,
    );
  for (const st of withTimes(stmts))
    line(st.ms, `${String(10 + st.session).padStart(6)} Query\t${st.sql}`);
  return out.join('\n') + '\n';
}

function mysqlSlowLog(n: number, stmts: Stmt[]): string {
  const out: string[] = [];
  void n;
  for (const st of withTimes(stmts)) {
    out.push(`# Time: ${mysqlStamp(st.ms)}`);
    out.push(`# User@Host: u[u] @  [127.0.0.1]`);
    out.push(`# Thread_id: ${10 + st.session}  Schema: db  QC_hit: No`);
    out.push(
      `# Query_time: ${(st.durationUs / 1e6).toFixed(6)}  Lock_time: 0.000000  Rows_sent: 1  Rows_examined: 1`,
    );
    out.push(`SET timestamp=${Math.floor(st.ms / 1000)};`);
    out.push(`${st.sql};`);
  }
  return out.join('\n') + '\n';
}

interface Expect {
  sql: string;
  session: number;
  params?: RawParam[] | undefined;
  startUs?: number | undefined;
}

function check(
  events: Awaited<ReturnType<typeof parseAll>>['events'],
  expected: Expect[],
): void {
  expect(events.map((e) => e.sql)).toEqual(expected.map((e) => e.sql));
  // same session partition
  const ids = new Map<number, string>();
  events.forEach((e, i) => {
    const want = expected[i] as Expect;
    const got = ids.get(want.session);
    if (got === undefined) ids.set(want.session, e.sessionId);
    else expect(e.sessionId).toBe(got);
    if ('params' in want) expect(e.params).toEqual(want.params);
    if (want.startUs !== undefined) expect(e.startUs).toBe(want.startUs);
  });
  expect(new Set(ids.values()).size).toBe(ids.size);
}

const RUNS = { numRuns: 40, seed: 20261124 };

describe('random valid logs: every statement comes back', () => {
  it('postgres-stderr', async () => {
    await fc.assert(
      fc.asyncProperty(workload, async ([n, stmts]) => {
        const { events, summary } = await parseAll(write(pgStderr(n, stmts)), {
          format: 'postgres-stderr',
        });
        expect(summary.files[0]?.skipped['invalid']).toBeUndefined();
        check(
          events,
          withTimes(stmts).map((s) => ({
            sql: s.sql,
            session: s.session,
            params: s.params,
            startUs: s.ms * 1000 - s.durationUs,
          })),
        );
      }),
      RUNS,
    );
  });

  it('postgres-stderr is detected with its prefix', async () => {
    await fc.assert(
      fc.asyncProperty(workload, async ([n, stmts]) => {
        const { summary } = await parseAll(write(pgStderr(n, stmts)));
        expect(summary.files[0]?.format).toBe('postgres-stderr');
      }),
      { ...RUNS, numRuns: 10 },
    );
  });

  it.each([
    ['postgres-csvlog', pgCsv],
    ['postgres-jsonlog', pgJson],
  ])('%s', async (format, make) => {
    await fc.assert(
      fc.asyncProperty(workload, async ([n, stmts]) => {
        const { events, summary } = await parseAll(write(make(n, stmts)));
        expect(summary.files[0]?.format).toBe(format);
        expect(summary.files[0]?.skipped['invalid']).toBeUndefined();
        check(
          events,
          withTimes(stmts).map((s) => ({
            sql: s.sql,
            session: s.session,
            params: s.params,
            startUs: s.ms * 1000 - s.durationUs,
          })),
        );
      }),
      RUNS,
    );
  });

  // General log: times inherited within a second; slow log: SET timestamp (whole seconds).
  it.each([
    ['mysql-general', mysqlGeneralLog],
    ['mysql-slow', mysqlSlowLog],
  ])('%s', async (format, make) => {
    await fc.assert(
      fc.asyncProperty(workload, async ([n, stmts]) => {
        const { events, summary } = await parseAll(write(make(n, stmts)));
        expect(summary.files[0]?.format).toBe(format);
        check(
          events,
          withTimes(stmts).map((s) => ({
            sql: s.sql,
            session: s.session,
            startUs: Math.floor(s.ms / 1000) * 1e6,
          })),
        );
      }),
      RUNS,
    );
  });

  it('plain-sql: split on ; outside strings, comments, dollar quotes and identifiers', async () => {
    const piece = fc.constantFrom(
      'SELECT 1',
      "SELECT 'a;b'",
      "SELECT 'it''s; x'",
      'SELECT $$x; y$$',
      'SELECT $f$a;$$;b$f$',
      'SELECT "we;ird"',
      "SELECT E'\\\\'';'",
      'SELECT 1 /* ; /* nested; */ ; */ + 2',
      'INSERT INTO t\nVALUES (1,\n  2)',
      'SELECT 1 -- trailing; comment\n + 1',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        async (stmts, comments) => {
          const text = stmts
            .map(
              (s, i) => (comments && i % 2 ? `-- note ${i};\n` : '') + s + ';',
            )
            .join('\n');
          const { events, summary } = await parseAll(write(text), {
            format: 'plain-sql',
          });
          expect(summary.files[0]?.skipped['invalid']).toBeUndefined();
          expect(events.map((e) => e.sql)).toEqual(stmts);
          expect(new Set(events.map((e) => e.sessionId)).size).toBe(
            stmts.length,
          );
          expect(events.every((e) => e.startUs === undefined)).toBe(true);
        },
      ),
      RUNS,
    );
  });
});

const makers: [string, (n: number, s: Stmt[]) => string][] = [
  ['postgres-stderr', pgStderr],
  ['postgres-csvlog', pgCsv],
  ['postgres-jsonlog', pgJson],
  ['mysql-general', mysqlGeneralLog],
  ['mysql-slow', mysqlSlowLog],
  ['plain-sql', (_n, s) => s.map((x) => x.sql + ';').join('\n')],
];

const corruption = fc.oneof(
  fc.record({
    kind: fc.constant('truncate' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
  fc.record({
    kind: fc.constant('garbage' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    junk: fc.oneof(
      fc.string({ maxLength: 40 }),
      fc
        .uint8Array({ maxLength: 64 })
        .map((b) => Buffer.from(b).toString('latin1')),
      fc.constantFrom(
        '\u0000\u0001\u0002',
        '"',
        '{"timestamp":',
        '\t\t  12 Quit\t',
        '# Time: 99',
        '$$',
        "'",
        '/*',
      ),
    ),
  }),
  fc.record({
    kind: fc.constant('dropLine' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
);

function corrupt(
  text: string,
  ops: { kind: string; at: number; junk?: string }[],
): Buffer {
  let t = Buffer.from(text);
  for (const op of ops) {
    const pos = Math.floor(op.at * t.length);
    if (op.kind === 'truncate') t = t.subarray(0, pos);
    else if (op.kind === 'garbage')
      t = Buffer.concat([
        t.subarray(0, pos),
        Buffer.from(op.junk ?? '', 'latin1'),
        t.subarray(pos),
      ]);
    else {
      const s = t.toString('latin1');
      const start = s.lastIndexOf('\n', pos - 1) + 1;
      const end = s.indexOf('\n', pos);
      t = Buffer.from(
        s.slice(0, start) + (end === -1 ? '' : s.slice(end + 1)),
        'latin1',
      );
    }
  }
  return t;
}

describe('random corruptions: errors or counted skips, never an escaping exception', () => {
  it.each(makers)('%s', async (format, make) => {
    await fc.assert(
      fc.asyncProperty(
        workload,
        fc.array(corruption, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('skip', 'collect', 'throw'),
        async ([n, stmts], ops, onInvalid) => {
          const f = path.join(dir, `bad-${fileNo++}`);
          writeFileSync(f, corrupt(make(n, stmts), ops));
          try {
            const { events, summary } = await parseAll(f, {
              format,
              onInvalid: onInvalid as 'skip',
            });
            expect(events.length).toBeLessThanOrEqual(
              stmts.length + 3 * ops.length,
            );
            if (onInvalid === 'collect')
              expect(summary.invalid.length).toBe(
                summary.skipped['invalid'] ?? 0,
              );
          } catch (err) {
            // Only 'throw' may throw, and only a StbError naming the problem.
            expect(onInvalid).toBe('throw');
            expect(isStbError(err)).toBe(true);
          }
        },
      ),
      { numRuns: 30, seed: 7 },
    );
  });
});
