import type { DispatchStrategy } from './strategy';

/**
 * `replay`: the trace's own timing, divided by `speed`, from its first dispatched event. Think
 * times come from each session's previous event: its start plus its `durationUs` (0 when the log
 * had no durations, so the statement is due at the later of its offset and the previous completion).
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
      const end = ev.startUs + (ev.durationUs ?? 0);
      prevEnd.set(ev.sessionId, end);
      if (before === undefined) return 0;
      return Math.max(0, ev.startUs - before) / 1000 / speed;
    },
  };
}
