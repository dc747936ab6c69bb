import type { TraceEvent } from '@stb/core';

/** Resolutions from which the fit spreads a tick's statements over it (10 ms and coarser). */
export const DEQUANTIZE_FROM_US = 10_000;

/**
 * Coarse timestamps (MySQL's general log stamps whole seconds) make every think time either 0 or
 * a whole tick, and a model that learns that makes sessions run in random bursts (docs/models.md
 * "Coarse timestamps"). The log's order within a tick is the order the server ran the statements
 * in, so this spreads a tick's statements evenly over the tick in that order — the j-th of K at
 * `tick + (j + ½)·R/K` — as if the rate were constant within the tick: a session whose statements
 * are contiguous in the log stays short, sessions that interleave spread over the tick.
 *
 * The capture's first and last ticks are only partly covered (it began and ended within them):
 * spreading them over the whole tick would lengthen the capture by about one tick (12 % of an
 * 8-tick log). They are spread over the share of the tick their count fills at the neighbouring
 * tick's rate — the end of the first tick, the start of the last. Deterministic; memory is two
 * ticks of events.
 */
export async function* dequantize(
  events: AsyncIterable<TraceEvent>,
  resolutionUs: number,
): AsyncGenerator<TraceEvent> {
  /** The first tick, held until the second one gives the rate. */
  let first: { tick: number; events: TraceEvent[] } | undefined;
  let tick = NaN;
  let batch: TraceEvent[] = [];
  let ticks = 0;
  let prevCount = 0;
  /**
   * Spreads `list` over the share `coverage` of tick `t`: its end (`atEnd`, the capture's first
   * tick) or its start.
   */
  function* spread(
    list: TraceEvent[],
    t: number,
    at: { coverage: number; atEnd: boolean },
  ): Generator<TraceEvent> {
    const span = Math.round(
      resolutionUs * Math.min(1, Math.max(0, at.coverage)),
    );
    const from = at.atEnd ? t + resolutionUs - span : t;
    const k = list.length;
    for (let j = 0; j < k; j++)
      yield {
        ...(list[j] as TraceEvent),
        startUs: from + Math.floor((span * (j + 0.5)) / k),
      };
  }
  for await (const e of events) {
    const t = Math.floor(e.startUs / resolutionUs) * resolutionUs;
    if (Number.isNaN(tick)) tick = t;
    else if (t > tick) {
      // the tick is complete
      ticks++;
      if (ticks === 1) first = { tick, events: batch };
      else {
        if (first) {
          // the first tick, at the second one's rate, ends at the tick's end
          yield* spread(first.events, first.tick, {
            coverage: first.events.length / batch.length,
            atEnd: true,
          });
          first = undefined;
        }
        yield* spread(batch, tick, { coverage: 1, atEnd: false });
      }
      prevCount = batch.length;
      batch = [];
      tick = t;
    }
    // an event behind the current tick (out of order by less than a tick) joins it
    batch.push(e);
  }
  if (first) {
    // two ticks in all: each at the other's rate
    yield* spread(first.events, first.tick, {
      coverage: first.events.length / batch.length,
      atEnd: true,
    });
    yield* spread(batch, tick, {
      coverage: batch.length / first.events.length,
      atEnd: false,
    });
  } else if (ticks === 0)
    yield* spread(batch, tick, { coverage: 1, atEnd: false });
  else
    yield* spread(batch, tick, {
      coverage: batch.length / Math.max(1, prevCount),
      atEnd: false,
    });
}
