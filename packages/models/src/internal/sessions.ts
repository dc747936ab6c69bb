import type { TraceEvent } from '@stb/core';

/** Options of {@link SessionTracker}. */
export interface SessionTrackerOptions {
  /** Close a session after this much trace time without events, µs. */
  idleUs: number;
  /** Split sessions longer than this many events. */
  maxEvents: number;
}

/** Open-session bookkeeping shared by every pass over the events. */
export interface TrackedSession {
  readonly id: string;
  /** Ordinal of the session (piece) in order of first event, from 0. */
  readonly ordinal: number;
  events: number;
  lastUs: number;
}

const IDLE_CHECK_EVERY = 4096;

/**
 * Groups an interleaved event stream into sessions while holding only open sessions: a session
 * closes when idle for `idleUs` of trace time, when it reaches `maxEvents` (the rest continues as
 * a new piece), or at the end. Deterministic given the event order.
 */
export class SessionTracker<TState extends TrackedSession> {
  readonly #open = new Map<string, TState>();
  #ordinal = 0;
  #seen = 0;
  #maxUs = -Infinity;

  constructor(
    readonly options: SessionTrackerOptions,
    readonly create: (id: string, ordinal: number, first: TraceEvent) => TState,
    readonly close: (session: TState) => void,
  ) {}

  /** Whether the session returned by the last {@link push} was created by it. */
  lastIsNew = false;

  /**
   * The session of `event` (created when new, see {@link lastIsNew}), after closing idle ones.
   * Counts the event.
   */
  push(event: TraceEvent): TState {
    if (event.startUs > this.#maxUs) this.#maxUs = event.startUs;
    if (++this.#seen % IDLE_CHECK_EVERY === 0) this.#closeIdle();
    let session = this.#open.get(event.sessionId);
    if (
      session &&
      (session.events >= this.options.maxEvents ||
        event.startUs - session.lastUs > this.options.idleUs)
    ) {
      this.#open.delete(event.sessionId);
      this.close(session);
      session = undefined;
    }
    let isNew = false;
    if (!session) {
      session = this.create(event.sessionId, this.#ordinal++, event);
      this.#open.set(event.sessionId, session);
      isNew = true;
    }
    session.events++;
    if (event.startUs > session.lastUs) session.lastUs = event.startUs;
    this.lastIsNew = isNew;
    return session;
  }

  #closeIdle(): void {
    const limit = this.#maxUs - this.options.idleUs;
    for (const [id, s] of this.#open) {
      if (s.lastUs < limit) {
        this.#open.delete(id);
        this.close(s);
      }
    }
  }

  /** Closes every open session (in order of their first event). */
  finish(): void {
    const rest = [...this.#open.values()].sort((a, b) => a.ordinal - b.ordinal);
    this.#open.clear();
    for (const s of rest) this.close(s);
  }

  get openCount(): number {
    return this.#open.size;
  }
}
