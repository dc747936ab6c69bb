import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { serializeError } from '@stb/core';
import { createExtractor, ResultPacker } from '@stb/extractor';
import type { PackedResults } from '@stb/extractor';
import type {
  ExtractAnswer,
  ExtractThreadData,
  LogThreadMessage,
} from './log-thread';
import type { PackedRaw } from './raw-pack';
import { extractBatch } from './extract-batch';

/** A raw batch from the parse thread, with what the main thread takes along with its results. */
export interface ExtractRequest {
  raw: PackedRaw;
  /** The batch's number, given back with its results (the main thread checks it). */
  seq: number;
  meta: Omit<
    Extract<LogThreadMessage, { kind: 'batch' }>,
    'kind' | 'results' | 'raw'
  >;
}

/**
 * An extraction thread of `stb parse --workers 2` and more: takes raw batches from the parse
 * thread (its own port, in order), extracts them with its own extractor and posts each one packed
 * (`ResultPacker`) to the main thread, in the order received. Exact whichever thread extracts a
 * batch: an event's fields do not depend on the extractor, and of a template the main thread
 * keeps the one accepted first (see `log-thread.ts`). A failure posts what was extracted before
 * it with the error, or the error alone.
 */
async function run(data: ExtractThreadData): Promise<void> {
  const out = parentPort;
  if (!out) return;
  const input: MessagePort = data.port;
  const ex = await createExtractor();
  const packer = new ResultPacker();
  let failed = false;
  input.on('message', (req: ExtractRequest) => {
    // After an error the thread stays (the main thread ends it): exiting now would be taken for
    // a crash before the error, which waits for its turn in input order, is raised. It still
    // answers each batch, so the parse thread does not take it for a thread falling behind.
    if (failed) {
      input.postMessage(0);
      return;
    }
    // One statement at a time, unpacked, extracted and packed: its objects die young (a whole
    // batch of them alive at once was copied by every scavenge and promoted).
    const got = extractBatch(ex, req.raw, { packer });
    // Tells the parse thread this batch is done (see `log-worker.ts`'s routing).
    input.postMessage(0);
    // One message answers each batch, so the main thread raises an error at the batch's place
    // in input order: with the statements before the failing one, or alone.
    const error = got.failed ? serializeError(got.error) : undefined;
    failed = got.failed;
    if (got.count === 0 && error !== undefined) {
      out.postMessage({
        kind: 'error',
        error,
        seq: req.seq,
      } satisfies ExtractAnswer);
      return;
    }
    const { meta } = req;
    // Fields named one by one: a spread of `meta` (an object made by the structured clone) was
    // a megamorphic load per field, 2 % of this thread's CPU on a MySQL log.
    const m: ExtractAnswer & { kind: 'batch' } = {
      kind: 'batch',
      results: got.results as PackedResults,
      raw: false,
      dialect: meta.dialect,
      summary: meta.summary,
      progress: meta.progress,
      seq: req.seq,
    };
    if (error !== undefined) m.error = error;
    out.postMessage(m, got.transfer);
  });
}

void run(workerData as ExtractThreadData);
