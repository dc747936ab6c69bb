import type { TraceEvent } from '@stb/core';

/**
 * How one mode times the events it dispatches (one small strategy per mode, as k6 has one
 * executor per file). The dispatcher loop is shared; only the due time differs.
 */
export interface DispatchStrategy {
  /** Replay and open loop pace the reader against due times; the closed loop only yields. */
  readonly timed: boolean;
  /** How long after the start message the schedule's time 0 lies (ms). */
  readonly startDelayMs: number;
  /** Due time of the next dispatched event, ms after time 0 (NaN: as soon as possible). */
  due(ev: TraceEvent): number;
  /**
   * Original think time before `ev` in its session (ms, after `due(ev)` was called): the gap
   * from the previous statement's completion to this start. NaN: no session rule (closed, open).
   */
  think(ev: TraceEvent): number;
}
