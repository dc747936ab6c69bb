import type { z } from 'zod';
import type { InputLine, RawQueryEvent } from '@stb/core';
import { defineLogFormat } from '../log-format';
import type { LogFormatContext } from '../log-format';
import { looksBinary, CUT_REASON } from '../internal/lines';
import { parseLineBatches, parseLines } from '../internal/line-parser';
import type { LineParser } from '../internal/line-parser';
import {
  mysqlHeaderKind,
  mysqlLogOptions,
  mysqlScan,
  mysqlSessionId,
  offsetOptionUs,
  parseMysqlTime,
  resolutionTracker,
} from '../internal/mysql-common';
import type { MysqlSession } from '../internal/mysql-common';

const options = mysqlLogOptions;

/** Options of the `mysql-general` log format. */
export type MysqlGeneralOptions = z.infer<typeof options>;

/** Command names of the general query log (COM_* names as the server prints them). */
const COMMANDS = new Set([
  'Sleep',
  'Quit',
  'Init DB',
  'Query',
  'Field List',
  'Create DB',
  'Drop DB',
  'Refresh',
  'Shutdown',
  'Statistics',
  'Processlist',
  'Connect',
  'Kill',
  'Debug',
  'Ping',
  'Time',
  'Delayed insert',
  'Change user',
  'Binlog Dump',
  'Binlog Dump GTID',
  'Table Dump',
  'Connect Out',
  'Register Slave',
  'Prepare',
  'Execute',
  'Long Data',
  'Close stmt',
  'Reset stmt',
  'Set option',
  'Fetch',
  'Daemon',
  'Error',
  'Reset Connection',
  'Bulk_execute',
  'Com_multi',
  'Slave_worker',
  'Slave_IO',
  'Slave_SQL',
  'Clone',
]);

const SQL_EXECUTE = /^\s*execute\s/i;

/** Scratch result of {@link parseGeneralEntry}. */
interface GeneralEntry {
  timeUs: number;
  thread: string;
  command: string;
  argument: string;
}

const entryScratch: GeneralEntry = {
  timeUs: NaN,
  thread: '',
  command: '',
  argument: '',
};

/** Parses a general-log entry line; NaN time = the line has no time of its own. @internal */
export function parseGeneralEntry(
  text: string,
  offsetUs: number,
): GeneralEntry | undefined {
  let pos: number;
  let timeUs = NaN;
  if (text.charCodeAt(0) === 9) {
    if (text.charCodeAt(1) !== 9) return undefined;
    pos = 2;
  } else {
    timeUs = parseMysqlTime(text, 0, offsetUs);
    if (Number.isNaN(timeUs)) return undefined;
    pos = mysqlScan.end;
    const c = text.charCodeAt(pos);
    if (c !== 9 && c !== 32) return undefined;
    pos++;
  }
  while (text.charCodeAt(pos) === 32) pos++;
  const idStart = pos;
  for (;;) {
    const c = text.charCodeAt(pos);
    if (c >= 48 && c <= 57) pos++;
    else break;
  }
  if (pos === idStart || text.charCodeAt(pos) !== 32) return undefined;
  const thread = text.slice(idStart, pos);
  pos++;
  const tab = text.indexOf('\t', pos);
  const command = text.slice(pos, tab === -1 ? text.length : tab);
  if (!COMMANDS.has(command)) return undefined;
  entryScratch.timeUs = timeUs;
  entryScratch.thread = thread;
  entryScratch.command = command;
  entryScratch.argument = tab === -1 ? '' : text.slice(tab + 1);
  return entryScratch;
}

/** The general-log reader: entry lines (and continuation lines of a statement) into events. */
class GeneralParser implements LineParser {
  readonly out: RawQueryEvent[] = [];
  readonly #offsetUs: number;
  readonly #sessions = new Map<string, MysqlSession>();
  readonly #trackResolution: () => void;
  #curThread: string | undefined;
  #lastTimeUs = NaN;
  /** The statement being read (continuation lines may follow). */
  #cur: RawQueryEvent | undefined;
  /** The last entry takes continuation lines (a statement, or a Prepare). */
  #open = false;

  constructor(
    opts: MysqlGeneralOptions,
    readonly ctx: LogFormatContext,
  ) {
    this.#offsetUs = offsetOptionUs(opts.utcOffset);
    this.#trackResolution = resolutionTracker(ctx);
  }

  #session(thread: string): MysqlSession {
    let s = this.#sessions.get(thread);
    if (!s) {
      s = { id: mysqlSessionId(thread, this.#lastTimeUs) };
      this.#sessions.set(thread, s);
    }
    return s;
  }

  /** Completes the statement being read. */
  #close(): void {
    if (this.#cur) this.out.push(this.#cur);
    this.#cur = undefined;
  }

  /** A line that is no entry: a server header, a continuation line, or invalid. */
  #other(text: string, line: number): void {
    const ctx = this.ctx;
    const header = mysqlHeaderKind(text);
    if (header) {
      this.#close();
      this.#open = false;
      // A new server start: thread ids begin again.
      if (header === 'start') this.#sessions.clear();
      ctx.report('header', line);
    } else if (this.#open && !looksBinary(text)) {
      if (this.#cur) this.#cur.sql += '\n' + text;
    } else {
      ctx.report(
        'invalid',
        line,
        looksBinary(text) ? 'binary data' : 'not a general log entry',
      );
    }
  }

  line(text: string, line: number, unterminated = false): void {
    if (unterminated) {
      this.#cut(text, line);
      return;
    }
    const e = parseGeneralEntry(text, this.#offsetUs);
    if (!e) {
      this.#other(text, line);
      return;
    }
    const ctx = this.ctx;
    const cur = this.#cur;
    // An SQL-level `EXECUTE stmt USING …` (a Query) is followed by an `Execute` line with the
    // prepared text and its values: one statement, whose text is the expansion (as the slow log
    // writes it).
    if (
      e.command === 'Execute' &&
      cur &&
      this.#curThread === e.thread &&
      SQL_EXECUTE.test(cur.sql)
    ) {
      cur.sql = e.argument;
      this.#curThread = undefined;
      ctx.report('execute-expansion', line);
      return;
    }
    this.#close();
    this.#open = false;
    if (!Number.isNaN(e.timeUs)) {
      this.#lastTimeUs = e.timeUs;
      this.#trackResolution();
    }
    const cmd = e.command;
    if (cmd === 'Query' || cmd === 'Execute') this.#statement(e, line);
    else if (cmd === 'Connect') {
      this.#connect(e);
      ctx.report('connection', line);
    } else if (cmd === 'Quit') {
      this.#sessions.delete(e.thread);
      ctx.report('disconnection', line);
    } else if (cmd === 'Init DB') {
      this.#session(e.thread).database = e.argument;
      ctx.report('init-db', line);
    } else if (cmd === 'Prepare') {
      this.#open = true; // a multi-line prepared text continues on the next lines
      ctx.report('prepare', line);
    } else if (cmd === 'Close stmt') {
      ctx.report('close-stmt', line);
    } else {
      ctx.report('other', line);
    }
  }

  /**
   * The last line, without its line end: the log was cut there (the server ends every line). A
   * whole entry header starts a cut entry (the statement before it is complete); any other line
   * may be the statement being read, continued and cut, or a header cut in the middle: the
   * statement being read is dropped too, as it cannot be told complete.
   */
  #cut(text: string, line: number): void {
    const entry = parseGeneralEntry(text, this.#offsetUs) !== undefined;
    const cur = this.#cur;
    this.#cur = undefined;
    this.#open = false;
    if (!entry && cur) {
      this.ctx.report('truncated', cur.source.line, CUT_REASON);
      return;
    }
    if (cur) this.out.push(cur);
    this.ctx.report('truncated', line, CUT_REASON);
  }

  #statement(e: GeneralEntry, line: number): void {
    const s = this.#session(e.thread);
    this.#curThread = e.thread;
    const ev: RawQueryEvent = {
      sessionId: s.id,
      sql: e.argument,
      source: { file: this.ctx.file, line },
      dialect: 'mysql',
    };
    if (!Number.isNaN(this.#lastTimeUs)) ev.startUs = this.#lastTimeUs;
    if (s.user !== undefined) ev.user = s.user;
    if (s.database !== undefined) ev.database = s.database;
    if (s.client !== undefined) ev.client = s.client;
    this.#cur = ev;
    this.#open = true;
  }

  #connect(e: GeneralEntry): void {
    const s: MysqlSession = { id: mysqlSessionId(e.thread, this.#lastTimeUs) };
    this.#sessions.set(e.thread, s);
    // user@host on db using TCP/IP
    const arg = e.argument;
    const at = arg.indexOf('@');
    const on = arg.indexOf(' on ');
    if (at > 0 && on > at) {
      s.user = arg.slice(0, at);
      s.client = arg.slice(at + 1, on);
      const using = arg.indexOf(' using ', on);
      const db = arg.slice(on + 4, using === -1 ? arg.length : using);
      if (db !== '') s.database = db;
    }
  }

  finish(): void {
    this.#close();
  }
}

function parseGeneral(
  lines: AsyncIterable<InputLine>,
  opts: MysqlGeneralOptions,
  ctx: LogFormatContext,
): AsyncGenerator<RawQueryEvent> {
  return parseLines(lines, new GeneralParser(opts, ctx));
}

function parseGeneralBatches(
  lines: AsyncIterable<InputLine[]>,
  opts: MysqlGeneralOptions,
  ctx: LogFormatContext,
): AsyncGenerator<RawQueryEvent[]> {
  return parseLineBatches(lines, new GeneralParser(opts, ctx));
}

/** MySQL/MariaDB general query log (`general_log`, `log_output = FILE`). */
export const mysqlGeneral = defineLogFormat<MysqlGeneralOptions>({
  kind: 'log-format',
  name: 'mysql-general',
  apiVersion: 1,
  dialect: 'mysql',
  description:
    'MySQL/MariaDB general query log (Query, Execute with substituted parameters, Connect, Quit).',
  options,
  timeResolutionUs: 1_000_000,
  detect(sample) {
    let tried = 0;
    let ok = 0;
    let headers = 0;
    for (const text of sample) {
      if (text.length === 0) continue;
      if (mysqlHeaderKind(text)) {
        headers++;
        continue;
      }
      tried++;
      if (parseGeneralEntry(text, 0)) ok++;
    }
    if (tried === 0) return headers > 0 ? 0.3 : 0;
    return ok === 0
      ? 0
      : Math.min(1, ok / tried + (headers > 0 ? 0.1 : 0)) * 0.95;
  },
  parse: parseGeneral,
  parseBatches: parseGeneralBatches,
});
