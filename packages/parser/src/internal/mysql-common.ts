import { z } from 'zod';
import type { LogFormatContext } from '../log-format';
import { daysFromCivil, isoFromUs, parseUtcOffset } from './time';

/** Header lines MySQL/MariaDB write when a log file is opened. @internal */
export function mysqlHeaderKind(text: string): 'start' | 'header' | undefined {
  if (text.endsWith('started with:') && text.includes(', Version: '))
    return 'start';
  if (text.startsWith('Tcp port: ')) return 'header';
  if (text.startsWith('Time') && /^Time\s+Id\s+Command\s+Argument/.test(text))
    return 'header';
  return undefined;
}

/** Scratch output of {@link parseMysqlTime}. */
export const mysqlScan = { end: 0, resolutionUs: 1_000_000 };

function d(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : NaN;
}

/**
 * Parses a general/slow log time at `pos`: `YYMMDD HH:MM:SS` / `YYMMDD  H:MM:SS` (server local
 * time: `offsetUs` is subtracted) or ISO `2024-01-01T10:00:00.123456Z` / `…+02:00`.
 * Sets {@link mysqlScan}. Returns NaN when there is none.
 * @internal
 */
export function parseMysqlTime(
  s: string,
  pos: number,
  offsetUs: number,
): number {
  if (s.charCodeAt(pos + 4) === 45 && s.charCodeAt(pos + 10) === 84) {
    // ISO 8601
    const y =
      d(s, pos) * 1000 +
      d(s, pos + 1) * 100 +
      d(s, pos + 2) * 10 +
      d(s, pos + 3);
    const mo = d(s, pos + 5) * 10 + d(s, pos + 6);
    const da = d(s, pos + 8) * 10 + d(s, pos + 9);
    const h = d(s, pos + 11) * 10 + d(s, pos + 12);
    const mi = d(s, pos + 14) * 10 + d(s, pos + 15);
    const se = d(s, pos + 17) * 10 + d(s, pos + 18);
    if (Number.isNaN(y + mo + da + h + mi + se)) return NaN;
    let us = (((daysFromCivil(y, mo, da) * 24 + h) * 60 + mi) * 60 + se) * 1e6;
    let i = pos + 19;
    let resolution = 1_000_000;
    if (s.charCodeAt(i) === 46) {
      i++;
      let scale = 100000;
      for (;;) {
        const c = s.charCodeAt(i) - 48;
        if (!(c >= 0 && c <= 9)) break;
        us += c * scale;
        resolution = Math.max(1, scale);
        scale /= 10;
        i++;
      }
      us = Math.round(us);
    }
    const z = s.charCodeAt(i);
    if (z === 90) i++;
    else if (z === 43 || z === 45) {
      const off = parseUtcOffset(s.slice(i, i + 6));
      if (off === undefined) return NaN;
      us -= off * 1e6;
      i += 6;
    } else us -= offsetUs;
    mysqlScan.end = i;
    mysqlScan.resolutionUs = resolution;
    return us;
  }
  // YYMMDD HH:MM:SS (hour may be space-padded)
  if (s.charCodeAt(pos + 6) !== 32) return NaN;
  const y = 2000 + d(s, pos) * 10 + d(s, pos + 1);
  const mo = d(s, pos + 2) * 10 + d(s, pos + 3);
  const da = d(s, pos + 4) * 10 + d(s, pos + 5);
  const hc = s.charCodeAt(pos + 7);
  const h = (hc === 32 ? 0 : d(s, pos + 7) * 10) + d(s, pos + 8);
  if (s.charCodeAt(pos + 9) !== 58 || s.charCodeAt(pos + 12) !== 58) return NaN;
  const mi = d(s, pos + 10) * 10 + d(s, pos + 11);
  const se = d(s, pos + 13) * 10 + d(s, pos + 14);
  if (Number.isNaN(y + mo + da + h + mi + se) || mo < 1 || mo > 12) return NaN;
  mysqlScan.end = pos + 15;
  mysqlScan.resolutionUs = 1_000_000;
  return (
    (((daysFromCivil(y, mo, da) * 24 + h) * 60 + mi) * 60 + se) * 1e6 - offsetUs
  );
}

/** One MySQL connection (thread) of a log. @internal */
export interface MysqlSession {
  id: string;
  user?: string | undefined;
  database?: string | undefined;
  client?: string | undefined;
}

/** Session id of a thread: `<thread id>@<connection time>` (or the first time it was seen). */
export function mysqlSessionId(thread: string, timeUs: number): string {
  return Number.isNaN(timeUs) ? thread : `${thread}@${isoFromUs(timeUs)}`;
}

/** Parses the `utcOffset` option into µs. @internal */
export function offsetOptionUs(offset: string | undefined): number {
  if (offset === undefined) return 0;
  const s = parseUtcOffset(offset);
  return s === undefined ? 0 : s * 1e6;
}

/** Zod-free check used by the option schemas. @internal */
export function isUtcOffset(offset: string): boolean {
  return parseUtcOffset(offset) !== undefined;
}

/**
 * Options of both MySQL formats: the server's UTC offset (`+02:00`) for `YYMMDD HH:MM:SS` times,
 * which the server writes in its local time without a zone. Default `+00:00`.
 * @internal
 */
export const mysqlLogOptions = z
  .object({
    utcOffset: z
      .string()
      .refine(isUtcOffset, 'expected an offset like +02:00')
      .optional(),
  })
  .strict();

/**
 * Tells the host the resolution of the last parsed time whenever it changes; returns it.
 * @internal
 */
export function resolutionTracker(ctx: LogFormatContext): () => number {
  let resolution = 0;
  return () => {
    if (mysqlScan.resolutionUs !== resolution) {
      resolution = mysqlScan.resolutionUs;
      ctx.setTimeResolutionUs?.(resolution);
    }
    return resolution;
  };
}

/** Epoch µs → ISO-8601 UTC with 6 fraction digits, as MySQL 8 writes its log times. @internal */
export function isoMicrosUtc(us: number): string {
  const whole = new Date(Math.floor(us / 1000)).toISOString().slice(0, 19);
  return `${whole}.${String(((us % 1_000_000) + 1_000_000) % 1_000_000).padStart(6, '0')}Z`;
}

/** One general-log entry (`<ISO time>\t<thread> <command>\t<argument>`, continuation lines after). @internal */
export function generalEntryLines(e: {
  timeUs: number;
  thread: string;
  command: string;
  argument: string;
}): string[] {
  const arg = e.argument.split('\n');
  return [
    `${isoMicrosUtc(e.timeUs)}\t${e.thread} ${e.command}\t${arg[0] as string}`,
    ...arg.slice(1),
  ];
}

/** What a slow-log entry says about one statement (structured exports: tables, Azure records). */
export interface SlowEntry {
  startUs: number;
  querySeconds: number;
  lockSeconds: number;
  userHost: string;
  thread: string;
  db: string;
  rowsSent: string;
  rowsExamined: string;
  sql: string;
}

/**
 * The slow-log lines of one statement, in MySQL 8's form: `# Time:` is the end at µs (start +
 * query time), so `mysql-slow` recovers the exact start; `SET timestamp=` has whole seconds.
 * One trailing `;` of the statement is normalised. @internal
 */
export function slowEntryLines(e: SlowEntry): string[] {
  const endUs = e.startUs + Math.round(e.querySeconds * 1e6);
  const sql = e.sql.replace(/;\s*$/, '');
  return [
    `# Time: ${isoMicrosUtc(endUs)}`,
    `# User@Host: ${e.userHost}`,
    `# Thread_id: ${e.thread}  Schema: ${e.db}`,
    `# Query_time: ${e.querySeconds.toFixed(6)}  Lock_time: ${e.lockSeconds.toFixed(6)}  Rows_sent: ${e.rowsSent}  Rows_examined: ${e.rowsExamined}`,
    `SET timestamp=${Math.floor(e.startUs / 1e6)};`,
    ...`${sql};`.split('\n'),
  ];
}
