import type { TraceEvent } from '@stb/core';

/** Resolutions from which the fit spreads a tick's statements over it (10 ms and coarser). */
export const DEQUANTIZE_FROM_US = 10_000;

/** One tick of the log: its statements in log order, and the sessions they belong to. */
interface Tick {
  tick: number;
  events: TraceEvent[];
  sessions: Set<string>;
  /** Each statement's share of the tick's time (set by {@link weigh}). */
  weights?: Float64Array;
  /** Sum of `weights`: the tick's length in units of one session's statement gap. */
  total?: number;
}

/**
 * Each statement's share of its tick: the time to the next statement, taken as inversely
 * proportional to the number of sessions active there (between their first and last statement,
 * looking one tick back and one tick ahead). Sessions are taken to run at the same pace while they
 * are active, so where more of them interleave each statement takes less time.
 */
function weigh(t: Tick, prev: Set<string>, next: Set<string>): void {
  const k = t.events.length;
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  t.events.forEach((e, i) => {
    if (!first.has(e.sessionId)) first.set(e.sessionId, i);
    last.set(e.sessionId, i);
  });
  const delta = new Int32Array(k + 1);
  for (const [id, f] of first) {
    const from = prev.has(id) ? 0 : f;
    const to = next.has(id) ? k - 1 : (last.get(id) as number);
    (delta[from] as number)++;
    (delta[to + 1] as number)--;
  }
  const weights = new Float64Array(k);
  let active = 0;
  let total = 0;
  for (let i = 0; i < k; i++) {
    active += delta[i] as number;
    const w = 1 / Math.max(1, active);
    weights[i] = w;
    total += w;
  }
  t.weights = weights;
  t.total = total;
}

/**
 * Coarse timestamps (MySQL's general log stamps whole seconds) make every think time either 0 or
 * a whole tick, and a model that learns that makes sessions run in random bursts (docs/models.md
 * "Coarse timestamps"). The log's order within a tick is the order the server ran the statements
 * in, so this spreads a tick's statements over the tick in that order, each taking a time
 * inversely proportional to the number of sessions active at it: sessions run at one pace, so the
 * log's rate rises with the number of sessions that interleave. (Spreading evenly instead, as if
 * the rate were constant within the tick, lengthens the sessions by 1 + Var(A)/E(A)² for A sessions
 * active: +20 % on the shop web app's MariaDB captures, against the client's own clock.) A session
 * whose statements are contiguous in the log stays short, sessions that interleave spread over the
 * tick.
 *
 * The capture's first and last ticks are only partly covered (it began and ended within them):
 * spreading them over the whole tick would lengthen the capture by about one tick (12 % of an
 * 8-tick log). They are spread over the share of the tick their statements fill at the
 * neighbouring tick's pace — the end of the first tick, the start of the last. Deterministic;
 * memory is three ticks of events.
 */
export async function* dequantize(
  events: AsyncIterable<TraceEvent>,
  resolutionUs: number,
): AsyncGenerator<TraceEvent> {
  /** Completed ticks not yet written; the oldest is written once it has a tick ahead of it. */
  const done: Tick[] = [];
  let current: Tick | undefined;
  /** Sessions of the last written tick. */
  let written: Set<string> = new Set();
  /** `total` of the last written tick (undefined before the first). */
  let writtenTotal: number | undefined;
  const none = new Set<string>();

  /**
   * Writes `t` over the share `coverage` of its tick: its end (`atEnd`, the capture's first
   * tick) or its start.
   */
  function* spread(
    t: Tick,
    at: { coverage: number; atEnd: boolean },
  ): Generator<TraceEvent> {
    const span = Math.round(
      resolutionUs * Math.min(1, Math.max(0, at.coverage)),
    );
    const from = at.atEnd ? t.tick + resolutionUs - span : t.tick;
    const weights = t.weights as Float64Array;
    const total = t.total as number;
    let before = 0;
    for (let j = 0; j < t.events.length; j++) {
      const w = weights[j] as number;
      yield {
        ...(t.events[j] as TraceEvent),
        startUs: from + Math.floor((span * (before + w / 2)) / total),
      };
      before += w;
    }
    written = t.sessions;
    writtenTotal = total;
  }

  /** Writes what the ticks seen so far allow; `end`: the input is over, write them all. */
  function* flush(end: boolean): Generator<TraceEvent> {
    for (;;) {
      if (writtenTotal === undefined) {
        // the first tick, at the second one's pace, ends at the tick's end: the second needs
        // its own tick ahead (or the end) to be weighed
        const [a, b, c] = done;
        if (!a || !b || (!c && !end)) break;
        weigh(a, none, b.sessions);
        weigh(b, a.sessions, c?.sessions ?? none);
        yield* spread(a, {
          coverage: (a.total as number) / (b.total as number),
          atEnd: true,
        });
        done.shift();
        if (!c) {
          // two ticks in all: the last at the first one's pace
          yield* spread(b, {
            coverage: (b.total as number) / (a.total as number),
            atEnd: false,
          });
          done.shift();
        }
        continue;
      }
      const [a, b] = done;
      if (!a || (!b && !end)) break;
      weigh(a, written, b?.sessions ?? none);
      // the last tick, at the previous one's pace, starts at the tick's start
      const coverage = b ? 1 : (a.total as number) / writtenTotal;
      yield* spread(a, { coverage, atEnd: false });
      done.shift();
    }
  }

  for await (const e of events) {
    const t = Math.floor(e.startUs / resolutionUs) * resolutionUs;
    if (!current || t > current.tick) {
      if (current) {
        done.push(current);
        yield* flush(false);
      }
      current = { tick: t, events: [], sessions: new Set() };
    }
    // an event behind the current tick (out of order by less than a tick) joins it
    current.events.push(e);
    current.sessions.add(e.sessionId);
  }
  if (!current) return;
  done.push(current);
  if (done.length === 1 && writtenTotal === undefined) {
    // one tick in all: spread over the whole of it
    weigh(current, none, none);
    yield* spread(current, { coverage: 1, atEnd: false });
    return;
  }
  yield* flush(true);
}
