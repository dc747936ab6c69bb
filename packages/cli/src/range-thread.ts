import { closeSync, existsSync, fstatSync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import {
  rehydrateError,
  resolveWorkerFile,
  StbError,
  type RawQueryEvent,
  type SerializedError,
} from '@stb/core';
import { createExtractor, extractResult } from '@stb/extractor';
import type { ExtractedResult, Extractor, PackedResults } from '@stb/extractor';
import { PgRangeStitcher, pgRangeInputChanged } from '@stb/parser';
import type {
  ParseLogsOptions,
  ParseProgress,
  PgRangeEnd,
  PgRangePlan,
} from '@stb/parser';
import type { LogThreadRun } from './log-thread';
import { threadError } from './thread-error';
import { parseRange, type RangeTask } from './range-parse';

/**
 * Bytes per range (nominal; each starts at the first entry at or after its offset). Large enough
 * that a range's fixed costs (finding its ends, a new processor and packer, the main thread's
 * check of its start) stay small against its parse; small enough that the ranges held ahead (see
 * {@link AHEAD}) stay a few tens of MB.
 */
export const RANGE_BYTES = 8 * 1024 * 1024;

/** Ranges given out or claimed beyond the one being written, per thread. */
const AHEAD = 3;

/** What the main thread gives a range thread (`range-worker.ts`). */
export interface RangeThreadData {
  plan: PgRangePlan;
  options: ParseLogsOptions;
  /**
   * One `Int32` per range: 0 while no thread has started it, then 1 when a range thread has, 2
   * when the main thread has (each claims a range with `Atomics.compareExchange` before parsing
   * it alone).
   */
  claims: SharedArrayBuffer;
}

/** What a range thread posts, for range `index` (parsed alone). */
export type RangeThreadMessage =
  | { kind: 'batch'; index: number; results: PackedResults }
  | { kind: 'end'; index: number; end: PgRangeEnd; bytes: number }
  | { kind: 'error'; index: number; error: SerializedError }
  | { kind: 'skipped'; index: number };

/** A range parsed alone, as it arrives: its batches, then its end or its error. */
interface RangeState {
  batches: PackedResults[];
  end?: PgRangeEnd;
  bytes: number;
  error?: Error;
}

/**
 * How a range was taken: parsed alone and exact (`alone`), parsed alone, found not exact and
 * parsed again from the state before it (`again`), or parsed from that state at once because no
 * thread had started it (`here`).
 */
export type RangeTaken = 'alone' | 'again' | 'here';

/** Options of {@link parseRangesOnThreads}. */
export interface RangeThreadOptions {
  plan: PgRangePlan;
  options: ParseLogsOptions;
  threads: number;
  rangeBytes: number;
  onProgress?: ((p: ParseProgress) => void) | undefined;
  signal: AbortSignal;
  /**
   * Tests: this thread never parses a range before a range thread has (default true): every
   * range is then parsed alone first, whatever the timing.
   */
  mainParses?: boolean | undefined;
  /** Tests: told how each range was taken (see {@link RangeTaken}). */
  onRange?:
    ((index: number, how: RangeTaken, why?: string) => void) | undefined;
}

/**
 * `stb parse --workers n` on one PostgreSQL stderr log, in byte ranges: range threads
 * (`range-worker.ts`) parse and extract ranges of it, each alone, in order, and this thread takes
 * the ranges in order, checks each against the state a one-thread parse would have where it
 * starts (`PgRangeStitcher`), renames the sessions a range could not name, and parses a range
 * again from that state when the check fails. When the range it needs next is still being
 * parsed, this thread claims the first range no thread has started and parses it itself (from
 * the exact state when it is the next one), so that it works instead of waiting. The batches are
 * the one-thread parse's (tested, `parse-ranges.test.ts`). At most {@link AHEAD} ranges per thread
 * are parsed ahead of the one being written: memory is bounded by the range size, not the file's.
 */
export function parseRangesOnThreads(
  options: RangeThreadOptions,
): LogThreadRun {
  const stitcher = new PgRangeStitcher(options.plan, options.options);
  let run: RangeRun | undefined;
  return {
    summary: () => stitcher.summary,
    dialect: () => (run?.started === true ? options.plan.dialect : undefined),
    [Symbol.asyncIterator]: () => (run = new RangeRun(options, stitcher)),
  };
}

/** A batch given out: packed (a range parsed alone), or results (a range parsed here, exactly). */
type RangeOutput = ExtractedResult[] | PackedResults;

/** A range parsed on this thread from the exact state, its batches given out as they come. */
type LiveRange = AsyncGenerator<
  | { packed: PackedResults; transfer: ArrayBuffer[] }
  | { results: ExtractedResult[] },
  { end: PgRangeEnd; bytes: number }
>;

/** One iteration of {@link parseRangesOnThreads}: its threads, its ranges, its order. */
/**
 * Opens the planned log for the whole run, and checks that it is still the file planned (same
 * device and inode, at least as long): a log rotated between the plan and this open would
 * otherwise be parsed with another file's plan.
 */
function openPlanned(plan: PgRangePlan): number {
  let fd: number;
  try {
    fd = openSync(plan.file, 'r');
  } catch (err) {
    throw pgRangeInputChanged(
      plan.file,
      `it could not be opened again (${(err as Error).message})`,
      err,
    );
  }
  const st = fstatSync(fd);
  const id = plan.identity;
  const why =
    id !== undefined && (st.dev !== id.dev || st.ino !== id.ino)
      ? 'another file has its name since its ranges were planned (rotated)'
      : st.size < plan.size
        ? `it is ${st.size} bytes long now, ${plan.size} when its ranges were planned`
        : undefined;
  if (why !== undefined) {
    closeSync(fd);
    throw pgRangeInputChanged(plan.file, why);
  }
  return fd;
}

class RangeRun implements AsyncIterator<RangeOutput> {
  /** A batch was given out. */
  started = false;
  readonly #o: RangeThreadOptions;
  readonly #stitcher: PgRangeStitcher;
  readonly #count: number;
  readonly #claims: Int32Array;
  readonly #threads: Worker[];
  readonly #ranges = new Map<number, RangeState>();
  readonly #reach: number;
  readonly #mainParses: boolean;
  /** What goes out next, in order. */
  readonly #out: RangeOutput[] = [];
  #given = 0;
  /** The range to write next. */
  #cur = 0;
  #bytesDone = 0;
  #failure: Error | undefined;
  #ended = false;
  #stopped = false;
  /** The log, open for the whole run (see the constructor). */
  readonly #fd: number;
  #waiting: (() => void) | undefined;
  #ex: Extractor | undefined;
  #live: LiveRange | undefined;
  readonly #onAbort = (): void =>
    this.#fail(
      new StbError('STB_ABORTED', '[stb] [parser] Parsing was aborted.'),
    );

  constructor(options: RangeThreadOptions, stitcher: PgRangeStitcher) {
    // The log stays open for the whole run and every range reads it through that descriptor (by
    // its /proc name, which each reader opens for itself), so a log rotated away meanwhile is
    // still the one parsed; closed once the threads have stopped.
    this.#fd = openPlanned(options.plan);
    const o = (this.#o = {
      ...options,
      plan: {
        ...options.plan,
        readFrom: existsSync(`/proc/self/fd/${this.#fd}`)
          ? `/proc/self/fd/${this.#fd}`
          : undefined,
      },
    });
    this.#stitcher = stitcher;
    this.#count = Math.max(1, Math.ceil(o.plan.size / o.rangeBytes));
    const shared = new SharedArrayBuffer(4 * this.#count);
    this.#claims = new Int32Array(shared);
    const file = resolveWorkerFile(__dirname, '@stb/cli', 'range-worker.cjs');
    const made: Worker[] = [];
    try {
      for (let k = 0; k < o.threads; k++)
        made.push(
          new Worker(file, {
            workerData: {
              plan: o.plan,
              options: o.options,
              claims: shared,
            } satisfies RangeThreadData,
          }),
        );
    } catch (err) {
      // no run to end them: the threads made so far and the log's descriptor go now
      for (const t of made) void t.terminate();
      closeSync(this.#fd);
      throw err;
    }
    this.#threads = made;
    this.#reach = AHEAD * Math.max(1, this.#threads.length);
    this.#mainParses = o.mainParses !== false;
    this.#threads.forEach((t, k) => this.#listen(t, k));
    if (o.signal.aborted) this.#onAbort();
    o.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  #listen(t: Worker, k: number): void {
    t.on('message', (m: RangeThreadMessage) => {
      if (m.kind === 'skipped') return;
      let r = this.#ranges.get(m.index);
      if (r === undefined) {
        r = { batches: [], bytes: 0 };
        this.#ranges.set(m.index, r);
      }
      if (m.kind === 'batch') r.batches.push(m.results);
      else if (m.kind === 'end') {
        r.end = m.end;
        r.bytes = m.bytes;
      } else r.error = rehydrateError(m.error);
      this.#wakeUp();
    });
    t.on('error', (err) => this.#fail(threadError(err, 'range')));
    t.on('exit', (code) => {
      if (!this.#ended)
        this.#fail(
          new StbError(
            'STB_INTERNAL',
            `[stb] [cli] Range thread ${k + 1} stopped (exit code ${code}) before the end of the input. This is a bug: rerun without \`--workers\` and report it.`,
          ),
        );
    });
  }

  #wakeUp(): void {
    this.#waiting?.();
    this.#waiting = undefined;
  }

  #stopAll(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const fd = this.#fd;
    void Promise.allSettled(this.#threads.map((t) => t.terminate())).then(() =>
      closeSync(fd),
    );
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    this.#stopAll();
    this.#wakeUp();
  }

  #finish(): void {
    this.#ended = true;
    this.#o.signal.removeEventListener('abort', this.#onAbort);
    this.#stopAll();
  }

  #nominal(index: number): RangeTask {
    const { rangeBytes, plan } = this.#o;
    return {
      index,
      from: index * rangeBytes,
      to: Math.min(plan.size, (index + 1) * rangeBytes),
    };
  }

  /** Gives the range threads the ranges up to the next one plus the look-ahead, in turn. */
  #giveAhead(): void {
    const threads = this.#threads;
    while (
      threads.length > 0 &&
      this.#given < this.#count &&
      this.#given <= this.#cur + this.#reach
    ) {
      const i = this.#given++;
      (threads[i % threads.length] as Worker).postMessage(this.#nominal(i));
    }
  }

  async #extractor(): Promise<Extractor> {
    return (this.#ex ??= await createExtractor());
  }

  /** Range `index` parsed alone on this thread, held packed until its turn. */
  async #parseAhead(index: number): Promise<void> {
    const r: RangeState = { batches: [], bytes: 0 };
    this.#ranges.set(index, r);
    try {
      const it = parseRange(this.#o.plan, this.#nominal(index), {
        options: this.#o.options,
        ex: await this.#extractor(),
      });
      let step = await it.next();
      for (; !step.done; step = await it.next())
        if ('packed' in step.value) r.batches.push(step.value.packed);
      r.end = step.value.end;
      r.bytes = step.value.bytes;
    } catch (err) {
      r.error = err as Error;
    }
  }

  /** Parses the next range here from the exact state (its batches go out as they come). */
  async #goLive(): Promise<void> {
    this.#live = parseRange(
      this.#o.plan,
      { ...this.#nominal(this.#cur), seed: this.#stitcher.seed() },
      { options: this.#o.options, ex: await this.#extractor(), objects: true },
    );
  }

  /** Held events given out here: extracted with this thread's extractor, as a new run. */
  async #extracted(raws: readonly RawQueryEvent[]): Promise<ExtractedResult[]> {
    const mine = await this.#extractor();
    // Whatever it extracted last is not what comes before these (a `conn` is set whenever the
    // session changes, so no session's first event goes without).
    mine.resetRun();
    return raws.map((r) => extractResult(mine, r));
  }

  /** A range's batches, renamed, and their sessions counted. */
  #queue(
    batches: PackedResults[],
    rename: Map<string, string> | undefined,
  ): void {
    for (const p of batches) {
      const names = p.sessions.map((s) => rename?.get(s));
      if (names.some((n) => n !== undefined)) p.renamed = names;
      p.sessions.forEach((s, i) => this.#stitcher.session(names[i] ?? s));
      this.#out.push(p);
    }
  }

  /** The next range is out: on to the one after it (and the end of the input after the last). */
  async #next(bytes: number): Promise<void> {
    this.#bytesDone += bytes;
    this.#ranges.delete(this.#cur);
    this.#cur++;
    if (this.#cur === this.#count) {
      const last = this.#stitcher.finish();
      if (last.length > 0) this.#out.push(await this.#extracted(last));
    }
    const { plan, onProgress } = this.#o;
    onProgress?.({
      file: plan.file,
      bytesRead: this.#bytesDone,
      totalBytes: plan.size,
      events: this.#stitcher.summary.events,
    });
  }

  /**
   * The next range once a range thread has parsed it (or failed), this thread parsing the first
   * range no thread has started meanwhile; undefined when this thread claimed the next range
   * itself (it is then parsed from the exact state).
   */
  async #settled(): Promise<RangeState | undefined> {
    const claims = this.#claims;
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      const cur = this.#cur;
      const r = this.#ranges.get(cur);
      if (r !== undefined && (r.end !== undefined || r.error !== undefined))
        return r;
      if (!this.#mainParses) {
        await new Promise<void>((res) => (this.#waiting = res));
        continue;
      }
      if (r === undefined && Atomics.compareExchange(claims, cur, 0, 2) === 0)
        return undefined;
      let free: number | undefined;
      const last = Math.min(this.#count - 1, cur + this.#reach);
      for (let j = cur + 1; free === undefined && j <= last; j++)
        if (Atomics.compareExchange(claims, j, 0, 2) === 0) free = j;
      if (free !== undefined) await this.#parseAhead(free);
      else await new Promise<void>((res) => (this.#waiting = res));
    }
  }

  /**
   * Takes the next range: queues its batches when it was parsed alone and is exact, else parses
   * it here from the exact state.
   */
  async #advance(): Promise<void> {
    this.#giveAhead();
    const cur = this.#cur;
    const r = await this.#settled();
    if (r === undefined) {
      this.#o.onRange?.(cur, 'here');
      return this.#goLive();
    }
    // The first range is exact: its error is the one-thread parse's.
    if (cur === 0 && r.error !== undefined) throw r.error;
    const verdict =
      r.end !== undefined
        ? this.#stitcher.accept(r.end)
        : ({ exact: false, why: 'its parse failed' } as const);
    this.#o.onRange?.(
      cur,
      verdict.exact ? 'alone' : 'again',
      verdict.exact ? undefined : verdict.why,
    );
    if (!verdict.exact) return this.#goLive();
    if (verdict.before.length > 0)
      this.#out.push(await this.#extracted(verdict.before));
    this.#queue(r.batches, verdict.rename);
    await this.#next(r.bytes);
  }

  /** The next batch of the range parsed here, or undefined once it has ended. */
  async #fromLive(live: LiveRange): Promise<RangeOutput | undefined> {
    const step = await live.next();
    if (!step.done) {
      // Parsed with `objects`: results, not packed batches.
      const { results } = step.value as { results: ExtractedResult[] };
      for (const x of results) this.#stitcher.session(x.event.sessionId);
      return results;
    }
    this.#live = undefined;
    this.#stitcher.acceptSeeded(step.value.end);
    await this.#next(step.value.bytes);
    return undefined;
  }

  async next(): Promise<IteratorResult<RangeOutput>> {
    for (;;) {
      if (this.#failure !== undefined) {
        this.#finish();
        throw this.#failure;
      }
      let value = this.#out.shift();
      try {
        if (value === undefined && this.#live !== undefined)
          value = await this.#fromLive(this.#live);
        if (
          value === undefined &&
          this.#live === undefined &&
          this.#out.length === 0
        ) {
          if (this.#cur >= this.#count) break;
          await this.#advance();
          continue;
        }
      } catch (err) {
        this.#finish();
        throw this.#failure ?? err;
      }
      if (value === undefined) continue;
      this.started = true;
      return { done: false, value };
    }
    this.#finish();
    return { done: true, value: undefined };
  }

  return(): Promise<IteratorResult<RangeOutput>> {
    this.#finish();
    return Promise.resolve({ done: true, value: undefined });
  }
}
