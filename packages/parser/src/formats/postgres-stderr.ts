import { z } from 'zod';
import { PluginError } from '@stb/core';
import type { InputLine, RawQueryEvent } from '@stb/core';
import { defineLogFormat } from '../log-format';
import type { LogFormatContext } from '../log-format';
import { looksBinary, peekLines } from '../internal/lines';
import { CompiledPrefix, detectPgPrefix } from '../internal/pg-prefix';
import {
  PG_SUB_SEVERITIES,
  PgProcessor,
  blankPgEntry,
  type PgEntry,
} from '../internal/pg-processor';

const options = z
  .object({
    /**
     * The server's `log_line_prefix` (e.g. `'%m [%p] %q%u@%d '`). When absent, common prefixes
     * are tried on the first lines and the best match is used.
     */
    prefix: z.string().min(1).optional(),
    /** Lines read to detect the prefix when none is given. */
    detectLines: z.number().int().positive().optional(),
  })
  .strict();

/** Options of the `postgres-stderr` log format. */
export type PostgresStderrOptions = z.infer<typeof options>;

function compile(prefix: string): CompiledPrefix {
  try {
    return new CompiledPrefix(prefix);
  } catch (err) {
    throw new PluginError(
      'STB_PLUGIN_OPTIONS_INVALID',
      `[stb] [log-format:postgres-stderr] Cannot use log_line_prefix \`${prefix}\`: ${(err as Error).message}. Pass the server's \`log_line_prefix\` value.`,
      {
        cause: err,
        pluginKind: 'log-format',
        pluginName: 'postgres-stderr',
      },
    );
  }
}

async function* parseStderr(
  lines: AsyncIterable<InputLine>,
  opts: PostgresStderrOptions,
  ctx: LogFormatContext,
): AsyncGenerator<RawQueryEvent> {
  let prefix: CompiledPrefix;
  let source = lines;
  if (opts.prefix !== undefined) prefix = compile(opts.prefix);
  else {
    const peek = await peekLines(lines, opts.detectLines ?? 1000);
    source = peek.all;
    const best = detectPgPrefix(peek.head.map((l) => l.text));
    if (!best) {
      // Nothing matches: every line will be reported invalid (or the first one thrown).
      prefix = new CompiledPrefix('%m [%p] ');
    } else prefix = best.prefix;
  }
  if (prefix.timeResolutionUs !== undefined)
    ctx.setTimeResolutionUs?.(prefix.timeResolutionUs);
  const proc = new PgProcessor(ctx);
  const out = proc.out;
  // One entry object, reused: the processor copies what it keeps.
  const cur: PgEntry = blankPgEntry();
  let has = false;
  const dispatch = () => {
    if (PG_SUB_SEVERITIES.has(cur.severity)) proc.sub(cur);
    else proc.entry(cur);
  };
  for await (const { text, line } of source) {
    const c = text.charCodeAt(0);
    if (c === 9) {
      if (has && !looksBinary(text)) cur.message += '\n' + text.slice(1);
      else
        ctx.report(
          'invalid',
          line,
          has ? 'binary data' : 'continuation line without an entry',
        );
      continue;
    }
    const m = text.length > 0 ? prefix.match(text) : undefined;
    if (!m) {
      if (text.length === 0) ctx.report('blank', line);
      else
        ctx.report(
          'invalid',
          line,
          'line does not start with the log_line_prefix nor a tab',
        );
      continue;
    }
    if (has) {
      dispatch();
      if (out.length > 0) {
        for (const ev of out) yield ev;
        out.length = 0;
      }
    }
    has = true;
    cur.line = line;
    cur.timeUs = m.timeUs;
    cur.pid = m.pid;
    cur.sessionKey = m.sessionKey;
    cur.user = m.user;
    cur.database = m.database;
    cur.application = m.application;
    cur.client = m.client;
    cur.vxid = m.vxid;
    cur.xid = m.xid;
    cur.sqlstate = m.sqlstate;
    cur.severity = m.severity;
    cur.message = text.slice(m.messageStart);
  }
  if (has) dispatch();
  proc.finish();
  for (const ev of out) yield ev;
  out.length = 0;
}

/**
 * PostgreSQL's stderr log (also what `logging_collector` writes to `*.log`), with any
 * `log_line_prefix`.
 */
export const postgresStderr = defineLogFormat<PostgresStderrOptions>({
  kind: 'log-format',
  name: 'postgres-stderr',
  apiVersion: 1,
  dialect: 'postgres',
  description:
    'PostgreSQL stderr log with any log_line_prefix (statement, duration, extended protocol).',
  options,
  timeResolutionUs: 1000,
  detect(sample) {
    const best = detectPgPrefix(sample);
    return best ? Math.min(1, best.score) * 0.95 : 0;
  },
  parse: parseStderr,
});
