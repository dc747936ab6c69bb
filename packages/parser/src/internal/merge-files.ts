import type { RawQueryEvent } from '@stb/core';

/**
 * One input of a merge by time: its first event's key, known before the input is opened for
 * good, and how to open it.
 * @internal
 */
export interface MergeInput {
  /** The input's index (ties between equal keys go to the lower index). */
  index: number;
  /**
   * The key of its first event (`startUs`, `-Infinity` when that event has no time, `Infinity`
   * when it has no event at all).
   */
  first: number;
  /** Opens the input: its events, in batches, in log order. */
  open: () => AsyncGenerator<RawQueryEvent[]>;
}

interface Source {
  index: number;
  events: AsyncGenerator<RawQueryEvent[]>;
  batch: RawQueryEvent[];
  at: number;
  /** The key of the last event taken (`-Infinity` before the first). */
  last: number;
}

/** Reads the next non-empty batch of a source; false at its end. */
async function fill(s: Source): Promise<boolean> {
  while (s.at >= s.batch.length) {
    const r = await s.events.next();
    if (r.done) return false;
    s.batch = r.value;
    s.at = 0;
  }
  return true;
}

/** Orders inputs by their first key, then by index. */
function byFirst(a: MergeInput, b: MergeInput): number {
  if (a.first !== b.first) return a.first < b.first ? -1 : 1;
  return a.index - b.index;
}

/**
 * Merges inputs by time into batches of at most `batchEvents`: each step takes, among the open
 * inputs, the head event with the smallest key (its `startUs`, or the key of the last event taken
 * from the same input when it has none), the lower input index on a tie. Events of one input keep
 * their order. An input is opened only when the merge reaches its first key, and closed at its
 * end, so a set of rotated logs (one after another in time) has one or two open at a time; inputs
 * that overlap in time are open together.
 * @internal
 */
export async function* mergeByTime(
  inputs: readonly MergeInput[],
  batchEvents: number,
): AsyncGenerator<RawQueryEvent[]> {
  const pending = [...inputs].sort(byFirst);
  let next = 0;
  const open: Source[] = [];
  let out: RawQueryEvent[] = [];
  try {
    for (;;) {
      let best: Source | undefined;
      let bestKey = 0;
      for (const s of open) {
        const k = (s.batch[s.at] as RawQueryEvent).startUs ?? s.last;
        if (
          best === undefined ||
          k < bestKey ||
          (k === bestKey && s.index < best.index)
        ) {
          best = s;
          bestKey = k;
        }
      }
      const waiting = pending[next];
      if (waiting && (best === undefined || waiting.first <= bestKey)) {
        next++;
        const s: Source = {
          index: waiting.index,
          events: waiting.open(),
          batch: [],
          at: 0,
          last: -Infinity,
        };
        if (await fill(s)) open.push(s);
        continue;
      }
      if (best === undefined) break;
      out.push(best.batch[best.at++] as RawQueryEvent);
      best.last = bestKey;
      if (out.length >= batchEvents) {
        yield out;
        out = [];
      }
      if (best.at >= best.batch.length && !(await fill(best)))
        open.splice(open.indexOf(best), 1);
    }
    if (out.length > 0) yield out;
  } finally {
    for (const s of open) await s.events.return(undefined);
  }
}
