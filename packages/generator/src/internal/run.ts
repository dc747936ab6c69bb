/**
 * The event loop of a generation: merges session starts (pooled connections, initial sessions and
 * arrivals of every session class) and the open sessions' next events by time with heaps, so
 * memory is bounded by the open sessions. {@link Run} holds the run's state and its steps (start a
 * session, move it to its next statement, emit, skip a ghost, end); {@link runEvents} is the loop.
 */
import { createRng } from '@stb/core';
import type { ConnAttributes, ParamValue, Rng, TraceEvent } from '@stb/core';
import type { SessionClassSampler, SessionParamState } from '@stb/models';
import type { GenerateSummary } from '../generate-trace';
import { renderCompiled } from '../render-sql';
import type { SessionStart } from './arrivals';
import { ArrivalSchedule, SessionKind } from './arrivals';
import { ThinkTimeCoupler } from './coupling';
import { TimedHeap } from './heap';
import type { Boundary, Plan } from './plan';
import { invalid } from './plan';
import { SessionLengths } from './session-lengths';
import { stratifiedStream } from './stratify';
import { UnitSchedule } from './unit-schedule';

/** Longest session, statements. */
const MAX_SESSION_EVENTS = 1_000_000;
/** Events between two calls of {@link RunHooks.every} (abort checks, progress). */
const ABORT_CHECK_EVERY = 1024;
/** Most sessions open at once; memory is bounded by them, so more is refused, not swapped. */
const MAX_OPEN_SESSIONS = 1_000_000;
/** Longest a session may run past its drawn length to reach the end of its transaction. */
const MAX_OVERRUN = 1000;

/** Live counters shared by the event loop and `summary()`. */
export type Counters = GenerateSummary;

/** Called by the event loop: every {@link ABORT_CHECK_EVERY} events, and once when it ends. */
export interface RunHooks {
  every(emitted: number): void;
  done(): void;
}

/** One open session, keyed in the heap by its next event's start. */
interface OpenSession {
  /** Absolute start (epoch µs) of the next event. */
  timeUs: number;
  /** Session index (global, in arrival order). */
  index: number;
  id: string;
  cls: SessionClassSampler;
  kind: SessionKind;
  seq: Iterator<string>;
  seqRng: Rng;
  paramRng: Rng;
  timeRng: Rng;
  params: SessionParamState;
  nextTemplate: string;
  /** End (start + duration) of the previous event, epoch µs. */
  prevEndUs: number;
  /** Statements still to draw before the session may end (Infinity for pooled connections). */
  remaining: number;
  /** Statements drawn past `remaining` while waiting for the open transaction to end. */
  overrun: number;
  /** A pooled connection ends once its statements reach this time (epoch µs; Infinity: never). */
  untilUs: number;
  inTxn: boolean;
  txnIndex: number;
  /** The next event is the appended closing COMMIT; the session ends after it. */
  closing: boolean;
  /** The session's connection attributes, until its first event carries them. */
  conn: ConnAttributes | undefined;
  /**
   * Another shard's session simulated but not emitted, so shards still merge into the sequential
   * run: a pooled connection of a dispatched class (its timing takes part in the class's
   * dispatch), or any session when think times are coupled.
   */
  ghost: boolean;
}

/** The state of one generation run and the steps the loop takes on it. */
class Run {
  readonly open = new TimedHeap<OpenSession>();
  /** Open sessions that emit events (not ghosts). */
  ownOpen = 0;
  /** Open sessions inside a transaction (each needs one more event to close it). */
  inTxnCount = 0;
  /** No more sessions will start. */
  arrivalsDone = false;
  /** Count stops end open transactions before the count is reached (and emit exactly `count`). */
  readonly exact: boolean;
  readonly #plan: Plan;
  readonly #counters: Counters;
  readonly #schedule: ArrivalSchedule;
  readonly #sessionRoot: Rng;
  readonly #units: UnitSchedule;
  readonly #lengths: SessionLengths;
  /** Neither a count nor a duration stops the run (`sessions` only). */
  readonly #unbounded: boolean;
  readonly #captureSpanUs: number;
  /** Couples the sessions' think times; undefined when the model has no coupling. */
  readonly #coupler: ThinkTimeCoupler | undefined;
  #nextSessionIndex = 0;
  /** Key of the permutations that stratify the sessions' time draws (internal/stratify.ts). */
  readonly #strataKey: number;

  constructor(plan: Plan, counters: Counters) {
    this.#plan = plan;
    this.#counters = counters;
    const { sampler } = plan;
    const root = createRng(plan.seed);
    this.#sessionRoot = root.derive('sessions');
    this.#strataKey = root.derive('strata').int(0x100000000);
    this.#schedule = new ArrivalSchedule(sampler.classes, {
      scale: plan.scale,
      rng: root.derive('arrivals'),
    });
    this.#units = new UnitSchedule(sampler.classes, root.derive('units'), {
      scale: plan.scale,
      timeScale: plan.timeScale,
      toAbs: this.toAbs,
    });
    this.#lengths = new SessionLengths(
      sampler.classes,
      root.derive('lengths'),
      MAX_SESSION_EVENTS,
    );
    this.#coupler = sampler.coupling
      ? new ThinkTimeCoupler(
          sampler.coupling,
          root.derive('coupling'),
          plan.scale,
        )
      : undefined;
    this.exact = plan.closeTransactions && !plan.appendClosers;
    this.#unbounded = plan.count === undefined && plan.endUs === undefined;
    this.#captureSpanUs = Math.max(
      1,
      sampler.artifact.sessions.captureEndUs -
        sampler.artifact.sessions.captureStartUs,
    );
  }

  /** Epoch µs of a capture offset, on the run's time scale. */
  readonly toAbs = (offsetUs: number): number =>
    this.#plan.startUs + Math.round(offsetUs * this.#plan.timeScale);

  /** Boundary of a template id (the closer's too), from the prepared template table. */
  #boundaryOfId(id: string): Boundary {
    return (
      this.#plan.info.get(id)?.boundary ??
      (id === this.#plan.closer.template.id ? 'end' : undefined)
    );
  }

  /**
   * Opens every session arriving no later than the earliest pending event, and marks arrivals
   * over when none are left or a stop condition keeps new ones out (`emitted`: events so far).
   */
  admit(emitted: number): void {
    const plan = this.#plan;
    const top = this.open.peek();
    while (!this.arrivalsDone) {
      const offset = this.#schedule.peekOffsetUs();
      if (offset === undefined) {
        this.arrivalsDone = true;
        break;
      }
      const at = this.toAbs(offset);
      if (top && at > top.timeUs) break;
      if (
        (plan.endUs !== undefined && at >= plan.endUs) ||
        (plan.sessions !== undefined &&
          this.#counters.sessions >= plan.sessions) ||
        (this.exact && plan.count !== undefined && emitted >= plan.count)
      ) {
        this.arrivalsDone = true;
        break;
      }
      this.#start(this.#schedule.take() as SessionStart);
      if (this.open.peek() !== top) break;
    }
  }

  /** Why a run that ran out of sessions ended (`draining`: an exact count's end came near). */
  exhaustedBy(draining: boolean): GenerateSummary['stoppedBy'] {
    const plan = this.#plan;
    return draining
      ? 'count'
      : plan.sessions !== undefined && this.#counters.sessions >= plan.sessions
        ? 'sessions'
        : plan.endUs !== undefined
          ? 'duration'
          : 'exhausted';
  }

  /** Starts a session (or skips it: another shard's, or past the `sessions` stop). */
  #start(start: SessionStart): void {
    const plan = this.#plan;
    const index = this.#nextSessionIndex++;
    const cls = plan.sampler.classes[start.classIndex] as SessionClassSampler;
    const ghost =
      plan.shard !== undefined && index % plan.shard.count !== plan.shard.index;
    // Another shard's session is simulated without being emitted when its timing affects this
    // shard's: a pooled connection of a dispatched class (the class's dispatch), or any session
    // when think times are coupled (the shared process advances with every session's draws).
    if (
      ghost &&
      !this.#coupler &&
      !(start.kind === SessionKind.Pool && cls.unitGapUs)
    )
      return;
    if (plan.sessions !== undefined && this.#counters.sessions >= plan.sessions)
      return;
    // A pooled connection of a dispatched class opens with a unit of its own: that unit is one of
    // the schedule's (the learned gaps and rate profile count it), so it takes a slot — otherwise
    // every connection opening during a ramp adds a unit on top of the schedule's rate. (A
    // connection that `sessions` keeps from opening takes none.)
    if (start.kind === SessionKind.Pool && this.#units.has(start.classIndex))
      this.#units.take(start.classIndex, cls, this.toAbs(start.offsetUs));
    const rng = this.#sessionRoot.derive(index);
    const seqRng = rng.derive(1);
    const arrivalUs = this.toAbs(start.offsetUs);
    const s: OpenSession = {
      timeUs: arrivalUs,
      index,
      id: `${plan.prefix}${index}`,
      cls,
      kind: start.kind,
      seq: cls.sequence.nextSession(seqRng)[Symbol.iterator](),
      seqRng,
      paramRng: rng.derive(2),
      timeRng: stratifiedStream(rng.derive(3), this.#strataKey, index),
      params: plan.sampler.newSession(rng.derive(4)),
      nextTemplate: '',
      prevEndUs: arrivalUs,
      remaining: 0,
      overrun: 0,
      untilUs: Infinity,
      inTxn: false,
      txnIndex: 0,
      closing: false,
      conn: cls.connection(rng.derive(6)),
      ghost,
    };
    if (start.kind === SessionKind.Pool) {
      s.remaining = Infinity;
      // Without a count or duration stop (`sessions` only), pooled connections live as long as
      // the capture did; otherwise they stay open until the run stops.
      if (this.#unbounded) s.untilUs = this.toAbs(this.#captureSpanUs);
    } else {
      s.remaining = Math.min(MAX_SESSION_EVENTS, cls.sessionLength(s.timeRng));
      // a chain session whose length the class's distribution accepts: its own path and END
      const path = this.#lengths.path(start.classIndex, seqRng, () =>
        rng.derive(5),
      );
      if (path) {
        s.seq = path[Symbol.iterator]();
        s.remaining = path.length;
      }
    }
    const first = s.seq.next();
    if (first.done) return;
    s.nextTemplate = first.value;
    s.remaining--;
    if (!ghost) {
      this.#counters.sessions++;
      this.ownOpen++;
    }
    this.open.push(s);
    if (this.open.size > MAX_OPEN_SESSIONS)
      throw invalid(
        `More than ${MAX_OPEN_SESSIONS} sessions would be open at once (scale × the source's concurrency, or a time scale that packs sessions together). Lower \`scale\`, raise \`timeScale\`, or generate shards.`,
      );
  }

  /** The next template of the session's chain, restarting it when it ended (undefined: none). */
  #chainNext(s: OpenSession): string | undefined {
    let r = s.seq.next();
    if (r.done) {
      s.seq = s.cls.sequence.nextSession(s.seqRng)[Symbol.iterator]();
      r = s.seq.next();
    }
    return r.done ? undefined : r.value;
  }

  /** Moves `s` to its next statement; false when the session is over. */
  prepareNext(s: OpenSession): boolean {
    if (s.closing) return false;
    const plan = this.#plan;
    if (s.timeUs >= s.untilUs) s.remaining = Math.min(s.remaining, 0);
    let next: string | undefined;
    if (s.remaining > 0) next = this.#chainNext(s);
    else if (s.inTxn && s.overrun < MAX_OVERRUN) {
      // past its length: finish the open transaction the way the chain does
      next = this.#chainNext(s);
      s.overrun++;
    }
    if (next === undefined || (s.remaining <= 0 && !s.inTxn)) {
      if (!(s.inTxn && plan.closeTransactions)) return false;
      next = plan.closer.template.id;
      s.closing = true;
    }
    s.remaining--;
    const think = s.cls.thinkTimeUs(
      s.nextTemplate,
      next,
      this.#coupler ? this.#coupler.couple(s.timeRng) : s.timeRng,
    );
    s.nextTemplate = next;
    s.timeUs =
      s.kind === SessionKind.Pool && !s.inTxn && !s.closing && s.cls.unitGapUs
        ? this.#units.next(s.cls, s.prevEndUs)
        : s.prevEndUs + Math.round(think * plan.timeScale);
    return true;
  }

  /**
   * In exact-count mode, whether `s` may emit its next event with `left` events of budget, or
   * must close its transaction (COMMIT instead) or end now.
   */
  budget(s: OpenSession, left: number): 'emit' | 'close' | 'end' {
    const b = this.#boundaryOfId(s.nextTemplate);
    if (s.inTxn) {
      if (b === 'end') return 'emit';
      return left - 1 >= this.inTxnCount ? 'emit' : 'close';
    }
    // outside a transaction: a BEGIN adds one more transaction to close
    const need = b === 'begin' ? this.inTxnCount + 2 : this.inTxnCount + 1;
    return left >= need ? 'emit' : 'end';
  }

  /** Makes the closing COMMIT the next (and last) statement of `s`. */
  close(s: OpenSession): void {
    s.nextTemplate = this.#plan.closer.template.id;
    s.closing = true;
  }

  /** Emits the event `s` is positioned at. */
  emit(s: OpenSession): TraceEvent {
    const plan = this.#plan;
    const counters = this.#counters;
    const id = s.nextTemplate;
    const ti =
      plan.info.get(id) ??
      (id === plan.closer.template.id ? plan.closer : undefined);
    const startUs = s.timeUs;
    const params: ParamValue[] =
      ti?.synthetic === true
        ? []
        : plan.sampler.params(id, s.params, s.paramRng, startUs);
    const drawnUs = s.cls.durationUs(id, s.timeRng);
    const durationUs =
      drawnUs === undefined ? undefined : Math.max(0, Math.round(drawnUs));
    const boundary = ti?.boundary;
    if (boundary === 'begin' && !s.inTxn) {
      s.inTxn = true;
      this.inTxnCount++;
    }
    const txn = s.inTxn ? s.txnIndex : undefined;
    if (boundary === 'end' && s.inTxn) {
      s.inTxn = false;
      this.inTxnCount--;
      s.txnIndex++;
    }
    // One object literal per combination of optional fields (keys in the order the writers
    // expect): events of a run share a few stable shapes instead of growing one field by field.
    const sessionId = s.id;
    let event: TraceEvent;
    if (durationUs !== undefined)
      event =
        txn !== undefined
          ? {
              kind: 'event',
              startUs,
              sessionId,
              templateId: id,
              params,
              durationUs,
              txn,
            }
          : {
              kind: 'event',
              startUs,
              sessionId,
              templateId: id,
              params,
              durationUs,
            };
    else
      event =
        txn !== undefined
          ? { kind: 'event', startUs, sessionId, templateId: id, params, txn }
          : { kind: 'event', startUs, sessionId, templateId: id, params };
    if (plan.render && ti?.compiled)
      event.sql = renderCompiled(ti.compiled, params, plan.render);
    if (s.conn !== undefined) {
      event.conn = s.conn;
      s.conn = undefined;
    }
    s.prevEndUs = startUs + (durationUs ?? 0);
    counters.events++;
    if (s.closing) counters.closingEvents++;
    if (ti && !ti.used) {
      ti.used = true;
      counters.templates++;
    }
    counters.firstStartUs ??= startUs;
    counters.lastStartUs = startUs;
    return event;
  }

  /** Ends `s`, the heap's top: after its last event, or early (exact-count mode). */
  end(s: OpenSession): void {
    this.open.pop();
    this.ownOpen--;
    if (s.inTxn) this.inTxnCount--;
  }

  /** Advances a ghost (the heap's top) past its statement as `emit` would, without an event. */
  skip(s: OpenSession): void {
    const id = s.nextTemplate;
    const drawnUs = s.cls.durationUs(id, s.timeRng);
    const boundary = this.#boundaryOfId(id);
    if (boundary === 'begin' && !s.inTxn) s.inTxn = true;
    if (boundary === 'end' && s.inTxn) {
      s.inTxn = false;
      s.txnIndex++;
    }
    s.prevEndUs =
      s.timeUs + (drawnUs === undefined ? 0 : Math.max(0, Math.round(drawnUs)));
    if (this.prepareNext(s)) this.open.fixTop();
    else this.open.pop();
  }

  /** The emitting sessions still inside a transaction, each set to its closing COMMIT, in time order. */
  closeOpen(): OpenSession[] {
    return this.open
      .drain()
      .filter((x) => x.inTxn && !x.closing && !x.ghost)
      .map((x) => {
        // At the time its next statement was due (≥ every emitted event, and the same in every
        // shard, since it depends on the session alone).
        this.close(x);
        return x;
      })
      .sort((a, b) => a.timeUs - b.timeUs || a.index - b.index);
  }
}

/**
 * The event loop: admits arrivals, takes the earliest open session, decides whether a stop is
 * reached (count, duration, an exact count's budget), emits its event and moves it on. A run that
 * stopped early closes the transactions still open.
 */
export function* runEvents(
  plan: Plan,
  counters: Counters,
  hooks: RunHooks,
): Generator<TraceEvent> {
  const run = new Run(plan, counters);
  const { open, exact } = run;
  let modelEvents = 0;
  let emitted = 0;
  let exhausted = false;
  /** An exact count's end is near: sessions end instead of starting work that cannot finish. */
  let draining = false;
  for (;;) {
    run.admit(emitted);
    const s = open.peek();
    if (!s || (run.ownOpen === 0 && run.arrivalsDone)) {
      counters.stoppedBy = run.exhaustedBy(draining);
      exhausted = true;
      break;
    }
    if (plan.endUs !== undefined && s.timeUs >= plan.endUs) {
      counters.stoppedBy = 'duration';
      break;
    }
    if (s.ghost) {
      run.skip(s);
      continue;
    }
    if (exact && plan.count !== undefined) {
      const left = plan.count - emitted;
      if (left <= 0) {
        counters.stoppedBy = 'count';
        break;
      }
      if (!s.closing) {
        const verdict = run.budget(s, left);
        if (verdict === 'end') {
          // The budget left is for closing open transactions: no new session could use it.
          run.end(s);
          draining = true;
          run.arrivalsDone = true;
          continue;
        }
        if (verdict === 'close') run.close(s);
      }
    }
    const wasClosing = s.closing;
    yield run.emit(s);
    emitted++;
    if ((emitted & (ABORT_CHECK_EVERY - 1)) === 0) hooks.every(emitted);
    if (!wasClosing) modelEvents++;
    if (run.prepareNext(s)) open.fixTop();
    else run.end(s);
    const counted = exact ? emitted : modelEvents;
    if (plan.count !== undefined && counted >= plan.count) {
      counters.stoppedBy = 'count';
      break;
    }
  }
  // Stopped early: close the transactions still open, in time order.
  if (!exhausted && plan.closeTransactions) {
    for (const x of run.closeOpen()) {
      yield run.emit(x);
      if ((++emitted & (ABORT_CHECK_EVERY - 1)) === 0) hooks.every(emitted);
    }
  }
  hooks.done();
}
