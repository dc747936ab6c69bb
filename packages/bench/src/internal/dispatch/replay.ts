import type { TraceEvent } from '@stb/core';
import type { DispatchStrategy } from './strategy';

/**
 * `replay`: the trace's own timing, divided by `speed`, from its first dispatched event. Think
 * times come from each session's previous event: its start plus its `durationUs`; after an event
 * without a duration the think time is 0, so the statement is due at the later of its offset and
 * the previous completion. A class, so `due` and `think` are the same functions in every run.
 */
export class ReplayStrategy implements DispatchStrategy {
  readonly timed = true;
  readonly startDelayMs = 5;
  readonly #speed: number;
  /** Start (µs, trace clock) of the first dispatched event; NaN before it. */
  #firstUs = NaN;
  /** End (µs, trace clock) of each session's previous event: one number per session. */
  readonly #prevEnd = new Map<string, number>();

  constructor(speed: number) {
    this.#speed = speed;
  }

  due(ev: TraceEvent): number {
    if (Number.isNaN(this.#firstUs)) this.#firstUs = ev.startUs;
    return (ev.startUs - this.#firstUs) / 1000 / this.#speed;
  }

  think(ev: TraceEvent): number {
    const before = this.#prevEnd.get(ev.sessionId);
    // without a duration the previous statement's end is unknown: think time 0 (the whole gap
    // would add each statement's service time to the session's schedule again)
    this.#prevEnd.set(
      ev.sessionId,
      ev.durationUs === undefined ? NaN : ev.startUs + ev.durationUs,
    );
    if (before === undefined || Number.isNaN(before)) return 0;
    return Math.max(0, ev.startUs - before) / 1000 / this.#speed;
  }
}

/** The replay strategy of one run. */
export function replayStrategy(o: { speed: number }): DispatchStrategy {
  return new ReplayStrategy(o.speed);
}
