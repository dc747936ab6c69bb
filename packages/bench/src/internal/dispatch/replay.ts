import type { DispatchStrategy } from './strategy';

/** `replay`: the trace's own timing, divided by `speed`, from its first dispatched event. */
export function replayStrategy(o: { speed: number }): DispatchStrategy {
  let firstUs: number | undefined;
  const { speed } = o;
  return {
    timed: true,
    startDelayMs: 5,
    due(ev) {
      firstUs ??= ev.startUs;
      return (ev.startUs - firstUs) / 1000 / speed;
    },
  };
}
