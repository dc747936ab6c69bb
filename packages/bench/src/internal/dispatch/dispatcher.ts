import { hash32, isStbError, mix32 } from '@stb/core';
import type { TraceEvent } from '@stb/core';
import type { Lane } from '../lanes';
import type { TemplateTable } from '../template-table';
import { nowMs } from '../wire';
import type { DispatchStrategy } from './strategy';

/** The runner's modes (`BenchMode`). */
export type BenchModeName = 'replay' | 'closed' | 'open';

const EVENT_BATCH = 256;
/** Replay/open: events are read and handed to executors at most this far ahead of their due time. */
const LOOKAHEAD_MS = 100;
/** The reader yields the event loop after this long of reading (timed modes, closed loop). */
const YIELD_TIMED_MS = 0.5;
const YIELD_CLOSED_MS = 1;
const yieldMacrotask = (): Promise<void> =>
  new Promise((resolve) => setImmediate(resolve));

/** A trace's events one by one or in arrays (`BenchEvents`). */
export type EventSource =
  | AsyncIterable<TraceEvent | readonly TraceEvent[]>
  | Iterable<TraceEvent | readonly TraceEvent[]>;

/** The events of one item of an {@link EventSource}: the array itself, or the one event. */
export function eventsOf(
  item: TraceEvent | readonly TraceEvent[],
): readonly TraceEvent[] {
  return isBatch(item) ? item : [item];
}

const isBatch = (
  item: TraceEvent | readonly TraceEvent[],
): item is readonly TraceEvent[] => Array.isArray(item);

/** What the dispatcher reads, where it sends it, and how it paces. */
export interface DispatchContext {
  readonly events: EventSource;
  readonly lanes: readonly Lane[];
  readonly table: TemplateTable;
  readonly strategy: DispatchStrategy;
  /** Absolute time 0 of the schedule (ms, `nowMs()` clock). */
  readonly t0: number;
  readonly readOnly: boolean;
  readonly maxQueries: number;
  readonly shard?: { readonly index: number; readonly count: number };
}

/**
 * The run's stop state as the dispatcher reads it (the runner's `StopControl`): passed as it is,
 * so the hot loop reads a field instead of calling a closure per event.
 */
export interface DispatchStop {
  readonly stopping: boolean;
  /** Sleeps up to `ms`; a batch, a starved executor or a stop wakes it early. */
  wait(ms: number): Promise<void>;
}

/** Counts the dispatcher leaves for the result. */
export interface DispatchCounts {
  /** Events that went to a crashed lane. */
  notRun: number;
  /** Write events skipped by `--read-only`. */
  skippedReadOnly: number;
  /** Sessions that had at least one event dispatched (this shard's). */
  sessions: number;
}

/** An abort raised by the trace reader or a driver (`STB_ABORTED`, DOM `AbortError`). */
export function isAbortError(err: unknown): boolean {
  return (
    isStbError(err, 'STB_ABORTED') ||
    (err instanceof Error && err.name === 'AbortError')
  );
}

/** Posts a lane's buffered events (or counts them as not run on a crashed lane). */
function flushLane(lane: Lane, counts: DispatchCounts): void {
  if (lane.buffer.length === 0) return;
  const events = lane.buffer;
  lane.buffer = [];
  if (lane.crashed) {
    counts.notRun += events.length;
    return;
  }
  lane.post({ type: 'events', events });
}

/**
 * {@link flushLane} for every lane. Both are module functions, not closures of
 * {@link dispatchEvents}: optimised code that inlined one run's closure was thrown away in the
 * next run (a process that calls `runBench` twice, as a warm-up and a measured run) and compiled
 * again.
 */
function flushAll(lanes: readonly Lane[], counts: DispatchCounts): void {
  for (const l of lanes) flushLane(l, counts);
}

/**
 * Reads the trace and hands each event to its session's lane: sessions go to lanes by hash (and
 * to shards by hash), a lane gets events in batches, timed modes read at most `LOOKAHEAD_MS`
 * ahead of the schedule, and the reader waits while a lane has `limit` events in flight.
 * Returns when the input ends, `maxQueries` is reached or the run stops; the last batches are
 * posted. The hot path of the closed loop: keep it free of allocations per event.
 */
export async function dispatchEvents(
  ctx: DispatchContext,
  stop: DispatchStop,
): Promise<DispatchCounts> {
  const { lanes, table, strategy, t0, shard, readOnly, maxQueries } = ctx;
  const counts: DispatchCounts = { notRun: 0, skippedReadOnly: 0, sessions: 0 };
  /**
   * Where each session's events go, computed once per session: 0 = another shard's session;
   * ±(lane index + 1), positive once the session had an event dispatched (counted in the total).
   */
  const routes = new Map<string, number>();
  const nLanes = lanes.length;
  const timed = strategy.timed;
  let dispatched = 0;
  let sinceCheck = 0;
  let lastYield = nowMs();
  try {
    // an item is one event or an array of them (one `await` per array: openTrace's eventBatches)
    read: for await (const item of ctx.events) {
      const batch = isBatch(item) ? item : null;
      const count = batch === null ? 1 : batch.length;
      for (let k = 0; k < count; k++) {
        const ev =
          batch === null ? (item as TraceEvent) : (batch[k] as TraceEvent);
        if (stop.stopping) break read;
        const sid = ev.sessionId;
        let route = routes.get(sid);
        if (route === undefined) {
          const h = hash32(sid);
          route =
            shard && h % shard.count !== shard.index
              ? 0
              : -1 - (nLanes === 1 ? 0 : mix32(h, 0x2545f491) % nLanes);
          routes.set(sid, route);
        }
        if (route === 0) continue;
        const ti = table.indexOf(ev.templateId);
        if (readOnly && table.writes(ti)) {
          counts.skippedReadOnly++;
          continue;
        }
        if (dispatched >= maxQueries) break read;
        const due = strategy.due(ev);
        if (route < 0) {
          route = -route;
          routes.set(sid, route);
          counts.sessions++;
          (lanes[route - 1] as Lane).sessions++;
        }
        const lane = lanes[route - 1] as Lane;
        if (lane.crashed) {
          counts.notRun++;
          continue;
        }
        lane.buffer.push([sid, ti, ev.params, due, strategy.think(ev)]);
        lane.sent++;
        dispatched++;
        if (lane.buffer.length >= EVENT_BATCH) flushLane(lane, counts);
        if (timed) {
          const ahead = t0 + due - nowMs();
          if (ahead > LOOKAHEAD_MS) {
            flushAll(lanes, counts);
            await stop.wait(ahead - LOOKAHEAD_MS / 2);
            lastYield = nowMs();
          } else if (++sinceCheck >= 64) {
            sinceCheck = 0;
            flushAll(lanes, counts);
            // an inline executor's scheduler shares this event loop: never hog it
            if (nowMs() - lastYield > YIELD_TIMED_MS) {
              await yieldMacrotask();
              lastYield = nowMs();
            }
          }
        } else if (++sinceCheck >= 256) {
          sinceCheck = 0;
          if (nowMs() - lastYield > YIELD_CLOSED_MS) {
            flushAll(lanes, counts);
            await yieldMacrotask();
            lastYield = nowMs();
          }
        }
        while (
          !stop.stopping &&
          !lane.crashed &&
          lane.sent - lane.acked >= lane.limit
        ) {
          flushAll(lanes, counts);
          await stop.wait(1000);
        }
      }
    }
  } catch (err) {
    // a stop (signal) may surface as the reader's own abort error: the input just ends
    if (!(stop.stopping && isAbortError(err))) throw err;
  }
  flushAll(lanes, counts);
  return counts;
}
