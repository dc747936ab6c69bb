import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { isStbError } from '@stb/core';
import type { RawParam } from '@stb/core';
import { formatPgParameters } from '../src/internal/pg-params';
import { comparable, corruption, parseAll } from './helpers';

// Random workloads written as a PostgreSQL stderr log, wrapped in random variants of each
// managed-service envelope: the envelope must give the plain log's events. Random corruptions of
// the envelope (cut, dropped or garbage lines, truncation) are counted under 'collect' and raise
// STB_PARSE_INVALID_LINE naming the file and line under 'throw', never another exception.

const dir = mkdtempSync(path.join(tmpdir(), 'stb-parser-providers-prop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
function write(text: string, ext = ''): string {
  const f = path.join(dir, `log-${fileNo++}${ext}`);
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
  ',',
  '$$a; b$$',
  'é',
  'NULL',
);
const sqlText = fc.oneof(
  fc
    .array(fc.tuple(word, fc.constantFrom(' ', ' ', '\n', '\n  ')), {
      minLength: 1,
      maxLength: 8,
    })
    .map((parts) =>
      parts.map(([w, sep], i) => (i === 0 ? w : sep + w)).join(''),
    ),
  // Long enough for syslog's 900-byte chunks.
  fc
    .integer({ min: 100, max: 300 })
    .map(
      (n) =>
        `SELECT ${Array.from({ length: n }, (_, i) => `c${i}`).join(', ')} FROM t`,
    ),
);
const paramValue = fc.oneof(
  fc.constant(null),
  fc.constantFrom("it's", 'a\nb', "$1 = 'x'", '', 'plain'),
);
interface Stmt {
  session: number;
  sql: string;
  params: RawParam[] | undefined;
  gapMs: number;
}
const workload = fc.integer({ min: 1, max: 3 }).chain((n) =>
  fc.tuple(
    fc.constant(n),
    fc.array(
      fc.record({
        session: fc.integer({ min: 0, max: n - 1 }),
        sql: sqlText,
        params: fc
          .option(fc.array(paramValue, { minLength: 1, maxLength: 3 }), {
            nil: undefined,
          })
          .map((vs) => vs?.map((value, i) => ({ index: i + 1, value }))),
        gapMs: fc.integer({ min: 0, max: 1500 }),
      }),
      { minLength: 1, maxLength: 15 },
    ),
  ),
);

const BASE_MS = Date.UTC(2026, 10, 24, 11, 0, 0);
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const pgTime = (ms: number) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)} UTC`;
};

/** One server entry: its lines (tab continuations), time, pid and `%l`. */
interface Entry {
  lines: string[];
  ms: number;
  pid: number;
  seq: number;
  level: string;
}

type Prefix = (ms: number, pid: number, seq: number) => string;
const CLOUDSQL: Prefix = (ms, pid, seq) =>
  `${pgTime(ms)} [${pid}]: [${seq}-1] db=db,user=u `;
const HEROKU: Prefix = (ms, pid, seq) =>
  ` sql_error_code = 00000 time_ms = "${pgTime(ms)}" pid="${pid}" proc_start_time="${pgTime(BASE_MS).slice(0, 19)} UTC" session_id="6b0f.${pid.toString(16)}" vtid="3/${seq}" tid="0" log_line="${seq}" database="db" connection_source="127.0.0.1(${pid})" user="u" application_name="app" `;

/** The server's stderr entries of a workload (`log_min_duration_statement = 0`, extended protocol). */
function serverEntries(n: number, stmts: Stmt[], prefix: Prefix): Entry[] {
  const out: Entry[] = [];
  const seq = new Map<number, number>();
  // a DETAIL line continues its statement's entry: the same line number (`%l`)
  const entry = (
    at: { ms: number; pid: number; detail?: true },
    msg: string,
  ) => {
    const { ms, pid } = at;
    const level = at.detail ? 'DETAIL' : 'LOG';
    const l = (seq.get(pid) ?? 0) + (at.detail ? 0 : 1);
    seq.set(pid, l);
    const text = `${prefix(ms, pid, l)}${level}:  ${msg.replaceAll('\n', '\n\t')}`;
    out.push({ lines: text.split('\n'), ms, pid, seq: l, level });
  };
  for (let s = 0; s < n; s++)
    entry(
      { ms: BASE_MS, pid: 100 + s },
      `connection authorized: user=u database=db`,
    );
  let ms = BASE_MS + 1000;
  for (const st of stmts) {
    ms += st.gapMs;
    const pid = 100 + st.session;
    if (st.params) {
      entry({ ms, pid }, `duration: 0.100 ms  execute <unnamed>: ${st.sql}`);
      entry(
        { ms, pid, detail: true },
        `parameters: ${formatPgParameters(st.params)}`,
      );
    } else entry({ ms, pid }, `duration: 0.100 ms  statement: ${st.sql}`);
  }
  return out;
}
const plainText = (entries: Entry[]) =>
  entries.flatMap((e) => e.lines).join('\n') + '\n';

type Wrap = (
  entries: Entry[],
  pick: (k: number) => number,
) => { text: string; ext: string };

function shuffleKeys<T extends Record<string, unknown>>(
  o: T,
  pick: (k: number) => number,
): T {
  const keys = Object.keys(o);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [keys[i], keys[j]] = [keys[j] as string, keys[i] as string];
  }
  return Object.fromEntries(keys.map((k) => [k, o[k]])) as T;
}

const gcp: Wrap = (entries, pick) => {
  const perLine = pick(2) === 0;
  const json = pick(2) === 0;
  const records = entries.flatMap((e) =>
    (perLine ? e.lines : [e.lines.join('\n')]).map((text) =>
      shuffleKeys(
        {
          ...(json
            ? { jsonPayload: { message: text } }
            : { textPayload: text }),
          insertId: `i${e.seq}`,
          resource: {
            type: 'cloudsql_database',
            labels: { database_id: 'p:i', project_id: 'p', region: 'r' },
          },
          timestamp: new Date(e.ms).toISOString(),
          severity: e.level === 'LOG' ? 'INFO' : 'ERROR',
          logName: 'projects/p/logs/cloudsql.googleapis.com%2Fpostgres.log',
          extra: { nested: [1, { a: '}' }] },
        },
        pick,
      ),
    ),
  );
  const style = pick(3);
  if (style === 0)
    return {
      text: records.map((r) => JSON.stringify(r)).join('\n') + '\n',
      ext: '.jsonl',
    };
  return {
    text: JSON.stringify(records, null, style === 1 ? 2 : undefined) + '\n',
    ext: '.json',
  };
};

const azure: Wrap = (entries, pick) => {
  const recs: {
    message: string;
    detail?: string;
    level: string;
    ms: number;
    pid: number;
  }[] = [];
  for (const e of entries) {
    const text = e.lines.join('\n');
    const prev = recs[recs.length - 1];
    if (e.level === 'DETAIL' && prev && prev.pid === e.pid) {
      prev.detail = text.slice(text.indexOf('DETAIL:  ') + 9);
      continue;
    }
    recs.push({ message: text, level: e.level, ms: e.ms, pid: e.pid });
  }
  const style = pick(3);
  if (style === 2) {
    const q = (v: string | number | undefined) =>
      v === undefined
        ? ''
        : /[",\n]/.test(String(v))
          ? `"${String(v).replaceAll('"', '""')}"`
          : String(v);
    const rows = [
      'TimeGenerated [UTC],Category,errorLevel_s,processId_d,Message,detail_s',
    ];
    for (const r of recs)
      rows.push(
        [
          new Date(r.ms).toISOString(),
          'PostgreSQLLogs',
          r.level,
          r.pid,
          r.message,
          r.detail,
        ]
          .map(q)
          .join(','),
      );
    return {
      text: rows.join(pick(2) === 0 ? '\n' : '\r\n') + '\n',
      ext: '.csv',
    };
  }
  const records = recs.map((r) =>
    shuffleKeys(
      {
        time: new Date(r.ms).toISOString(),
        category: 'PostgreSQLLogs',
        operationName: 'LogEvent',
        properties: {
          errorLevel: r.level,
          processId: r.pid,
          message: r.message,
          ...(r.detail === undefined ? {} : { detail: r.detail }),
        },
      },
      pick,
    ),
  );
  if (style === 0)
    return {
      text: records.map((r) => JSON.stringify(r)).join('\n') + '\n',
      ext: '.json',
    };
  return { text: JSON.stringify({ records }, null, 1) + '\n', ext: '.json' };
};

const aws: Wrap = (entries, pick) => {
  if (pick(2) === 0)
    return {
      text:
        entries
          .map((e) => `${new Date(e.ms).toISOString()} ${e.lines.join('\n')}`)
          .join('\n') + '\n',
      ext: '.txt',
    };
  const events = entries.map((e, i) => ({
    logStreamName: 's',
    timestamp: e.ms,
    message: e.lines.join('\n'),
    ingestionTime: e.ms + 1,
    eventId: String(i),
  }));
  return {
    text:
      JSON.stringify(
        {
          events,
          searchedLogStreams: [
            { logStreamName: 's', searchedCompletely: true },
          ],
          nextToken: 'x',
        },
        null,
        pick(2) === 0 ? 4 : undefined,
      ) + '\n',
    ext: '.json',
  };
};

/** PostgreSQL's write_syslog() chunking, at a random limit, through logplex frames. */
const heroku: Wrap = (entries, pick) => {
  const limit = 350 + pick(551);
  const msgs: { pid: number; seq: number; ms: number; text: string }[] = [];
  for (const e of entries) {
    const prev = msgs[msgs.length - 1];
    const text = e.lines.join('\n');
    if (prev && prev.pid === e.pid && prev.seq === e.seq)
      prev.text += '\n' + text;
    else msgs.push({ pid: e.pid, seq: e.seq, ms: e.ms, text });
  }
  const lines: string[] = [];
  for (const m of msgs) {
    const frame = `${new Date(Math.floor(m.ms / 1000) * 1000).toISOString().replace('.000Z', '+00:00')} app[postgres.${m.pid}]: [DATABASE]`;
    let n = 0;
    for (const line of m.text.split('\n')) {
      let rest = Buffer.from(line);
      while (rest.length > 0) {
        let len = Math.min(rest.length, limit);
        // Never inside a UTF-8 sequence (pg_mbcliplen), then back to a word boundary.
        while (len < rest.length && ((rest[len] as number) & 0xc0) === 0x80)
          len--;
        if (
          len < rest.length &&
          !/\s/.test(String.fromCharCode(rest[len] as number))
        ) {
          let i = len - 1;
          while (i > 0 && !/\s/.test(String.fromCharCode(rest[i] as number)))
            i--;
          if (i > 0) len = i;
        }
        lines.push(
          `${frame} [${m.seq}-${++n}] ${rest.subarray(0, len).toString()}`,
        );
        rest = rest.subarray(len);
      }
    }
  }
  return { text: lines.join('\n') + '\n', ext: '.log' };
};

const WRAPS: [string, Wrap, Prefix][] = [
  ['gcp-postgres', gcp, CLOUDSQL],
  ['azure-postgres', azure, CLOUDSQL],
  ['aws-postgres', aws, CLOUDSQL],
  ['heroku-postgres', heroku, HEROKU],
];

describe.each(WRAPS)('%s', (format, wrap, prefix) => {
  it('random valid envelopes give the events of the plain log', async () => {
    await fc.assert(
      fc.asyncProperty(
        workload,
        fc.infiniteStream(fc.nat()),
        async ([n, stmts], rnd) => {
          const entries = serverEntries(n, stmts, prefix);
          const it = rnd[Symbol.iterator]();
          const pick = (k: number) => (it.next().value as number) % k;
          const { text, ext } = wrap(entries, pick);
          const env = await parseAll(write(text, ext));
          const plain = await parseAll(write(plainText(entries), '.log'));
          expect(env.summary.files[0]?.format).toBe(format);
          expect(plain.events).toHaveLength(stmts.length);
          expect(comparable(env.events)).toEqual(comparable(plain.events));
        },
      ),
      { numRuns: 20 },
    );
  });

  it('corrupt envelopes are counted or reported with file and line, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(
        workload,
        fc.infiniteStream(fc.nat()),
        corruption,
        async ([n, stmts], rnd, { how, at }) => {
          const it = rnd[Symbol.iterator]();
          const pick = (k: number) => (it.next().value as number) % k;
          const { text, ext } = wrap(serverEntries(n, stmts, prefix), pick);
          const lines = text.split('\n');
          const i = at % Math.max(1, lines.length - 1);
          let bad: string;
          if (how === 'truncate') bad = text.slice(0, at % text.length);
          else if (how === 'drop-line')
            bad = lines.filter((_, j) => j !== i).join('\n');
          else if (how === 'garbage-line')
            bad = [
              ...lines.slice(0, i),
              '}{ garbage ] "',
              ...lines.slice(i),
            ].join('\n');
          else
            bad = lines
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
            if (isStbError(err, 'STB_PARSE_INVALID_LINE')) {
              expect(err.message).toMatch(/^\[stb\] \[parser\] Line \d+ of `/);
              expect(err.message).toContain(file);
            }
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});
