import type { DispatchStrategy } from './strategy';

/**
 * `replay`: the trace's own timing, divided by `speed`, from its first dispatched event. Think
 * times come from each session's previous event: its start plus its `durationUs`; after an event
 * without a duration the think time is 0, so the statement is due at the later of its offset and
 * the previous completion.
 */
export function replayStrategy(o: { speed: number }): DispatchStrategy {
  let firstUs: number | undefined;
  const { speed } = o;
  /** End (µs, trace clock) of each session's previous event: one number per session. */
  const prevEnd = new Map<string, number>();
  return {
    timed: true,
    startDelayMs: 5,
    due(ev) {
      firstUs ??= ev.startUs;
      return (ev.startUs - firstUs) / 1000 / speed;
    },
    think(ev) {
      const before = prevEnd.get(ev.sessionId);
      // without a duration the previous statement's end is unknown: think time 0 (the whole gap
      // would add each statement's service time to the session's schedule again)
      prevEnd.set(
        ev.sessionId,
        ev.durationUs === undefined ? NaN : ev.startUs + ev.durationUs,
      );
      if (before === undefined || Number.isNaN(before)) return 0;
      return Math.max(0, ev.startUs - before) / 1000 / speed;
    },
  };
}
