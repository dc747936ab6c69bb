import type { TraceEvent, TraceHeader } from '@stb/core';
import type { DispatchStrategy } from './strategy';

/** A session's previous event, as the next one's due time and think time need it. */
interface Prev {
  /** Its end (µs, trace clock): start + `durationUs`, or its start without a duration. */
  end: number;
  /** Whether it had a duration (without one, its end is unknown). */
  timed: boolean;
  /** Its due time (ms after time 0). */
  due: number;
}

/**
 * `replay`: the trace's own timing, divided by `speed`, from its first dispatched event. Think
 * times come from each session's previous event: its start plus its `durationUs`; after an event
 * without a duration the think time is 0, so the statement is due at the later of its offset and
 * the previous completion.
 *
 * A gap shorter than the trace's time resolution (`timeResolutionUs`: 1 ms for PostgreSQL's
 * logs) is not evidence of a wait: stamps truncated to the millisecond make back-to-back
 * statements that straddle a millisecond look up to 1 ms apart, and replaying that as a wait
 * stretched the sample pgbench log's transactions by about half a millisecond each. Such a
 * statement is chained: no think time, and due at its session's previous due time, or at its own
 * offset less one resolution step if that is later; so it starts when the previous one completes
 * unless the session runs more than one step ahead of the log's clock (a long run of short gaps
 * still takes the time the log says it took, to within one step). A class, so `due` and `think`
 * are the same functions in every run.
 */
export class ReplayStrategy implements DispatchStrategy {
  readonly timed = true;
  readonly startDelayMs = 5;
  readonly #speed: number;
  readonly #resolutionUs: number;
  /** Start (µs, trace clock) of the first dispatched event; NaN before it. */
  #firstUs = NaN;
  /** Each session's previous event: one record per session, updated in place. */
  readonly #prev = new Map<string, Prev>();
  /** Set by `due` for the `think` call that follows it. */
  #chained = false;
  #due = 0;

  constructor(speed: number, resolutionUs: number) {
    this.#speed = speed;
    this.#resolutionUs = resolutionUs;
  }

  due(ev: TraceEvent): number {
    if (Number.isNaN(this.#firstUs)) this.#firstUs = ev.startUs;
    const p = this.#prev.get(ev.sessionId);
    // (a microsecond-stamped trace resolves every gap: nothing is chained)
    this.#chained =
      p !== undefined &&
      this.#resolutionUs > 1 &&
      ev.startUs - p.end < this.#resolutionUs;
    const offset = (ev.startUs - this.#firstUs) / 1000 / this.#speed;
    // chained: when the previous one completes, but never more than one resolution step ahead
    // of its own offset (the log's clock, which a long run of short gaps must keep to)
    this.#due = this.#chained
      ? Math.max(
          (p as Prev).due,
          offset - this.#resolutionUs / 1000 / this.#speed,
        )
      : offset;
    return this.#due;
  }

  think(ev: TraceEvent): number {
    let p = this.#prev.get(ev.sessionId);
    const before = p === undefined || !p.timed ? NaN : p.end;
    if (p === undefined) {
      p = { end: 0, timed: false, due: 0 };
      this.#prev.set(ev.sessionId, p);
    }
    p.timed = ev.durationUs !== undefined;
    p.end = ev.startUs + (ev.durationUs ?? 0);
    p.due = this.#due;
    // without a duration the previous statement's end is unknown: think time 0 (the whole gap
    // would add each statement's service time to the session's schedule again)
    if (this.#chained || Number.isNaN(before)) return 0;
    return Math.max(0, ev.startUs - before) / 1000 / this.#speed;
  }
}

/** The replay strategy of one run: `resolutionUs` is the trace header's `timeResolutionUs`. */
export function replayStrategy(o: {
  speed: number;
  resolutionUs: number;
}): DispatchStrategy {
  return new ReplayStrategy(o.speed, o.resolutionUs);
}

/**
 * The gap below which replay chains a statement to the previous one: the trace's time resolution,
 * or for a generated trace the resolution of its think times (`source.generator.thinkResolutionUs`:
 * drawn from its model's log, whose stamps' rounding they keep), whichever is coarser; 1 µs
 * without a header.
 */
export function replayResolutionUs(header: TraceHeader | undefined): number {
  if (header === undefined) return 1;
  const think = header.source.generator?.['thinkResolutionUs'];
  return Math.max(
    header.timeResolutionUs,
    typeof think === 'number' && think > 0 ? think : 1,
  );
}
