import { basename } from 'node:path';
import {
  createTraceHeader,
  type Dialect,
  type QueryTemplate,
  type RawQueryEvent,
  type TemplateCatalog,
  type TraceHeader,
  type TraceRecord,
} from '@stb/core';
import {
  extractTrace,
  type ExtractOptions,
  type ExtractSummary,
} from './extract-trace';

/**
 * Raw events of parsed logs with the parser's per-file summary: what `parseLogs` (`@stb/parser`)
 * returns. Declared by shape so the extractor does not depend on the parser.
 */
export interface ParsedLog extends AsyncIterable<RawQueryEvent> {
  summary(): {
    files: readonly { format: string; timeResolutionUs?: number | undefined }[];
  };
}

/** Options of {@link traceFromLog}. */
export interface TraceFromLogOptions extends ExtractOptions {
  /** The log files, named in the header's `source.files` by their base name (`-` kept). */
  files: readonly string[];
  /** `source.tool` of the header (default `parse`). */
  tool?: string;
  /** `createdAt` of the header (default now). */
  createdAt?: string;
  /**
   * Called when the log holds no statement, before anything is yielded; throw from it to fail
   * (the CLI raises its diagnosis). When it returns, the trace is a header alone, in `dialect`.
   */
  onEmpty?: () => void;
  /** Dialect of the header when the log holds no statement (default `postgres`). */
  dialect?: Dialect;
}

/** A log becoming a trace: iterate once for the records, header first. */
export interface LogTraceRun extends AsyncIterable<TraceRecord> {
  /**
   * Every template met so far (complete once the records are exhausted). With `keepTemplates:
   * false`, reading it throws `STB_USAGE`, and so does {@link templates}.
   */
  readonly catalog: TemplateCatalog;
  /** The header yielded first (undefined before iteration starts). */
  header(): TraceHeader | undefined;
  /** Templates in the order they were yielded. */
  templates(): QueryTemplate[];
  /** Extraction counts so far. */
  summary(): ExtractSummary;
}

/**
 * Parsed log → trace records: the header (dialect of the first statement, the log's formats and
 * the coarsest time resolution among them), then templates and events as {@link extractTrace}
 * yields them. The header waits for the first statement, so the formats of the files read by
 * then are known. Streams in bounded memory; write it with `writeTrace`.
 * @example
 * const run = traceFromLog(parseLogs(['app.log']), { files: ['app.log'] });
 * await writeTrace('trace.jsonl', run);
 * const templates = run.templates(); // no need to read the trace back
 */
export function traceFromLog(
  log: ParsedLog,
  options: TraceFromLogOptions,
): LogTraceRun {
  const { files, tool, createdAt, onEmpty, dialect, ...extract } = options;
  const raw = log[Symbol.asyncIterator]();
  async function* events(first: RawQueryEvent): AsyncGenerator<RawQueryEvent> {
    yield first;
    for (;;) {
      const r = await raw.next();
      if (r.done) return;
      yield r.value;
    }
  }
  let started: RawQueryEvent | undefined;
  const run = extractTrace(
    {
      [Symbol.asyncIterator]: () => events(started as RawQueryEvent),
    },
    extract,
  );
  let header: TraceHeader | undefined;
  const templates: QueryTemplate[] = [];
  const keep = extract.keepTemplates ?? true;
  const makeHeader = (d: Dialect): TraceHeader => {
    const s = log.summary();
    const resolutions = s.files
      .map((f) => f.timeResolutionUs)
      .filter((r): r is number => r !== undefined && r > 0);
    return createTraceHeader({
      dialect: d,
      source: {
        tool: tool ?? 'parse',
        files: files.map((f) => (f === '-' ? '-' : basename(f))),
        formats: s.files.map((f) => f.format),
      },
      timeResolutionUs: resolutions.length > 0 ? Math.max(...resolutions) : 1,
      ...(createdAt === undefined ? {} : { createdAt }),
    });
  };
  async function* records(): AsyncGenerator<TraceRecord> {
    const first = await raw.next();
    if (first.done) {
      onEmpty?.();
      header = makeHeader(dialect ?? 'postgres');
      yield header;
      return;
    }
    started = first.value;
    header = makeHeader(first.value.dialect);
    yield header;
    for await (const r of run) {
      if (keep && r.kind === 'template') templates.push(r);
      yield r;
    }
  }
  return {
    [Symbol.asyncIterator]: records,
    get catalog() {
      return run.catalog;
    },
    header: () => header,
    templates: () => {
      // reading the catalog throws the run's own STB_USAGE when it keeps none
      if (!keep) void run.catalog;
      return [...templates];
    },
    summary: () => run.summary(),
  };
}
