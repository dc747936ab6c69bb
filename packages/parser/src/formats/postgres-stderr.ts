import { z } from 'zod';
import { PluginError } from '@stb/core';
import type { InputLine, RawQueryEvent } from '@stb/core';
import { defineLogFormat } from '../log-format';
import type { LogFormatContext } from '../log-format';
import { looksBinary, peekLines, CUT_REASON } from '../internal/lines';
import { parseLineBatches, parseLines } from '../internal/line-parser';
import type { LineParser } from '../internal/line-parser';
import { CompiledPrefix, detectPgPrefix } from '../internal/pg-prefix';
import {
  PG_SUB_SEVERITIES,
  PgProcessor,
  blankPgEntry,
  type PgBoundaryState,
  type PgEntry,
  type PgProcessorOptions,
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

/** The prefix to use: the configured one, else the best match on the first lines. */
function choosePrefix(
  opts: PostgresStderrOptions,
  head: () => readonly InputLine[],
  ctx: LogFormatContext,
): CompiledPrefix {
  let prefix: CompiledPrefix;
  if (opts.prefix !== undefined) prefix = compile(opts.prefix);
  else {
    const best = detectPgPrefix(head().map((l) => l.text));
    // Nothing matches: every line will be reported invalid (or the first one thrown).
    prefix = best ? best.prefix : new CompiledPrefix('%m [%p] ');
  }
  if (prefix.timeResolutionUs !== undefined)
    ctx.setTimeResolutionUs?.(prefix.timeResolutionUs);
  return prefix;
}

/**
 * The synchronous core of the stderr parser: lines in, completed events out (in {@link out}),
 * shared by the per-line and the batched plugin entry points, and by byte ranges.
 * @internal
 */
export class StderrParser implements LineParser {
  readonly proc: PgProcessor;
  /** Completed events, in log order; the caller takes and clears them. */
  readonly out: RawQueryEvent[];
  // One entry object, reused: the processor copies what it keeps.
  readonly #cur: PgEntry = blankPgEntry();
  #has = false;

  constructor(
    readonly prefix: CompiledPrefix,
    readonly ctx: LogFormatContext,
    processor: PgProcessorOptions = {},
  ) {
    this.proc = new PgProcessor(ctx, processor);
    this.out = this.proc.out;
  }

  #dispatch(): void {
    const cur = this.#cur;
    if (PG_SUB_SEVERITIES.has(cur.severity)) this.proc.sub(cur);
    else this.proc.entry(cur);
  }

  line(text: string, line: number, unterminated = false): void {
    const cur = this.#cur;
    const c = text.charCodeAt(0);
    if (unterminated) {
      // The server ends every line: a last line without its end was cut (a log still being
      // written). A continuation line cuts the entry it continues; any other line is the start of
      // a cut entry (the one before it is complete).
      if (c === 9 && this.#has) {
        this.#has = false;
        this.ctx.report('truncated', cur.line, CUT_REASON);
      } else {
        if (this.#has) this.#dispatch();
        this.#has = false;
        this.ctx.report('truncated', line, CUT_REASON);
      }
      return;
    }
    if (c === 9) {
      if (this.#has && !looksBinary(text)) cur.message += '\n' + text.slice(1);
      else
        this.ctx.report(
          'invalid',
          line,
          this.#has ? 'binary data' : 'continuation line without an entry',
        );
      return;
    }
    const m = text.length > 0 ? this.prefix.match(text) : undefined;
    if (!m) {
      if (text.length === 0) this.ctx.report('blank', line);
      else
        this.ctx.report(
          'invalid',
          line,
          'line does not start with the log_line_prefix nor a tab',
        );
      return;
    }
    if (this.#has) this.#dispatch();
    this.#has = true;
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

  finish(): void {
    if (this.#has) this.#dispatch();
    this.#has = false;
    this.proc.finish();
  }

  /** Ends a byte range: the last entry is complete (the next range starts with an entry). */
  endRange(): PgBoundaryState {
    if (this.#has) this.#dispatch();
    this.#has = false;
    return this.proc.endRange();
  }
}

async function* parseStderr(
  lines: AsyncIterable<InputLine>,
  opts: PostgresStderrOptions,
  ctx: LogFormatContext,
): AsyncGenerator<RawQueryEvent> {
  let source = lines;
  let head: InputLine[] = [];
  if (opts.prefix === undefined) {
    const peek = await peekLines(lines, opts.detectLines ?? 1000);
    source = peek.all;
    head = peek.head;
  }
  yield* parseLines(
    source,
    new StderrParser(
      choosePrefix(opts, () => head, ctx),
      ctx,
    ),
  );
}

/** {@link parseStderr} over lines in arrays, giving events in arrays: no `await` per line. */
async function* parseStderrBatches(
  batches: AsyncIterable<InputLine[]>,
  opts: PostgresStderrOptions,
  ctx: LogFormatContext,
): AsyncGenerator<RawQueryEvent[]> {
  const it = batches[Symbol.asyncIterator]();
  const held: InputLine[][] = [];
  let done = false;
  try {
    if (opts.prefix === undefined) {
      // Read ahead for prefix detection (the first `detectLines` lines).
      const want = opts.detectLines ?? 1000;
      let n = 0;
      while (n < want) {
        const r = await it.next();
        if (r.done) {
          done = true;
          break;
        }
        held.push(r.value);
        n += r.value.length;
      }
    }
    const p = new StderrParser(
      choosePrefix(
        opts,
        () => held.flat().slice(0, opts.detectLines ?? 1000),
        ctx,
      ),
      ctx,
    );
    // The arrays read ahead, then the rest.
    async function* all(): AsyncGenerator<InputLine[]> {
      while (held.length > 0) yield held.shift() as InputLine[];
      while (!done) {
        const r = await it.next();
        if (r.done) break;
        yield r.value;
      }
    }
    yield* parseLineBatches(all(), p);
  } finally {
    await it.return?.();
  }
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
  parseBatches: parseStderrBatches,
});
