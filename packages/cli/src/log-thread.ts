import { MessageChannel, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
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
import { EXTRACT_THREAD_LIMITS } from './heap-growing';
import type { YoungGenerationHold } from './heap-growing';
import { threadError } from './thread-error';
import { unpackRaw, type PackedRaw } from './raw-pack';
import type {
  ParseLogsOptions,
  ParseProgress,
  ParseSummary,
} from '@stb/parser';

/**
 * Batches (of about 2 000 statements each) the parse thread may run ahead of the main one: enough
 * that neither waits for the other at every batch. 100 MiB pgbench log, three alternating rounds:
 * 9.03, 9.23, 8.73 s wall with 2, 8.26, 7.88, 7.85 s with 6. With an extraction thread between
 * the two, a burst on any of the three threads (a collection, a flush) stalls the others once the
 * parse thread is out of credit; 24 instead of 6 (2026-12-04, `--workers 2`, alternating): the two
 * cores' use 0.853–0.864 against 0.814–0.849 (100 MiB, 4 pairs, wall 3.66 against 3.75 s,
 * medians), 0.886–0.895 against 0.867–0.872 (1 GiB, 2 pairs), for about 14 MB more peak RSS.
 */
const IN_FLIGHT = 24;

/** What the main thread gives the parse thread (`log-worker.ts`). */
export interface LogThreadData {
  inputs: string[];
  parse: Pick<
    ParseLogsOptions,
    'format' | 'filters' | 'formatOptions' | 'onInvalid' | 'maxLineLength'
  >;
  formatPackages: string[];
  from: string | undefined;
  inFlight: number;
  handOffEvents: number | undefined;
  /**
   * Tests only: with extraction threads, the parse thread extracts every n-th batch itself
   * (the first included) whatever the queues, and no other (see `extractionRoute`).
   */
  extractHereEvery?: number | undefined;
  /**
   * Batches cross packed (`PackedResults`, raw ones `PackedRaw`) instead of JSON: set when the
   * trace's events are held encoded (a packed statement is written from its parts).
   */
  pack: boolean;
  /**
   * Ports to the extraction threads (`extract-worker.ts`), when there are any: batches then go
   * raw to them (to the one with the fewest waiting, unless the parse thread extracts the batch
   * itself, see `extractionRoute`), and they post the results to the main thread.
   */
  extractPorts: MessagePort[];
}

/** What the main thread gives an extraction thread (`extract-worker.ts`). */
export interface ExtractThreadData {
  /** Where its raw batches come from (the parse thread). */
  port: MessagePort;
}

/** What the parse thread posts (and an extraction thread: its `batch`es, or an `error`). */
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
      /**
       * An extraction thread failed on this batch: `results` are the statements before the
       * failing one, and the error is raised right after them, where one thread raises it.
       */
      error?: SerializedError;
      /** From an extraction thread: the `seq` of the `via` this batch answers. */
      seq?: number;
    }
  | {
      /**
       * The next batch went to extraction thread `thread`: take its next result, which must
       * carry this `seq` (the parse thread numbers the batches it sends, from 0).
       */
      kind: 'via';
      thread: number;
      seq: number;
    }
  | {
      kind: 'end';
      summary: ParseSummary;
      progress: ParseProgress[];
      /** Batches the parse thread extracted itself while there were extraction threads. */
      extractedHere: number;
    }
  | { kind: 'error'; error: SerializedError; seq?: number };

/**
 * What an extraction thread posts: a `batch` (its results, whole or up to a failure) or an
 * `error`, with the number of the batch it answers (the `seq` of its `via`).
 */
export type ExtractAnswer = Extract<
  LogThreadMessage,
  { kind: 'batch' } | { kind: 'error' }
> & { seq: number };

/** Options of {@link parseOnThread}. */
export interface LogThreadOptions extends Omit<
  LogThreadData,
  'inFlight' | 'extractPorts'
> {
  /**
   * Extraction threads besides the parse thread (`pack` only; 0: the parse thread and this one
   * extract, see `log-worker.ts`).
   */
  extractThreads: number;
  onProgress?: ((p: ParseProgress) => void) | undefined;
  /** Tests: at the end, the batches the parse thread extracted itself beside extraction threads. */
  onExtractedHere?: ((batches: number) => void) | undefined;
  signal: AbortSignal;
  /**
   * Starts the threads at their largest young generation and holds the young generations once
   * they have all started (see `YoungGenerationHold`); ended with the run.
   */
  youngGeneration?: YoungGenerationHold | undefined;
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
 * Starts the parse thread (`log-worker.ts`) and, writing packed, `extractThreads` extraction
 * threads (`extract-worker.ts`), each fed by the parse thread through a port of its own. The
 * parse thread comes first. The threads run the CommonJS builds (`dist/*.cjs`): loading the
 * ESM builds cost each thread about 0.2 s more CPU (ESM module compilation, and lexing every
 * CommonJS dependency an ES module imports, libpg-query's and zod's among them).
 */
function startThreads(
  data: Omit<LogThreadData, 'inFlight' | 'extractPorts'>,
  extractThreads: number,
): Worker[] {
  const file = (name: string): string =>
    resolveWorkerFile(__dirname, '@stb/cli', name);
  const channels = Array.from(
    { length: data.pack ? extractThreads : 0 },
    () => new MessageChannel(),
  );
  const extractors = channels.map(
    (ch) =>
      new Worker(file('extract-worker.cjs'), {
        resourceLimits: EXTRACT_THREAD_LIMITS,
        workerData: { port: ch.port2 } satisfies ExtractThreadData,
        transferList: [ch.port2],
      }),
  );
  const extractPorts = channels.map((ch) => ch.port1);
  const parse = new Worker(file('log-worker.cjs'), {
    workerData: {
      ...data,
      inFlight: IN_FLIGHT,
      extractPorts,
    } satisfies LogThreadData,
    transferList: extractPorts,
  });
  return [parse, ...extractors];
}

/**
 * The threads' messages put back in input order: the parse thread's in the order posted, and at
 * each of its `via`s the next batch of that extraction thread (each answers in the order it was
 * given its batches). Exported for its tests.
 */
export class InputOrder {
  /** The parse thread's messages (`via`: the batch is an extraction thread's). */
  readonly #queue: LogThreadMessage[] = [];
  /** Each extraction thread's results, in the order it was given the batches. */
  readonly #extracted: LogThreadMessage[][];
  /** Batches sent to the extraction threads (`via`s seen), and received from them. */
  #sent = 0;
  #received = 0;
  /** The parse thread's `batch`es and `via`s not yet taken: each holds one of its credits. */
  #holding = 0;
  readonly #inFlight: number;

  /** `inFlight`: the parse thread's credits (it posts a `batch` or a `via` only with one). */
  constructor(extractThreads: number, inFlight: number) {
    this.#extracted = Array.from({ length: extractThreads }, () => []);
    this.#inFlight = inFlight;
  }

  /** A message of thread `k` (0: the parse thread, then the extraction threads). */
  add(k: number, m: LogThreadMessage): void {
    if (k > 0) {
      this.#extracted[k - 1]?.push(m);
      this.#received++;
      return;
    }
    if (m.kind === 'via') this.#sent++;
    if (m.kind === 'via' || m.kind === 'batch') this.#holding++;
    this.#queue.push(m);
  }

  /**
   * The next message in input order (at a `via`, the extraction thread's answer), or undefined
   * when it has not arrived yet.
   */
  take(): Exclude<LogThreadMessage, { kind: 'via' }> | undefined {
    const m = this.#queue[0];
    if (m?.kind !== 'via') {
      if (m?.kind === 'batch') this.#holding--;
      this.#queue.shift();
      return m;
    }
    // Not the batch the `via` names: nothing is taken, and `lost()` says why.
    const r = this.#extracted[m.thread]?.[0];
    if (r === undefined || !answers(r, m)) return undefined;
    this.#extracted[m.thread]?.shift();
    this.#queue.shift();
    this.#holding--;
    return r;
  }

  /**
   * Why the next message can never arrive, or undefined: never wait for it. It cannot when the
   * next is an extraction thread's batch that is not there, every batch the extraction threads
   * were sent has come back, and the parse thread can post nothing more: it ended, or it holds
   * no credit (each comes back when a batch is taken, so it waits for this one). Nor when the
   * extraction thread's next batch is not the one the `via` names (numbered by the parse
   * thread). A `via` naming the wrong thread (a bug) ends here, not in a wait without end or in
   * batches out of order.
   */
  lost(): string | undefined {
    const m = this.#queue[0];
    if (m?.kind !== 'via') return undefined;
    const r = this.#extracted[m.thread]?.[0];
    if (r !== undefined) return answers(r, m) ? undefined : wrongAnswer(r, m);
    if (this.#extracted[m.thread] === undefined)
      return `The parse thread named extraction thread ${m.thread + 1} of ${this.#extracted.length}.`;
    if (this.#received !== this.#sent) return undefined;
    // The parse thread's last message: its end, or its error.
    const last = this.#queue.at(-1)?.kind;
    const ended = last === 'end' || last === 'error';
    if (!ended && this.#holding < this.#inFlight) return undefined;
    return `Extraction thread ${m.thread + 1} has no batch left for the next one (${this.#received} received${ended ? '' : `, the parse thread out of credit`}).`;
  }
}

/** Whether `r` is an extraction thread's answer to the batch `via` names (its `seq`). */
function answers(
  r: LogThreadMessage,
  via: Extract<LogThreadMessage, { kind: 'via' }>,
): r is ExtractAnswer {
  return (r.kind === 'batch' || r.kind === 'error') && r.seq === via.seq;
}

/** Why `r`, the next answer of the thread `via` names, is not the batch it names. */
function wrongAnswer(
  r: LogThreadMessage,
  via: Extract<LogThreadMessage, { kind: 'via' }>,
): string {
  const seq = r.kind === 'batch' || r.kind === 'error' ? r.seq : undefined;
  return `Extraction thread ${via.thread + 1} answered batch ${seq} where batch ${via.seq} was due.`;
}

/**
 * Starts `log-worker.ts` on a thread of its own (and `extractThreads` extraction threads, see
 * {@link startThreads}) and hands its batches out in order ({@link InputOrder}). JSON is an
 * exact carrier here: what crosses is what the trace writer writes as JSON. Errors of any of the
 * threads are rethrown as they were raised (`StbError` code, message, details); `signal` ends
 * them with `STB_ABORTED`. At most {@link IN_FLIGHT} batches are parsed ahead of the consumer.
 */
export function parseOnThread(options: LogThreadOptions): LogThreadRun {
  let summary = emptyParseSummary();
  let firstDialect: Dialect | undefined;
  const iterate = (): AsyncIterator<ExtractedResult[] | PackedResults> => {
    const {
      onProgress,
      onExtractedHere,
      signal,
      extractThreads,
      youngGeneration,
      ...data
    } = options;
    const create = (): Worker[] => startThreads(data, extractThreads);
    const threads = youngGeneration?.start(create) ?? create();
    const worker = threads[0] as Worker;
    const order = new InputOrder(threads.length - 1, IN_FLIGHT);
    let ex: Extractor | undefined;
    let failure: Error | undefined;
    /** Raised at the next call: the error of the batch just returned (see `error`). */
    let after: Error | undefined;
    let ended = false;
    let waiting: (() => void) | undefined;
    const wakeUp = (): void => {
      waiting?.();
      waiting = undefined;
    };
    const stopAll = (): void => {
      for (const t of threads) void t.terminate();
    };
    const fail = (err: Error): void => {
      failure ??= err;
      stopAll();
      wakeUp();
    };
    const onAbort = (): void =>
      fail(new StbError('STB_ABORTED', '[stb] [parser] Parsing was aborted.'));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const finish = (): void => {
      ended = true;
      youngGeneration?.end();
      signal.removeEventListener('abort', onAbort);
      stopAll();
    };
    threads.forEach((t, k) => {
      // An `error` takes its place in input order like a batch: raised when the statements
      // before it are out, so the error is the one a single thread would have met first (a
      // thread's error may arrive while batches before it still wait to be assembled).
      t.on('message', (m: LogThreadMessage) => {
        order.add(k, m);
        youngGeneration?.check();
        wakeUp();
      });
      t.on('error', (err) =>
        fail(threadError(err, k === 0 ? 'parse' : 'extraction')),
      );
      t.on('exit', (code) => {
        if (!ended)
          fail(
            new StbError(
              'STB_INTERNAL',
              `[stb] [cli] The ${k === 0 ? 'parse' : 'extraction'} thread stopped (exit code ${code}) before the end of the input. This is a bug: rerun without \`--workers\` and report it.`,
            ),
          );
      });
    });
    /** The next message in input order (undefined: not arrived yet, or the run failed). */
    const take = (): Exclude<LogThreadMessage, { kind: 'via' }> | undefined => {
      const m = order.take();
      const lost = m === undefined ? order.lost() : undefined;
      if (lost !== undefined)
        fail(
          new StbError(
            'STB_INTERNAL',
            `[stb] [cli] ${lost} This is a bug: rerun without \`--workers\` and report it.`,
          ),
        );
      return m;
    };
    return {
      next: async (): Promise<
        IteratorResult<ExtractedResult[] | PackedResults>
      > => {
        if (after !== undefined) fail(after);
        for (;;) {
          if (failure !== undefined) {
            finish();
            throw failure;
          }
          const m = take();
          if (m === undefined) {
            if (failure === undefined)
              await new Promise<void>((r) => (waiting = r));
            continue;
          }
          if (m.kind === 'error') {
            fail(rehydrateError(m.error));
            continue;
          }
          if (m.summary) summary = m.summary;
          for (const p of m.progress) onProgress?.(p);
          if (m.kind === 'end') {
            onExtractedHere?.(m.extractedHere);
            finish();
            return { done: true, value: undefined };
          }
          firstDialect ??= m.dialect;
          if (m.error !== undefined) after = rehydrateError(m.error);
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
