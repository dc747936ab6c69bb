import type { RawQueryEvent } from '@stb/core';

/**
 * Events per message to the main thread, at least: the parser's batches (512 events) joined, so
 * the per-message costs (the summary, the progress, a wake-up of each thread) stay per ~2 000
 * events.
 */
export const HAND_OFF_EVENTS = 2048;

/**
 * SQL text per message, at most (UTF-16 units; a longer statement goes alone): a hand-off is cut
 * here too, so that what waits in flight (`IN_FLIGHT` messages, `log-thread.ts`) is bounded in
 * bytes, not only in statements. 2 048 pgbench statements hold about 0.11 Mi units; a log of bulk
 * inserts (100 kB statements) would otherwise keep 24 × 2 048 of them in flight, about 5 GB, and
 * one message's text would pass V8's longest string (2^29 − 24 units).
 */
export const HAND_OFF_CHARS = 1 << 20;

/**
 * The batches of `src` joined to at least `min` events each (the last may be smaller), and cut so
 * that none holds more than `maxChars` of SQL text unless one statement does alone. Events keep
 * their order. When `src` fails, what was joined goes first, as a sequential run would have
 * handled those batches before the failure.
 */
export async function* joined(
  src: AsyncIterable<RawQueryEvent[]>,
  min: number,
  maxChars: number,
): AsyncGenerator<RawQueryEvent[]> {
  let acc: RawQueryEvent[] = [];
  let chars = 0;
  try {
    for await (const b of src) {
      if (acc.length === 0 && b.length >= min && sqlChars(b) <= maxChars) {
        yield b;
        continue;
      }
      for (const e of b) {
        if (acc.length > 0 && chars + e.sql.length > maxChars) {
          yield acc;
          acc = [];
          chars = 0;
        }
        acc.push(e);
        chars += e.sql.length;
        if (acc.length >= min) {
          yield acc;
          acc = [];
          chars = 0;
        }
      }
    }
  } catch (err) {
    if (acc.length > 0) yield acc;
    throw err;
  }
  if (acc.length > 0) yield acc;
}

/** The SQL text of `events`, in UTF-16 units. */
function sqlChars(events: readonly RawQueryEvent[]): number {
  let n = 0;
  for (const e of events) n += e.sql.length;
  return n;
}

/**
 * Where the parse thread sends its next batch when there are extraction threads: the index of the
 * one with the fewest batches not yet extracted (`queued`, the first of equals), or `'here'`
 * when this thread should extract it itself. It does when even that thread has `selfAt` or more
 * batches waiting *and* at least half of the `inFlight` credits are taken: the extraction
 * threads are then the bottleneck, and the parse thread, far ahead of the main one, has time it
 * would spend waiting for credit. A log whose parsing is the busier part (jsonlog, csvlog) keeps
 * credits to spare: in the runs measured its parse thread never met the second condition, so
 * never loaded an extractor of its own (it depends on timing, not guaranteed). The counts are
 * those the parse thread last heard of (its event loop updates them between batches): a stale
 * count costs speed, never the trace.
 */
export function extractionRoute(
  queued: Int32Array,
  credits: number,
  limits: { inFlight: number; selfAt: number },
): number | 'here' {
  let k = 0;
  for (let j = 1; j < queued.length; j++)
    if ((queued[j] as number) < (queued[k] as number)) k = j;
  return (queued[k] as number) >= limits.selfAt &&
    credits <= limits.inFlight / 2
    ? 'here'
    : k;
}
