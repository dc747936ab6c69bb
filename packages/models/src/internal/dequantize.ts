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
 * Deterministic; memory is one tick of events.
 */
export async function* dequantize(
  events: AsyncIterable<TraceEvent>,
  resolutionUs: number,
): AsyncGenerator<TraceEvent> {
  let tick = NaN;
  let batch: TraceEvent[] = [];
  const flush = function* (): Generator<TraceEvent> {
    const k = batch.length;
    for (let j = 0; j < k; j++)
      yield {
        ...(batch[j] as TraceEvent),
        startUs: tick + Math.floor((resolutionUs * (j + 0.5)) / k),
      };
    batch = [];
  };
  for await (const e of events) {
    const t = Math.floor(e.startUs / resolutionUs) * resolutionUs;
    if (Number.isNaN(tick)) tick = t;
    else if (t > tick) {
      yield* flush();
      tick = t;
    }
    // an event behind the current tick (out of order by less than a tick) joins it
    batch.push(e);
  }
  yield* flush();
}
