import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { serializeError } from '@stb/core';
import type { Dialect, RawQueryEvent } from '@stb/core';
import { createExtractor, extractResult, ResultPacker } from '@stb/extractor';
import type { ExtractedResult, Extractor } from '@stb/extractor';
import { loadFormatPackage, parseLogBatches, withFormats } from '@stb/parser';
import type { AnyLogFormat, ParseProgress } from '@stb/parser';
import type { ExtractRequest } from './extract-worker';
import type { LogThreadData, LogThreadMessage } from './log-thread';
import { HAND_OFF_CHARS, HAND_OFF_EVENTS, joined } from './hand-off';
import { packRaw } from './raw-pack';

/**
 * Where each batch goes, in a repeating pattern: `s` extracted on this thread (and packed), `m`
 * raw to the main thread, which extracts it, `t` raw to the next extraction thread. Packed
 * (`pack`), an extracted batch costs the main thread almost nothing, so it takes five raw batches
 * in eight, spread out; in JSON, every other one. Measured on the 100 MiB pgbench stderr log
 * (docs/extraction.md), with the raw ones in a block of eight: four, five and six raw gave wall
 * times within the noise of each other. With extraction threads, all go to them: sending one in
 * four to this thread or to the main one made no difference the noise let through.
 */
const ROUTE_PACKED = 'smmsmmsm';
const ROUTE_JSON = 'sm';
const ROUTE_THREADS = 't';

/**
 * The parse thread of `stb parse --workers`: reads, parses and extracts the logs, in order, with
 * one parser and one extractor (so session ids, follow-up lines, transaction boundaries and
 * "template new here" are the sequential run's), and posts each batch packed (`pack`: typed
 * arrays and bytes, see `ResultPacker` and `packRaw`) or as one JSON string: some extracted, the
 * others raw for the main thread to extract (see {@link RAW_PACKED}; the two threads' loads then
 * about even on a pgbench log, docs/extraction.md). At most `inFlight` batches wait in the main
 * thread (it acknowledges each one it takes), so this thread cannot run ahead without bound.
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
  const packer = new ResultPacker();
  let parse: ReturnType<typeof parseLogBatches> | undefined;
  /** Batches sent to the extraction threads. */
  let sent = 0;
  const send = async (
    results: ExtractedResult[] | RawQueryEvent[],
    to: 'main' | 'thread' | 'extracted',
    dialect: Dialect | undefined,
  ): Promise<void> => {
    const raw = to !== 'extracted';
    while (credits === 0) await new Promise<void>((r) => (wake = r));
    credits--;
    const m = {
      summary: parse?.summary(),
      progress: [...progress.values()],
      dialect,
    };
    const ports = data.extractPorts;
    if (to === 'thread') {
      // Every batch raw, to the extraction threads in turn: the main thread takes their
      // results in the same turn.
      const { packed, transfer } = packRaw(results as RawQueryEvent[]);
      const req: ExtractRequest = { raw: packed, meta: m };
      const thread = sent++ % ports.length;
      (ports[thread] as MessagePort).postMessage(req, transfer);
      post({ kind: 'via', thread });
      return;
    }
    if (data.pack) {
      // Batches cross packed: typed arrays and bytes moved, not copied, strings once per batch,
      // and no object per statement to build on the other side (extracted statements arrive
      // ready to be written).
      const { packed, transfer } = raw
        ? packRaw(results as RawQueryEvent[])
        : packer.pack(results as ExtractedResult[]);
      port.postMessage({ kind: 'batch', results: packed, raw, ...m }, transfer);
      return;
    }
    post({ kind: 'batch', results: JSON.stringify(results), raw, ...m });
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
    // Made when a batch is first extracted here (never with extraction threads: each extractor
    // holds a libpg-query instance).
    let ex: Extractor | undefined;
    const step = data.handOffEvents ?? Number.POSITIVE_INFINITY;
    const pattern =
      data.extractPorts.length > 0
        ? ROUTE_THREADS
        : data.pack
          ? ROUTE_PACKED
          : ROUTE_JSON;
    let n = 0;
    for await (const raws of joined(parse, HAND_OFF_EVENTS, HAND_OFF_CHARS)) {
      for (let i = 0; i < raws.length; i += step) {
        const part = step >= raws.length ? raws : raws.slice(i, i + step);
        // Some batches go raw: the main thread or an extraction thread extracts them (see
        // LogThreadMessage).
        const route = pattern[n++ % pattern.length];
        if (route !== 's') {
          await send(part, route === 't' ? 'thread' : 'main', part[0]?.dialect);
          continue;
        }
        const results: ExtractedResult[] = [];
        ex ??= await createExtractor();
        try {
          for (const raw of part)
            results.push(extractResult(ex, raw, { transfer: true }));
        } finally {
          // What was extracted before a failure goes first, as in one thread.
          if (results.length > 0)
            await send(results, 'extracted', part[0]?.dialect);
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
