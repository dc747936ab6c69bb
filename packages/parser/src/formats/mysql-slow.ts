import type { z } from 'zod';
import type { InputLine, RawQueryEvent } from '@stb/core';
import { defineLogFormat } from '../log-format';
import type { LogFormatContext } from '../log-format';
import { looksBinary, CUT_REASON } from '../internal/lines';
import {
  mysqlHeaderKind,
  mysqlLogOptions,
  mysqlSessionId,
  offsetOptionUs,
  parseMysqlTime,
  resolutionTracker,
} from '../internal/mysql-common';

const options = mysqlLogOptions;

/** Options of the `mysql-slow` log format. */
export type MysqlSlowOptions = z.infer<typeof options>;

interface SlowEntry {
  line: number;
  timeUs: number;
  user?: string;
  client?: string;
  thread?: string;
  database?: string;
  queryTimeUs?: number;
  setTimestampS?: number;
  /** Past `SET timestamp`: the lines that follow are the statement. */
  inStatement: boolean;
  sql: string[];
  admin: boolean;
}

function num(text: string, key: string): string | undefined {
  const i = text.indexOf(key);
  if (i === -1) return undefined;
  let j = i + key.length;
  while (text.charCodeAt(j) === 32) j++;
  const start = j;
  while (j < text.length && text.charCodeAt(j) !== 32) j++;
  return j > start ? text.slice(start, j) : undefined;
}

const USE_RE = /^use [^;]+;$/i;
const SET_TS_RE = /^SET timestamp=(\d+)(?:\.\d+)?;$/;

/** Reads an entry's `# User@Host`, `# Thread_id` or `# Query_time` line into it (others are ignored). */
function readEntryHeader(cur: SlowEntry, text: string): void {
  if (text.startsWith('# User@Host: ')) {
    // user[user] @ host [ip]  Id: N
    const rest = text.slice(13);
    const br = rest.indexOf('[');
    cur.user = (br === -1 ? rest.split(' ')[0] : rest.slice(0, br)) ?? '';
    const at = rest.indexOf(' @ ');
    if (at !== -1) {
      const hostPart = rest.slice(at + 3);
      const ip = /\[([^\]]*)\]/.exec(hostPart)?.[1];
      const host = hostPart.split(' ')[0];
      const client = ip !== undefined && ip !== '' ? ip : host;
      if (client !== undefined && client !== '') cur.client = client;
    }
    const id = num(text, 'Id:');
    if (id !== undefined) cur.thread = id;
  } else if (text.startsWith('# Thread_id: ')) {
    const id = num(text, 'Thread_id:');
    if (id !== undefined) cur.thread = id;
    const schema = num(text, 'Schema:');
    // An empty schema (`Schema:   QC_hit: No`) is followed by the next key, not a name.
    if (schema !== undefined) cur.database = schema.endsWith(':') ? '' : schema;
  } else if (text.startsWith('# Query_time: ')) {
    const q = Number(num(text, 'Query_time:'));
    if (q >= 0) cur.queryTimeUs = Math.round(q * 1e6);
  }
}

/** One streaming state machine over the slow log's header, `use`, `SET timestamp` and statement lines. */
async function* parseSlow(
  lines: AsyncIterable<InputLine>,
  opts: MysqlSlowOptions,
  ctx: LogFormatContext,
): AsyncGenerator<RawQueryEvent> {
  const offsetUs = offsetOptionUs(opts.utcOffset);
  const firstSeen = new Map<string, string>();
  let lastTimeUs = NaN;
  let lastDatabase: string | undefined;
  const trackResolution = resolutionTracker(ctx);
  let resolution = 0;
  let cur: SlowEntry | undefined;

  const finish = (): RawQueryEvent | undefined => {
    const e = cur;
    cur = undefined;
    if (!e) return undefined;
    if (e.admin) {
      ctx.report('admin', e.line);
      return undefined;
    }
    if (e.sql.length === 0) {
      ctx.report(
        'invalid',
        e.line,
        'entry without a statement (log cut short?)',
      );
      return undefined;
    }
    let sql = e.sql.join('\n');
    if (sql.endsWith(';')) sql = sql.slice(0, -1);
    const thread = e.thread ?? '-';
    let sessionId = firstSeen.get(thread);
    if (sessionId === undefined) {
      sessionId = mysqlSessionId(thread, e.timeUs);
      firstSeen.set(thread, sessionId);
    }
    const ev: RawQueryEvent = {
      sessionId,
      sql,
      source: { file: ctx.file, line: e.line },
      dialect: 'mysql',
    };
    const q = e.queryTimeUs;
    if (resolution < 1_000_000 && !Number.isNaN(e.timeUs) && q !== undefined)
      ev.startUs = e.timeUs - q;
    else if (e.setTimestampS !== undefined) ev.startUs = e.setTimestampS * 1e6;
    else if (!Number.isNaN(e.timeUs)) ev.startUs = e.timeUs - (q ?? 0);
    if (q !== undefined) ev.durationUs = q;
    if (e.user !== undefined) ev.user = e.user;
    if (e.client !== undefined) ev.client = e.client;
    const db = e.database ?? lastDatabase;
    if (db !== undefined && db !== '') ev.database = db;
    return ev;
  };
  const begin = (line: number): SlowEntry => ({
    line,
    timeUs: lastTimeUs,
    inStatement: false,
    sql: [],
    admin: false,
  });

  for await (const { text, line, unterminated } of lines) {
    if (unterminated) {
      // The last line, without its line end: the log was cut there (the server ends every
      // line). A `# ` line that starts an entry leaves the one before it complete; any other line
      // belongs to the entry being read, which is cut with it.
      const starts =
        text.startsWith('# Time: ') ||
        (text.startsWith('# ') &&
          (!cur || cur.sql.length > 0 || cur.inStatement));
      if (starts || !cur) {
        const ev = finish();
        if (ev) yield ev;
        ctx.report('truncated', line, CUT_REASON);
      } else {
        ctx.report('truncated', cur.line, CUT_REASON);
        cur = undefined;
      }
      continue;
    }
    if (text.startsWith('# ')) {
      if (text.startsWith('# Time: ')) {
        const ev = finish();
        if (ev) yield ev;
        const t = parseMysqlTime(text, 8, offsetUs);
        if (Number.isNaN(t))
          ctx.report('invalid', line, 'unreadable `# Time:`');
        else {
          lastTimeUs = t;
          resolution = trackResolution();
        }
        cur = begin(line);
        continue;
      }
      if (cur?.inStatement && text.startsWith('# administrator command: ')) {
        cur.admin = true;
        continue;
      }
      if (!cur || cur.sql.length > 0 || cur.inStatement) {
        const ev = finish();
        if (ev) yield ev;
        cur = begin(line);
      }
      readEntryHeader(cur, text);
      continue;
    }
    const header = mysqlHeaderKind(text);
    if (header) {
      const ev = finish();
      if (ev) yield ev;
      if (header === 'start') firstSeen.clear();
      ctx.report('header', line);
      continue;
    }
    if (!cur) {
      ctx.report(
        'invalid',
        line,
        text.length === 0
          ? 'blank line outside an entry'
          : 'line outside an entry',
      );
      continue;
    }
    if (looksBinary(text)) {
      ctx.report('invalid', line, 'binary data');
      continue;
    }
    if (!cur.inStatement) {
      if (USE_RE.test(text)) {
        cur.database = text.slice(4, -1).trim().replace(/^`|`$/g, '');
        lastDatabase = cur.database;
        continue;
      }
      const ts = SET_TS_RE.exec(text);
      if (ts) {
        cur.setTimestampS = Number(ts[1]);
        cur.inStatement = true;
        continue;
      }
      cur.inStatement = true;
    }
    cur.sql.push(text);
  }
  const ev = finish();
  if (ev) yield ev;
}

/** MySQL/MariaDB slow query log (`slow_query_log`, e.g. with `long_query_time = 0`). */
export const mysqlSlow = defineLogFormat<MysqlSlowOptions>({
  kind: 'log-format',
  name: 'mysql-slow',
  apiVersion: 1,
  dialect: 'mysql',
  description:
    'MySQL/MariaDB slow query log (# Time, # User@Host, # Query_time, SET timestamp, use db).',
  options,
  timeResolutionUs: 1_000_000,
  detect(sample) {
    let marks = 0;
    let lines = 0;
    for (const text of sample) {
      if (text.length === 0) continue;
      lines++;
      if (
        text.startsWith('# Time: ') ||
        text.startsWith('# User@Host: ') ||
        text.startsWith('# Query_time: ') ||
        text.startsWith('# Thread_id: ') ||
        SET_TS_RE.test(text)
      )
        marks++;
    }
    if (marks === 0) return 0;
    return Math.min(0.95, 0.5 + marks / Math.max(lines, 1));
  },
  parse: parseSlow,
});
