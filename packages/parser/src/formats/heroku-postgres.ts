import { z } from 'zod';
import type { InputLine, RawQueryEvent } from '@stb/core';
import { defineLogFormat } from '../log-format';
import type { LogFormatContext } from '../log-format';
import {
  envelopeConfidence,
  isoToUs,
  parseInner,
  pgMillisUtc,
} from '../internal/envelope';
import type { InnerChoice } from '../internal/envelope';
import { postgresStderr } from './postgres-stderr';

const options = z
  .object({
    /** The `log_line_prefix` of the reassembled lines (detected when absent). */
    prefix: z.string().min(1).optional(),
  })
  .strict();

/** Options of the `heroku-postgres` format. */
export type HerokuPostgresOptions = z.infer<typeof options>;

/**
 * A logplex line of a Heroku Postgres server:
 * `2019-03-14T00:23:00+00:00 app[postgres.4821]: [GREEN] [20-1]  sql_error_code = 00000 LOG:  …`
 * (pgBadger #479, heroku/cli#2992). `[seq-chunk]` is PostgreSQL's own syslog numbering.
 */
const FRAME =
  /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (?:\S+ )?app\[postgres\.(\d+)\]: (?:\[[A-Za-z0-9_]+\] )?\[(\d+)-(\d+)\] ?/;
/** Any other logplex line (router, dynos, Heroku Postgres metrics). */
const OTHER_FRAME = /^\d{4}-\d\d-\d\dT\S+ (?:\S+ )?[\w-]+\[[\w.-]+\]: /;
/** A sub-message of the same elog call begins with the prefix again. */
const NEW_LINE = /^ ?sql_error_code = /;
/** Heroku's current prefix carries its own time; the older one has only the error code. */
const TIMED = /^ ?sql_error_code = \S+ time_ms = "/;
/** Old-style lines get the frame's time and pid: this prefix then reads them. */
const SYNTHETIC_PREFIX = '%m [%p] sql_error_code = %e ';

interface Pending {
  seq: string;
  text: string;
  line: number;
  timeUs: number;
  pid: string;
}

/** Lines of one reassembled syslog message, as the server's stderr would have them. @internal */
export function herokuLines(m: Pending): string[] {
  const out: string[] = [];
  for (const l of m.text.split('\n')) {
    if (l.startsWith('\t') || TIMED.test(l)) out.push(l);
    else out.push(`${pgMillisUtc(m.timeUs)} [${m.pid}] ${l.replace(/^ /, '')}`);
  }
  return out;
}

/** Appends a chunk: a new line after PostgreSQL's syslog split at a newline, else a cut long line. */
function append(p: Pending, chunk: string): void {
  if (chunk.startsWith('\t') || NEW_LINE.test(chunk)) p.text += '\n' + chunk;
  else p.text += chunk;
}

/** Messages still open after this many lines are complete (bounded memory per idle pid). */
const MAX_OPEN_LINES = 10_000;

async function* reassemble(
  lines: AsyncIterable<InputLine>,
  ctx: LogFormatContext,
): AsyncGenerator<InputLine> {
  const open = new Map<string, Pending>();
  const flush = function* (p: Pending): Generator<InputLine> {
    open.delete(p.pid);
    for (const text of herokuLines(p)) yield { text, line: p.line };
  };
  for await (const { text, line } of lines) {
    const m = FRAME.exec(text);
    if (!m) {
      if (text.trim() === '') ctx.report('blank', line);
      else if (OTHER_FRAME.test(text)) ctx.report('other', line);
      else
        ctx.report(
          'invalid',
          line,
          'not a logplex line of a Heroku Postgres server',
        );
      continue;
    }
    const pid = m[2] as string;
    const seq = m[3] as string;
    const chunkNo = m[4] as string;
    const chunk = text.slice(m[0].length);
    const p = open.get(pid);
    if (chunkNo !== '1' && p && p.seq === seq) {
      append(p, chunk);
      continue;
    }
    if (p) yield* flush(p);
    if (chunkNo !== '1') {
      ctx.report(
        'invalid',
        line,
        `syslog chunk [${seq}-${chunkNo}] without its first chunk`,
      );
      continue;
    }
    open.set(pid, {
      seq,
      text: chunk,
      line,
      timeUs: isoToUs(m[1] as string),
      pid,
    });
    // Map order is insertion order: the oldest open message is first.
    for (const q of open.values()) {
      if (line - q.line < MAX_OPEN_LINES) break;
      yield* flush(q);
    }
  }
  for (const p of [...open.values()]) yield* flush(p);
}

/** Sample lines reassembled for detection. */
function sampleLines(sample: readonly string[]): {
  ok: number;
  tried: number;
  inner: string[];
} {
  let ok = 0;
  let tried = 0;
  const inner: string[] = [];
  let cur: Pending | undefined;
  for (const text of sample) {
    if (text.trim() === '') continue;
    tried++;
    const m = FRAME.exec(text);
    if (!m) {
      if (OTHER_FRAME.test(text)) tried--;
      continue;
    }
    ok++;
    const chunk = text.slice(m[0].length);
    if (m[4] !== '1' && cur && cur.pid === m[2] && cur.seq === m[3])
      append(cur, chunk);
    else {
      if (cur) inner.push(...herokuLines(cur));
      cur = {
        seq: m[3] as string,
        text: chunk,
        line: 0,
        timeUs: isoToUs(m[1] as string),
        pid: m[2] as string,
      };
    }
  }
  if (cur) inner.push(...herokuLines(cur));
  return { ok, tried, inner };
}

/** Heroku Postgres logs from logplex (`heroku logs`, a log drain): syslog frames, `[seq-chunk]` continuations. */
export const herokuPostgres = defineLogFormat<HerokuPostgresOptions>({
  kind: 'log-format',
  name: 'heroku-postgres',
  apiVersion: 1,
  dialect: 'postgres',
  description:
    'Heroku Postgres logs from logplex (heroku logs, log drains): syslog frames with [seq-chunk] continuations.',
  options,
  timeResolutionUs: 1000,
  detect(sample) {
    const { ok, tried, inner } = sampleLines(sample);
    return envelopeConfidence(
      { recognised: ok, tried },
      inner,
      innerChoice({}, inner),
    );
  },
  parse(lines, opts, ctx): AsyncIterable<RawQueryEvent> {
    return parseInner(
      reassemble(lines, ctx),
      (sample) => innerChoice(opts, sample),
      ctx,
    );
  },
});

/** The inner stderr parse: Heroku's current prefix is detected; old lines get the synthetic one. */
function innerChoice(
  opts: HerokuPostgresOptions,
  sample: readonly string[],
): InnerChoice {
  const prefix =
    opts.prefix ??
    (sample.some((l) => TIMED.test(l)) ? undefined : SYNTHETIC_PREFIX);
  return {
    candidates: [postgresStderr],
    options: prefix === undefined ? {} : { 'postgres-stderr': { prefix } },
  };
}
