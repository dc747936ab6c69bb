/**
 * Test-only readers for the sample logs (fixtures/samples), used until @stb/parser's `parseLogs`
 * exists. They understand exactly what those logs hold: PostgreSQL stderr `statement:` /
 * `execute <name>:` entries with `DETAIL:  parameters:`, and MariaDB general-log `Query` lines.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { RawQueryEvent } from '@stb/core';

export const SAMPLES = join(__dirname, '..', '..', '..', 'fixtures', 'samples');

function lines(file: string): string[] {
  return gunzipSync(readFileSync(file)).toString('utf8').split('\n');
}

/** `$1 = '-3247', $2 = '12423'` → params. */
function parseParams(text: string): { index: number; value: string | null }[] {
  const out: { index: number; value: string | null }[] = [];
  const re = /\$(\d+) = (?:'((?:[^']|'')*)'|NULL)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({
      index: Number(m[1]),
      value: m[2] === undefined ? null : m[2].replace(/''/g, "'"),
    });
  }
  return out;
}

const PG_LINE =
  /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC \[(\d+)\] \S+ (LOG|DETAIL): {2}(.*)$/;

/** Raw events from a PostgreSQL stderr log of the samples (simple, extended; prepared counts `execute`). */
export function readPgSample(folder: string): RawQueryEvent[] {
  const file = join(SAMPLES, folder, 'postgresql.log.gz');
  const out: RawQueryEvent[] = [];
  let pending: RawQueryEvent | undefined;
  lines(file).forEach((line, i) => {
    const m = PG_LINE.exec(line);
    if (!m) return;
    const [, ts, pid, level, msg] = m as unknown as [
      string,
      string,
      string,
      string,
      string,
    ];
    if (level === 'DETAIL') {
      if (
        pending &&
        msg.startsWith('parameters: ') &&
        pending.sessionId === pid
      )
        pending.params = parseParams(msg.slice(12));
      pending = undefined;
      return;
    }
    pending = undefined;
    let sql: string | undefined;
    let durationUs: number | undefined;
    let rest = msg;
    const d = /^duration: ([\d.]+) ms {2}(.*)$/.exec(rest);
    if (d) {
      durationUs = Math.round(Number(d[1]) * 1000);
      rest = d[2] as string;
    }
    const s =
      /^statement: (.*)$/.exec(rest) ?? /^execute [^:]+: (.*)$/.exec(rest);
    if (s) sql = s[1];
    if (sql === undefined) return;
    const endUs = Date.parse(`${ts.replace(' ', 'T')}Z`) * 1000;
    const ev: RawQueryEvent = {
      sessionId: pid,
      sql,
      startUs: endUs - (durationUs ?? 0),
      source: { file, line: i + 1 },
      dialect: 'postgres',
    };
    if (durationUs !== undefined) ev.durationUs = durationUs;
    out.push(ev);
    pending = ev;
  });
  return out;
}

/** Raw events from the MariaDB general log of the samples (`Query` lines of the sysbench threads). */
export function readMariaSample(folder: string): RawQueryEvent[] {
  const file = join(SAMPLES, folder, 'mariadb_general.log.gz');
  const out: RawQueryEvent[] = [];
  let sec = 0;
  lines(file).forEach((line, i) => {
    const m = /^(\d{6} \d\d:\d\d:\d\d)?\s+(\d+) (\w+)\t(.*)$/.exec(line);
    if (!m) return;
    if (m[1]) {
      const [d, t] = m[1].split(' ') as [string, string];
      sec =
        Date.parse(
          `20${d.slice(0, 2)}-${d.slice(2, 4)}-${d.slice(4, 6)}T${t}Z`,
        ) / 1000;
    }
    if (m[3] !== 'Query') return;
    out.push({
      sessionId: m[2] as string,
      sql: m[4] as string,
      startUs: sec * 1_000_000,
      source: { file, line: i + 1 },
      dialect: 'mysql',
    });
  });
  return out;
}
