import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '@stb/core';
import type { Dialect, RawQueryEvent } from '@stb/core';
import { createExtractor, extractResult } from '@stb/extractor';
import type { ExtractedResult } from '@stb/extractor';
import { loadFormatPackage, parseLogBatches, withFormats } from '@stb/parser';
import type { AnyLogFormat, ParseProgress } from '@stb/parser';
import type { LogThreadData, LogThreadMessage } from './log-thread';

/**
 * Events per message to the main thread, at least: the parser's batches (512 events) joined, so
 * the per-message costs (the summary, the progress, a wake-up of each thread) stay per ~2 000
 * events.
 */
const HAND_OFF_EVENTS = 2048;

/**
 * The batches of `src` joined to at least `min` events each (the last may be smaller). When `src`
 * fails, what was joined goes first, as a sequential run would have handled those batches before
 * the failure.
 */
async function* joined(
  src: AsyncIterable<RawQueryEvent[]>,
  min: number,
): AsyncGenerator<RawQueryEvent[]> {
  let acc: RawQueryEvent[] = [];
  try {
    for await (const b of src) {
      if (acc.length === 0 && b.length >= min) {
        yield b;
        continue;
      }
      for (const e of b) acc.push(e);
      if (acc.length >= min) {
        yield acc;
        acc = [];
      }
    }
  } catch (err) {
    if (acc.length > 0) yield acc;
    throw err;
  }
  if (acc.length > 0) yield acc;
}

/**
 * The parse thread of `stb parse --workers`: reads, parses and extracts the logs, in order, with
 * one parser and one extractor (so session ids, follow-up lines, transaction boundaries and
 * "template new here" are the sequential run's), and posts each batch as one JSON string: every
 * other batch extracted, the others raw for the main thread to extract (the two threads' loads
 * then about even on a pgbench log; see docs/extraction.md). At most `inFlight` batches wait in the main thread (it acknowledges each
 * one it takes), so this thread cannot run ahead without bound.
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
  const progress = new Map<string, ParseProgress>();
  let parse: ReturnType<typeof parseLogBatches> | undefined;
  const send = async (
    results: ExtractedResult[] | RawQueryEvent[],
    raw: boolean,
    dialect: Dialect | undefined,
  ): Promise<void> => {
    while (credits === 0) await new Promise<void>((r) => (wake = r));
    credits--;
    post({
      kind: 'batch',
      results: JSON.stringify(results),
      raw,
      dialect,
      summary: parse?.summary(),
      progress: [...progress.values()],
    });
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
    const ex = await createExtractor();
    const step = data.handOffEvents ?? Number.POSITIVE_INFINITY;
    let n = 0;
    for await (const raws of joined(parse, HAND_OFF_EVENTS)) {
      for (let i = 0; i < raws.length; i += step) {
        const part = step >= raws.length ? raws : raws.slice(i, i + step);
        // Every other batch goes raw: the main thread extracts it (see LogThreadMessage).
        if (n++ % 2 === 1) {
          await send(part, true, part[0]?.dialect);
          continue;
        }
        const results: ExtractedResult[] = [];
        try {
          for (const raw of part)
            results.push(extractResult(ex, raw, { transfer: true }));
        } finally {
          // What was extracted before a failure goes first, as in one thread.
          if (results.length > 0) await send(results, false, part[0]?.dialect);
        }
      }
    }
    post({
      kind: 'end',
      summary: parse.summary(),
      progress: [...progress.values()],
    });
  } catch (err) {
    post({ kind: 'error', error: serializeError(err) });
  }
}

void run(workerData as LogThreadData);
