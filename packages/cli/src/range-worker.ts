import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '@stb/core';
import { createExtractor } from '@stb/extractor';
import type { Extractor } from '@stb/extractor';
import { parseRange, type RangeTask } from './range-parse';
import type { RangeThreadData, RangeThreadMessage } from './range-thread';

/**
 * A range thread of `stb parse --workers --ranges` on one PostgreSQL stderr log: parses the byte
 * ranges it is given, in the order given, each alone (`parseRange`), and posts each range's
 * statements packed, then its end (the main thread parses a range again from the exact state
 * itself, when it must). A range the main thread
 * claimed first (`claims`: it parses the ranges no thread has started when it would otherwise
 * wait) is skipped. A failed range posts its error and the thread goes on: the main thread decides
 * whether the error is the one-thread parse's.
 */
async function run(data: RangeThreadData): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const post = (m: RangeThreadMessage, transfer: ArrayBuffer[] = []): void =>
    port.postMessage(m, transfer);
  const claims = new Int32Array(data.claims);
  const tasks: RangeTask[] = [];
  let wake: (() => void) | undefined;
  port.on('message', (t: RangeTask) => {
    tasks.push(t);
    wake?.();
    wake = undefined;
  });
  let ex: Extractor | undefined;
  for (;;) {
    while (tasks.length === 0) await new Promise<void>((r) => (wake = r));
    const t = tasks.shift() as RangeTask;
    if (Atomics.compareExchange(claims, t.index, 0, 1) !== 0) {
      post({ kind: 'skipped', index: t.index });
      continue;
    }
    try {
      ex ??= await createExtractor();
      const it = parseRange(data.plan, t, { options: data.options, ex });
      let r = await it.next();
      for (; !r.done; r = await it.next())
        if ('packed' in r.value)
          post(
            { kind: 'batch', index: t.index, results: r.value.packed },
            r.value.transfer,
          );
      const { end, bytes } = r.value;
      post({ kind: 'end', index: t.index, end, bytes });
    } catch (err) {
      post({
        kind: 'error',
        index: t.index,
        error: serializeError(err),
      });
    }
  }
}

void run(workerData as RangeThreadData);
