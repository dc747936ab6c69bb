/**
 * The fit's second pass over the events, once the first has seen the capture's end: think times
 * and durations per session class, and each class's unit process over its pooled connections.
 */
import type { TraceEvent } from '@stb/core';
import type { ArrivalModelState, UnitProcessState } from '../state-schemas';
import { throwIfAborted } from './abort';
import { ArrivalFitter } from './arrival';
import type { OrdinalMap } from './first-pass';
import type { SessionClassing } from './session-classes';
import { SessionRole } from './session-classes';
import { SessionTracker } from './sessions';
import { UnitFitter } from './units';

/** A session as the second pass tracks it. */
interface TimingSession {
  id: string;
  ordinal: number;
  events: number;
  lastUs: number;
  prevTemplate: number;
  prevEndUs: number;
  /** Undefined for another shard's session. */
  fitter: ArrivalFitter | undefined;
  /** The unit fitter of the session's class when it is one of the class's pooled connections. */
  units: UnitFitter | undefined;
  inTxn: boolean;
  lastUnitUs: number;
}

/**
 * Second pass over the events, once the first has seen the capture's end (a session's class and
 * role are known only then): think times and durations per class when there are several classes,
 * and each class's unit process over its pooled connections.
 */
export async function fitClassTimings(
  events: () => AsyncIterable<TraceEvent>,
  classing: SessionClassing,
  o: {
    trackerOptions: { idleUs: number; maxEvents: number };
    closeOfOrdinal: OrdinalMap;
    bucketUs: number | undefined;
    signal: AbortSignal | undefined;
    timings: boolean;
    /**
     * Learn unit processes: the classes of the whole capture (`classing`, by `closeOf` a session
     * ordinal) whose `learn` is set, each over all of its pooled connections (any shard's).
     */
    units:
      | {
          classing: SessionClassing;
          closeOf: (ordinal: number) => number;
          learn: readonly boolean[];
        }
      | undefined;
    boundaryOf: ReadonlyMap<string, number>;
    resolutionUs: number;
    owns: ((sessionId: string) => boolean) | undefined;
  },
): Promise<{
  timings: ArrivalModelState[];
  units: (UnitProcessState | undefined)[];
}> {
  const fitters = classing.classes.map(() => new ArrivalFitter(o.bucketUs));
  const u = o.units;
  const units = (u?.classing.classes ?? []).map((_, i) =>
    u?.learn[i] === true
      ? new UnitFitter(
          u.classing.captureStartUs,
          u.classing.captureEndUs - u.classing.captureStartUs,
        )
      : undefined,
  );
  const tracker = new SessionTracker<TimingSession>(
    o.trackerOptions,
    (id, ordinal, first) => {
      const close = o.closeOfOrdinal.get(ordinal);
      const ci = classing.classOf[close] as number;
      const mine = !o.owns || o.owns(id);
      const unitClose = u?.closeOf(ordinal) ?? -1;
      return {
        id,
        ordinal,
        events: 0,
        lastUs: first.startUs,
        prevTemplate: -1,
        prevEndUs: first.startUs,
        fitter: mine ? fitters[ci] : undefined,
        units:
          u && u.classing.roleOf[unitClose] === SessionRole.Pool
            ? units[u.classing.classOf[unitClose] as number]
            : undefined,
        inTxn: false,
        lastUnitUs: NaN,
      };
    },
    () => undefined,
  );
  let n = 0;
  for await (const e of events()) {
    if ((n++ & 1023) === 0) throwIfAborted(o.signal, 'Fitting');
    const s = tracker.push(e);
    s.units?.event(s, e.startUs, o.boundaryOf.get(e.templateId) ?? 0);
    if (!o.timings || !s.fitter) continue;
    if (tracker.lastIsNew) s.fitter.sessionStart(e.startUs);
    const ai = s.fitter.templateIndex(e.templateId);
    s.fitter.eventAt(e, ai, s);
    s.prevTemplate = ai;
    s.prevEndUs = e.startUs + (e.durationUs ?? 0);
  }
  tracker.finish();
  return {
    timings: o.timings ? fitters.map((f) => f.toState()) : [],
    units: units.map((f, i) =>
      u
        ? f?.toState({
            endUs: u.classing.captureEndUs,
            resolutionUs: o.resolutionUs,
            connections: (u.classing.classes[i] as { sessions: number })
              .sessions,
          })
        : undefined,
    ),
  };
}
