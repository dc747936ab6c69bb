import { promises as fsp } from 'node:fs';
import { StbError, formatFromPath, writeTrace } from '@stb/core';
import type { TraceFileFormat } from '@stb/core';
import type { Command } from 'commander';
import { Option } from 'commander';
import { addLogOptions } from '../command-options';
import type { CliContext } from '../context';
import { addExamples } from '../context';
import { logRecords } from '../inputs';
import { parseNonNegativeInt } from '../options';
import { assertWritable, inputsOf, unknownTraceExtension } from '../outputs';
import type { LogCliOptions } from '../log-options';
import { toFilters, toFormatOptions, toLogFormat } from '../log-options';

/** Options of `stb parse`. */
export interface ParseCommandOptions extends LogCliOptions {
  input: string[];
  output: string;
  outputFormat?: TraceFileFormat;
  workers?: number;
  ranges?: boolean;
}

function countsLine(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** On-disk size of the inputs (0 when one is stdin or unknown). */
async function totalBytes(files: readonly string[]): Promise<number> {
  let total = 0;
  for (const f of files) {
    if (f === '-') return 0;
    try {
      total += (await fsp.stat(f)).size;
    } catch {
      return 0; // the parser raises the proper error
    }
  }
  return total;
}

/** The progress bar's rates: MB/s read and statements/s, since the start. */
function parseRate(total: number): {
  totalMB: number;
  bytes: number;
  statements: number;
  detail: () => string;
} {
  const start = Date.now();
  const r = {
    totalMB: Math.round(total / 1e5) / 10,
    bytes: 0,
    statements: 0,
    detail: () => {
      const s = Math.max(0.001, (Date.now() - start) / 1000);
      return `${(r.bytes / 1e6 / s).toFixed(1)} MB/s | ${r.statements} statements (${Math.round(r.statements / s)}/s)`;
    },
  };
  return r;
}

/** `stb parse`: logs → trace. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('parse')
    .description(
      'Parse SQL logs into a trace: statements become events of extracted templates with typed parameters.',
    )
    .requiredOption(
      '-i, --input <files...>',
      'log files (`-` for stdin; .gz ok); several files are merged by time',
    )
    .option('-o, --output <path>', 'trace to write (`-` for stdout)', '-')
    .addOption(
      new Option(
        '--output-format <format>',
        'default: from the extension (JSONL for stdout)',
      ).choices(['jsonl', 'json', 'csv']),
    )
    .option(
      '-w, --workers <n>',
      'threads besides the main one: 0 = one thread; 1 = the logs are read, parsed and extracted on a thread of their own while the main one orders and writes the trace; n >= 2 = a parse thread and n - 1 extraction threads, at most one per core (writing JSONL or JSON; CSV uses one). The same trace whatever n',
      parseNonNegativeInt,
      0,
    )
    .option(
      '--ranges',
      'with --workers n: parse one PostgreSQL stderr log in byte ranges on n threads (the main one parses ranges too) instead of one parse thread; the same trace. Slower than the default split on two cores (docs/extraction.md)',
    );
  addLogOptions(cmd);
  cmd.action(async (opts: ParseCommandOptions) => {
    if (opts.ranges === true && (opts.workers ?? 0) < 1)
      throw new StbError(
        'STB_USAGE',
        '[stb] [cli] `--ranges` parses on worker threads: give `--workers 1` or more.',
      );
    const files = opts.input.map((f) => ctx.resolvePath(f));
    await assertWritable(
      ctx.resolvePath(opts.output),
      '--output',
      inputsOf(files, '-i'),
    );
    const odd = unknownTraceExtension(
      opts.output,
      '--output',
      opts.outputFormat,
    );
    if (odd !== undefined) ctx.log.warn(odd);
    const rate = parseRate(await totalBytes(files));
    const bar = ctx.progress({
      label: 'Parsing',
      unit: 'MB',
      ...(rate.totalMB > 0 ? { total: rate.totalMB } : {}),
      detail: rate.detail,
    });
    const outFormat =
      opts.outputFormat ??
      (opts.output === '-' ? 'jsonl' : formatFromPath(opts.output));
    let log;
    let written;
    try {
      log = await logRecords(files, {
        format: toLogFormat(opts),
        filters: toFilters(opts),
        formatOptions: toFormatOptions(opts),
        maxInvalid: opts.maxInvalid,
        maxLineLength: opts.maxLineLength,
        formatPackages: opts.formatPackage,
        from: ctx.io.cwd,
        workers: opts.workers,
        ranges: opts.ranges === true,
        // JSONL and JSON write each event's line as it is: hold them so in the reorder window
        // (a CSV row needs the fields).
        encodeEvents: outFormat !== 'csv',
        onWarning: (w) => ctx.log.warn(w),
        signal: ctx.signal,
        onProgress: (n) => {
          rate.statements = n;
        },
        onBytes: (b) => {
          rate.bytes = b;
          bar.update(Math.round(b / 1e5) / 10);
        },
      });
      written = await writeTrace(ctx.resolvePath(opts.output), log.records, {
        ...(opts.outputFormat ? { format: opts.outputFormat } : {}),
        signal: ctx.signal,
      });
    } finally {
      bar.stop();
    }
    const { parse, extract } = log.summary();
    const invalid = parse.invalid.length + parse.invalidDropped;
    ctx.printSummary(
      {
        command: 'parse',
        output: opts.output,
        files: parse.files.map((f) => ({
          file: f.file,
          format: f.format,
          dialect: f.dialect ?? null,
          events: f.events,
          lines: f.linesRead,
          skipped: f.skipped,
          sessions: f.sessions,
          ...(f.truncatedAt === undefined
            ? {}
            : { truncatedAt: f.truncatedAt }),
        })),
        statements: written.events,
        templates: written.templates,
        sessions: parse.sessions,
        linesRead: parse.linesRead,
        skipped: parse.skipped,
        filtered: parse.filtered,
        invalidRecords: invalid,
        invalidLines: parse.invalidLines,
        failedStatements: extract.failedEvents,
        unparsedTemplates: extract.failedParseTemplates,
        bytes: written.bytes,
      },
      {
        human: [
          ...parse.files.map(
            (f) =>
              `[stb] ${f.file}: ${f.format}${f.dialect ? ` (${f.dialect})` : ''}, ${f.events} statements from ${f.linesRead} lines`,
          ),
          `[stb] ${written.events} statements, ${written.templates} templates, ${parse.sessions} sessions → ${opts.output === '-' ? 'stdout' : opts.output}`,
          `[stb] Skipped entries: ${countsLine(parse.skipped)}${parse.filtered > 0 ? `; filtered out: ${parse.filtered}` : ''}`,
          ...(invalid > 0
            ? [
                `[stb] ${parse.invalidLines} invalid line(s) in ${invalid} record(s), first at ${parse.invalid[0]?.file ?? '?'}:${parse.invalid[0]?.line ?? '?'} (${parse.invalid[0]?.reason ?? ''})`,
              ]
            : []),
          ...(extract.failedParseTemplates > 0
            ? [
                `[stb] ${extract.failedParseTemplates} template(s) no SQL parser accepted (kept, normalised by the lexer)`,
              ]
            : []),
        ],
        dataOnStdout: opts.output === '-',
      },
    );
  });
  addExamples(cmd, [
    'stb parse -i postgresql.log -o trace.jsonl',
    'stb parse -i postgresql.csv.gz --format postgres-csvlog -o trace.jsonl.gz',
    'stb parse -i mariadb-general.log --exclude-session 5 -o trace.csv',
    'stb parse -i day1.log day2.log -o - | head',
  ]);
}
