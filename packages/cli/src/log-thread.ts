import { Worker } from 'node:worker_threads';
import {
  rehydrateError,
  resolveWorkerFile,
  StbError,
  type Dialect,
  type RawQueryEvent,
  type SerializedError,
} from '@stb/core';
import { createExtractor, extractResult } from '@stb/extractor';
import type { ExtractedResult, Extractor, PackedResults } from '@stb/extractor';
import { emptyParseSummary } from '@stb/parser';
import { unpackRaw, type PackedRaw } from './raw-pack';
import type {
  ParseLogsOptions,
  ParseProgress,
  ParseSummary,
} from '@stb/parser';

/**
 * Batches (of about 2 000 statements each) the parse thread may run ahead of the main one: enough
 * that neither waits for the other at every batch. 100 MiB pgbench log, three alternating rounds:
 * 9.03, 9.23, 8.73 s wall with 2, 8.26, 7.88, 7.85 s with 6; peak RSS 243–252 MB either way.
 */
const IN_FLIGHT = 6;

/** What the main thread gives the parse thread (`log-worker.ts`). */
export interface LogThreadData {
  inputs: string[];
  parse: Pick<
    ParseLogsOptions,
    'format' | 'filters' | 'formatOptions' | 'onInvalid'
  >;
  formatPackages: string[];
  from: string | undefined;
  inFlight: number;
  handOffEvents: number | undefined;
  /**
   * Batches cross packed (`PackedResults`, raw ones `PackedRaw`) instead of JSON: set when the
   * trace's events are held encoded (a packed statement is written from its parts).
   */
  pack: boolean;
}

/** What the parse thread posts. */
export type LogThreadMessage =
  | {
      kind: 'batch';
      /**
       * `ExtractedResult[]` as JSON (one string: far cheaper to pass than objects) or packed
       * (`pack`), or with `raw` the batch's `RawQueryEvent[]` (as JSON, or packed), for the main
       * thread to extract.
       */
      results: string | PackedResults | PackedRaw;
      raw: boolean;
      dialect: Dialect | undefined;
      summary: ParseSummary | undefined;
      progress: ParseProgress[];
    }
  | { kind: 'end'; summary: ParseSummary; progress: ParseProgress[] }
  | { kind: 'error'; error: SerializedError };

/** Options of {@link parseOnThread}. */
export interface LogThreadOptions extends Omit<LogThreadData, 'inFlight'> {
  onProgress?: ((p: ParseProgress) => void) | undefined;
  signal: AbortSignal;
}

/** The statements of a log parsed and extracted on another thread, in input order. */
export interface LogThreadRun extends AsyncIterable<
  ExtractedResult[] | PackedResults
> {
  /** The parse summary as of the last batch taken (final once iteration has ended). */
  summary(): ParseSummary;
  /** Dialect of the first statement (once the first batch is taken). */
  dialect(): Dialect | undefined;
}

/**
 * Starts `log-worker.ts` on a thread of its own and hands its batches out in order. JSON is an
 * exact carrier here: what crosses is what the trace writer writes as JSON. Errors of the parse
 * thread are rethrown as they were raised (`StbError` code, message, details); `signal` ends the
 * thread with `STB_ABORTED`. At most {@link IN_FLIGHT} batches are parsed ahead of the consumer.
 */
export function parseOnThread(options: LogThreadOptions): LogThreadRun {
  let summary = emptyParseSummary();
  let firstDialect: Dialect | undefined;
  const iterate = (): AsyncIterator<ExtractedResult[] | PackedResults> => {
    const { onProgress, signal, ...data } = options;
    const worker = new Worker(
      resolveWorkerFile(__dirname, '@stb/cli', 'log-worker.js'),
      {
        workerData: { ...data, inFlight: IN_FLIGHT } satisfies LogThreadData,
      },
    );
    const queue: LogThreadMessage[] = [];
    let ex: Extractor | undefined;
    let failure: Error | undefined;
    let ended = false;
    let waiting: (() => void) | undefined;
    const wakeUp = (): void => {
      waiting?.();
      waiting = undefined;
    };
    const fail = (err: Error): void => {
      failure ??= err;
      void worker.terminate();
      wakeUp();
    };
    const onAbort = (): void =>
      fail(new StbError('STB_ABORTED', '[stb] [parser] Parsing was aborted.'));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const finish = (): void => {
      ended = true;
      signal.removeEventListener('abort', onAbort);
      void worker.terminate();
    };
    worker.on('message', (m: LogThreadMessage) => {
      if (m.kind === 'error') fail(rehydrateError(m.error));
      else queue.push(m);
      wakeUp();
    });
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!ended)
        fail(
          new StbError(
            'STB_INTERNAL',
            `[stb] [cli] The parse thread stopped (exit code ${code}) before the end of the input. This is a bug: rerun without \`--workers\` and report it.`,
          ),
        );
    });
    return {
      next: async (): Promise<
        IteratorResult<ExtractedResult[] | PackedResults>
      > => {
        for (;;) {
          if (failure !== undefined) {
            finish();
            throw failure;
          }
          const m = queue.shift();
          if (m === undefined) {
            await new Promise<void>((r) => (waiting = r));
            continue;
          }
          if (m.kind === 'error') continue; // raised through `failure`
          if (m.summary) summary = m.summary;
          for (const p of m.progress) onProgress?.(p);
          if (m.kind === 'end') {
            finish();
            return { done: true, value: undefined };
          }
          firstDialect ??= m.dialect;
          worker.postMessage(1); // one more batch may be parsed ahead
          if (
            typeof m.results !== 'string' &&
            m.results.kind === 'packed-results'
          )
            return { done: false, value: m.results };
          if (!m.raw)
            return {
              done: false,
              value: JSON.parse(m.results as string) as ExtractedResult[],
            };
          // Extracted here, with this thread's own extractor: an event's fields do not depend on
          // which extractor made them, and of a template, the trace keeps the one made from the
          // first event using it, which is new to whichever extractor met that event.
          ex ??= await createExtractor();
          const mine = ex;
          const raws =
            typeof m.results === 'string'
              ? (JSON.parse(m.results) as RawQueryEvent[])
              : unpackRaw(m.results);
          return {
            done: false,
            value: raws.map((r) => extractResult(mine, r)),
          };
        }
      },
      return: (): Promise<
        IteratorResult<ExtractedResult[] | PackedResults>
      > => {
        finish();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  };
  return {
    summary: () => summary,
    dialect: () => firstDialect,
    [Symbol.asyncIterator]: iterate,
  };
}
