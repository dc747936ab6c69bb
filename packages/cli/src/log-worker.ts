import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { serializeError } from '@stb/core';
import type { Dialect, RawQueryEvent } from '@stb/core';
import { createExtractor, ResultPacker } from '@stb/extractor';
import type { Extractor } from '@stb/extractor';
import { loadFormatPackage, parseLogBatches, withFormats } from '@stb/parser';
import type { AnyLogFormat, ParseProgress } from '@stb/parser';
import type { ExtractRequest } from './extract-worker';
import type { LogThreadData, LogThreadMessage } from './log-thread';
import {
  extractionRoute,
  HAND_OFF_CHARS,
  HAND_OFF_EVENTS,
  joined,
} from './hand-off';
import { packRaw } from './raw-pack';
import { extractBatch } from './extract-batch';

/**
 * Where each batch goes, in a repeating pattern, without extraction threads: `s` extracted on
 * this thread (and packed), `m` raw to the main thread, which extracts it. Packed (`pack`), an
 * extracted batch costs the main thread almost nothing, so it takes five raw batches in eight,
 * spread out; in JSON, every other one. Measured on the 100 MiB pgbench stderr log
 * (docs/extraction.md), with the raw ones in a block of eight: four, five and six raw gave wall
 * times within the noise of each other.
 */
const ROUTE_PACKED = 'smmsmmsm';
const ROUTE_JSON = 'sm';

/**
 * With extraction threads, the parse thread extracts a batch itself when the least busy of them
 * has this many waiting and half the credits are taken ({@link extractionRoute}). Measured by hand
 * on 2026-12-07 (100 MiB logs, `--workers 2`, alternating runs, medians; docs/extraction.md,
 * "MySQL's `--workers 2`"): on a busy machine a MariaDB general log took 10.07 s against 11.41 s
 * when every batch went to the extraction thread (4 rounds), peak RSS 230–241 against 216–225 MB;
 * on a quiet one 6.54 against 6.58 s (3 rounds): it helps when the extraction thread is short of
 * a core. The MySQL log had 239 of its 735 batches extracted here, the pgbench stderr log 59 of
 * 403, jsonlog and csvlog none.
 */
const SELF_AT = 3;

/**
 * The parse thread of `stb parse --workers`: reads and parses the logs, in order, with one parser
 * (so session ids, follow-up lines and file order are the sequential run's; an event's fields
 * do not depend on which extractor made it, see `log-thread.ts`), and posts each batch packed
 * (`pack`: typed arrays and bytes, see `ResultPacker` and `packRaw`) or as one JSON string: some
 * extracted, the others raw for the main thread or an extraction thread to extract (see
 * {@link ROUTE_PACKED} and {@link SELF_AT}). At most `inFlight` batches wait in the main thread
 * (it acknowledges each one it takes), so this thread cannot run ahead without bound.
 */
async function run(data: LogThreadData): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const post = (m: LogThreadMessage): void => port.postMessage(m);
  let credits = data.inFlight;
  let wake: (() => void) | undefined;
  port.on('message', () => {
    credits++;
    wake?.();
    wake = undefined;
  });
  const credit = async (): Promise<void> => {
    while (credits === 0) await new Promise<void>((r) => (wake = r));
    credits--;
  };
  const ports = data.extractPorts;
  /** Batches sent to the extraction threads: each one's number (`seq`) checks its way back. */
  let sentToThreads = 0;
  /** Per extraction thread: batches sent and not yet extracted (it answers each one). */
  const queued = new Int32Array(ports.length);
  ports.forEach((p, k) => {
    p.on('message', () => {
      queued[k] = (queued[k] as number) - 1;
    });
    // The parse thread's life is its input's, not these ports'.
    p.unref();
  });
  const progress = new Map<string, ParseProgress>();
  const packer = new ResultPacker();
  let parse: ReturnType<typeof parseLogBatches> | undefined;
  const meta = (dialect: Dialect | undefined) => ({
    summary: parse?.summary(),
    progress: [...progress.values()],
    dialect,
  });
  /** Posts a batch raw: to extraction thread `thread`, or to the main thread. */
  const sendRaw = async (
    events: RawQueryEvent[],
    thread: number | undefined,
  ): Promise<void> => {
    await credit();
    const m = meta(events[0]?.dialect);
    if (thread !== undefined) {
      // The main thread takes the results from that thread at the `via`.
      const { packed, transfer } = packRaw(events);
      const seq = sentToThreads++;
      const req: ExtractRequest = { raw: packed, meta: m, seq };
      queued[thread] = (queued[thread] as number) + 1;
      (ports[thread] as MessagePort).postMessage(req, transfer);
      post({ kind: 'via', thread, seq });
      return;
    }
    if (data.pack) {
      const { packed, transfer } = packRaw(events);
      port.postMessage(
        { kind: 'batch', results: packed, raw: true, ...m },
        transfer,
      );
      return;
    }
    post({ kind: 'batch', results: JSON.stringify(events), raw: true, ...m });
  };
  try {
    const loaded: AnyLogFormat[] = [];
    for (const pkg of data.formatPackages)
      loaded.push(...(await loadFormatPackage(pkg, { from: data.from })));
    parse = parseLogBatches(data.inputs, {
      ...data.parse,
      ...(loaded.length === 0 ? {} : { formats: withFormats(loaded) }),
      onProgress: (p) => progress.set(p.file, p),
    });
    // Made when a batch is first extracted here (with extraction threads, only once they fall
    // behind: each extractor holds a parser instance).
    let ex: Extractor | undefined;
    const step = data.handOffEvents ?? Number.POSITIVE_INFINITY;
    const pattern = data.pack ? ROUTE_PACKED : ROUTE_JSON;
    let n = 0;
    /** Batches extracted here beside extraction threads (for the tests). */
    let extractedHere = 0;
    for await (const raws of joined(parse, HAND_OFF_EVENTS, HAND_OFF_CHARS)) {
      for (let i = 0; i < raws.length; i += step) {
        const part = step >= raws.length ? raws : raws.slice(i, i + step);
        if (ports.length > 0) {
          // Tests may have every n-th batch extracted here, whatever the queues.
          const every = data.extractHereEvery;
          const to =
            every !== undefined && n++ % every === 0
              ? 'here'
              : extractionRoute(queued, credits, {
                  inFlight: data.inFlight,
                  selfAt: every === undefined ? SELF_AT : Infinity,
                });
          if (to !== 'here') {
            await sendRaw(part, to);
            continue;
          }
        } else if (pattern[n++ % pattern.length] !== 's') {
          await sendRaw(part, undefined);
          continue;
        }
        ex ??= await createExtractor();
        if (ports.length > 0) extractedHere++;
        // What was extracted before a failure goes first, as in one thread.
        const here = extractBatch(ex, part, {
          packer: data.pack ? packer : undefined,
        });
        if (here.count > 0) {
          await credit();
          port.postMessage(
            {
              kind: 'batch',
              results: here.results,
              raw: false,
              ...meta(part[0]?.dialect),
            },
            here.transfer,
          );
        }
        if (here.failed) throw here.error;
      }
    }
    post({
      kind: 'end',
      summary: parse.summary(),
      progress: [...progress.values()],
      extractedHere,
    });
  } catch (err) {
    post({ kind: 'error', error: serializeError(err) });
  }
}

void run(workerData as LogThreadData);
