/**
 * The fit's first pass over the events (docs/models.md): parameters, arrivals, template counts,
 * the sessions' profiles for the classes, and the sessions' template sequences while they fit the
 * sequence cache. Templates and reuse sources are interned to small integers. Memory grows with
 * templates, slots, sketch sizes and open sessions, not with events.
 */
import type { QueryTemplate, TraceEvent } from '@stb/core';
import { StbError, hash32 } from '@stb/core';
import type { ModelFitProgress } from '../sequence-model';
import { throwIfAborted } from './abort';
import { CouplingFitter } from './coupling';
import { ArrivalFitter } from './arrival';
import { SlotFitter } from './param-fit';
import { SequenceBuffer } from './sequence-buffer';
import type { CaptureBounds } from './session-classes';
import {
  ConnKeys,
  DominantMixes,
  SessionProfiles,
  TemplateTally,
} from './session-classes';
import { SessionValues, valuePrimitive } from './session-values';
import type { TrackedSession } from './sessions';
import { SessionTracker } from './sessions';
import { CaptureSessions } from './unit-shards';

const PROGRESS_EVERY = 65_536;
/** Closed sessions whose connection attributes are remembered for their later pieces. */
const RECENT_CONNS = 65_536;

/** Session ordinal → close index, in a growable typed array. */
export class OrdinalMap {
  #a = new Int32Array(1024);

  set(ordinal: number, value: number): void {
    while (ordinal >= this.#a.length) {
      const b = new Int32Array(this.#a.length * 2);
      b.set(this.#a);
      this.#a = b;
    }
    this.#a[ordinal] = value;
  }

  get(ordinal: number): number {
    return this.#a[ordinal] as number;
  }
}

interface FitSession extends TrackedSession {
  /** A number identifying the session id (pieces of a split session share it), for distinct-session counts. */
  key: number;
  /** Arrival index of the previous template (-1: none yet). */
  prevTemplate: number;
  prevEndUs: number;
  /** The previous statement's number in the trace (`seen` then): where its think time is drawn. */
  prevPlace: number;
  /** Current value of every reuse source (`<template>#<slot>` as an index), created on first use. */
  values: SessionValues | undefined;
  /** Template indices so far, while the sequence buffer has room. */
  seq: number[] | undefined;
  firstUs: number;
  lastStartUs: number;
  maxGapUs: number;
  tally: TemplateTally;
  /** Index of the session's connection attributes in {@link FirstPass.connKeys} (0: none). */
  conn: number;
  /** False for another shard's session (a sharded fit tracks it only for the capture's bounds). */
  mine: boolean;
}

/** A 52-bit number for a session id: pieces of one session count as one session. */
function sessionKey(id: string): number {
  return hash32(id) * 1048576 + (hash32(`#${id}`) >>> 12);
}

/** Options of {@link FirstPass}. */
export interface FirstPassOptions {
  bucketUs: number | undefined;
  sequenceCacheSymbols: number;
  trackerOptions: { idleUs: number; maxEvents: number };
  /** Distinct sessions a literal must occur in (the slot fitters' privacy threshold). */
  minSessions: number;
  /** A shard's sessions; the others are tracked for the capture's bounds and classes only. */
  owns: ((sessionId: string) => boolean) | undefined;
  signal: AbortSignal | undefined;
  onProgress: ((p: ModelFitProgress) => void) | undefined;
}

/** The first pass's state; {@link FirstPass.read} runs it over the events. */
export class FirstPass {
  /** Template id → index in the catalog (the first of duplicate ids). */
  readonly index = new Map<string, number>();
  readonly ids: string[];
  /** Events per template index (this shard's sessions). */
  readonly counts: Float64Array;
  readonly arrival: ArrivalFitter;
  readonly #arrivalIndex: Int32Array;
  /** Per template index: one fitter per parameter slot. */
  readonly fitters: (SlotFitter[] | undefined)[] = [];
  /** Per template index: reuse source index per slot. */
  readonly #sourceIds: (number[] | undefined)[] = [];
  /** Reuse source names, `<templateId>#<slot>`. */
  readonly sourceNames: string[] = [];
  readonly buffer: SequenceBuffer;
  /** This shard's events, and every event read. */
  eventCount = 0;
  /** How this fit's sessions' think times move together (internal/coupling.ts). */
  readonly coupling = new CouplingFitter();
  seen = 0;
  sessionCount = 0;
  /** Sessions closed so far, every shard's (a sharded fit's global close index). */
  #closed = 0;
  /** Profile index → global close index of the session. */
  readonly firstCloseOf = new OrdinalMap();
  readonly bounds: CaptureBounds = {
    startUs: Infinity,
    lastStartUs: -Infinity,
    endUs: -Infinity,
  };
  readonly profiles = new SessionProfiles();
  /** The distinct connection attributes of the sessions (trace `conn`). */
  readonly connKeys = new ConnKeys();
  /**
   * Connection attributes of recently closed sessions, by id: a session split into pieces (idle,
   * or past the event cap) names them on its first event only, and its later pieces take them
   * from here. Bounded: the oldest of {@link RECENT_CONNS} entries go first.
   */
  readonly #recentConn = new Map<string, number>();
  readonly mixes = new DominantMixes();
  /** A shard's record of every session of the capture (template-mix aliases, dispatched units). */
  readonly capture: CaptureSessions | undefined;
  /** Session ordinal → profile index. */
  readonly closeOfOrdinal = new OrdinalMap();
  #finishing = false;
  startUs = Infinity;
  endUs = -Infinity;
  readonly #o: FirstPassOptions;
  readonly #tracker: SessionTracker<FitSession>;

  constructor(templates: readonly QueryTemplate[], o: FirstPassOptions) {
    this.#o = o;
    templates.forEach((t, i) => {
      if (!this.index.has(t.id)) this.index.set(t.id, i);
    });
    this.ids = templates.map((t) => t.id);
    this.counts = new Float64Array(templates.length);
    this.arrival = new ArrivalFitter(o.bucketUs);
    this.#arrivalIndex = new Int32Array(templates.length).fill(-1);
    this.buffer = new SequenceBuffer(o.sequenceCacheSymbols);
    this.capture = o.owns ? new CaptureSessions() : undefined;
    this.#tracker = new SessionTracker<FitSession>(
      o.trackerOptions,
      (id, ordinal, first) => this.#open(id, ordinal, first),
      (s) => this.#close(s),
    );
  }

  #open(id: string, ordinal: number, first: TraceEvent): FitSession {
    const owns = this.#o.owns;
    return {
      id,
      ordinal,
      key: sessionKey(id),
      events: 0,
      lastUs: first.startUs,
      prevTemplate: -1,
      prevEndUs: first.startUs,
      prevPlace: 0,
      values: undefined,
      seq: this.buffer.overflow || (owns && !owns(id)) ? undefined : [],
      firstUs: first.startUs,
      lastStartUs: first.startUs,
      maxGapUs: 0,
      tally: new TemplateTally(),
      conn:
        first.conn !== undefined
          ? this.connKeys.intern(first.conn)
          : (this.#recentConn.get(id) ?? 0),
      mine: owns ? owns(id) : true,
    };
  }

  #close(s: FitSession): void {
    const closeIndex = this.#closed++;
    const bounds = this.bounds;
    if (s.firstUs < bounds.startUs) bounds.startUs = s.firstUs;
    if (s.lastStartUs > bounds.lastStartUs) bounds.lastStartUs = s.lastStartUs;
    if (s.prevEndUs > bounds.endUs) bounds.endUs = s.prevEndUs;
    const summary = {
      firstUs: s.firstUs,
      lastStartUs: s.lastStartUs,
      lastEndUs: s.prevEndUs,
      events: s.events,
      maxGapUs: s.maxGapUs,
      dominant: s.tally.dominant,
      conn: s.conn,
    };
    if (s.conn !== 0) {
      const recent = this.#recentConn;
      recent.delete(s.id);
      recent.set(s.id, s.conn);
      if (recent.size > RECENT_CONNS)
        recent.delete(recent.keys().next().value as string);
    }
    if (!s.mine) {
      this.capture?.add(summary, s.tally, {
        ordinal: s.ordinal,
        openAtEnd: this.#finishing,
        own: -1,
      });
      return;
    }
    this.sessionCount++;
    this.arrival.sessionEnd(s.events);
    this.mixes.add(s.tally);
    if (s.seq) this.buffer.add(s.id, s.seq);
    const profileIndex = this.profiles.add(summary, this.#finishing);
    this.closeOfOrdinal.set(s.ordinal, profileIndex);
    this.firstCloseOf.set(profileIndex, closeIndex);
    this.capture?.add(summary, s.tally, {
      ordinal: s.ordinal,
      openAtEnd: this.#finishing,
      own: profileIndex,
    });
  }

  /** Reads every event, then closes the sessions still open (they count as open at the end). */
  async read(events: AsyncIterable<TraceEvent>): Promise<void> {
    for await (const e of events) {
      if ((this.seen & 1023) === 0) throwIfAborted(this.#o.signal, 'Fitting');
      this.seen++;
      this.#event(e);
    }
    this.#finishing = true;
    this.#tracker.finish();
  }

  #event(e: TraceEvent): void {
    const ti = this.index.get(e.templateId);
    if (ti === undefined) {
      throw new StbError(
        'STB_TRACE_UNKNOWN_TEMPLATE',
        `[stb] [models] Event ${this.seen} uses template \`${e.templateId}\`, which is not in the catalog. Pass the trace's template records as \`catalog\`.`,
        { details: { templateId: e.templateId, event: this.seen } },
      );
    }
    // a shard buckets arrivals from the capture's first session start, as one fit does
    if (this.#o.owns) this.arrival.originUs ??= e.startUs;
    const tracker = this.#tracker;
    const session = tracker.push(e);
    if (!session.mine) {
      // another shard's session: what the capture's bounds and its profile need (its role and
      // dominant template, for the capture-wide classes: CaptureSessions)
      if (!tracker.lastIsNew) {
        const gap = e.startUs - session.lastStartUs;
        if (gap > session.maxGapUs) session.maxGapUs = gap;
      }
      if (e.startUs > session.lastStartUs) session.lastStartUs = e.startUs;
      session.prevEndUs = e.startUs + (e.durationUs ?? 0);
      session.tally.add(ti);
      return;
    }
    this.eventCount++;
    this.counts[ti] = (this.counts[ti] as number) + 1;
    if (e.startUs < this.startUs) this.startUs = e.startUs;
    if (e.startUs > this.endUs) this.endUs = e.startUs;
    if (tracker.lastIsNew) this.arrival.sessionStart(e.startUs);
    let ai = this.#arrivalIndex[ti] as number;
    if (ai < 0)
      this.#arrivalIndex[ti] = ai = this.arrival.templateIndex(e.templateId);
    if (session.prevTemplate >= 0) {
      const gap = Math.max(0, e.startUs - session.prevEndUs);
      const rank = this.arrival.thinkRank(session.prevTemplate, ai, gap);
      if (rank !== undefined)
        this.coupling.add(session.prevPlace, session.ordinal, rank);
    }
    session.prevPlace = this.seen;
    this.arrival.eventAt(e, ai, session);
    session.prevTemplate = ai;
    session.prevEndUs = e.startUs + (e.durationUs ?? 0);
    if (!tracker.lastIsNew) {
      const gap = e.startUs - session.lastStartUs;
      if (gap > session.maxGapUs) session.maxGapUs = gap;
    }
    if (e.startUs > session.lastStartUs) session.lastStartUs = e.startUs;
    session.tally.add(ti);
    if (session.seq) {
      if (this.buffer.overflow) session.seq = undefined;
      else session.seq.push(ti);
    }
    if (e.params.length === 0) return;
    this.#params(e, ti, session);
    const onProgress = this.#o.onProgress;
    if (onProgress && this.eventCount % PROGRESS_EVERY === 0)
      onProgress({ phase: 'read', step: this.eventCount });
  }

  /** The parameter slots of an event of this shard's session: values, and reuse credits. */
  #params(e: TraceEvent, ti: number, session: FitSession): void {
    const params = e.params;
    const slotFitters = (this.fitters[ti] ??= []);
    const sources = (this.#sourceIds[ti] ??= []);
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      if (p === undefined) continue;
      let f = slotFitters[i];
      if (!f) slotFitters[i] = f = new SlotFitter(this.#o.minSessions);
      f.add(p, e.startUs, session.key);
      const v = valuePrimitive(p);
      if (v === undefined) continue;
      let source = sources[i];
      if (source === undefined) {
        sources[i] = source = this.sourceNames.length;
        this.sourceNames.push(`${e.templateId}#${i}`);
      }
      // Several sources may hold the value (pgbench's tid and bid can both be 2): credit the one
      // that matched most often so far (ties: the most recent), so coincidences do not dilute it.
      const values = (session.values ??= new SessionValues());
      const credit = values.creditFor(p.t, v, f);
      if (credit >= 0) f.addReuse(credit);
      values.set(source, p.t, v);
    }
  }
}
