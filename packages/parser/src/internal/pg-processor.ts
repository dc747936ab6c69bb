import type { RawQueryEvent } from '@stb/core';
import type { LogFormatContext } from '../log-format';
import { parsePgParameters } from './pg-params';
import { isoFromUs, msToUs } from './time';

/**
 * One PostgreSQL log entry, whatever the destination (stderr, csvlog, jsonlog) it came from.
 * @internal
 */
export interface PgEntry extends PgLogFields {
  /** 1-based line of the entry's first line. */
  line: number;
  message: string;
  /** csvlog/jsonlog: the DETAIL field. */
  detail?: string | undefined;
  /** csvlog/jsonlog: the STATEMENT (query) field. */
  statement?: string | undefined;
}

/** The fields a log line's prefix (or a csv/json record) gives, whatever the destination. @internal */
export interface PgLogFields {
  /** Log time in epoch µs (NaN when the prefix has no time). */
  timeUs: number;
  pid: string | undefined;
  /** `%c` / `session_id`, when the log has it. */
  sessionKey: string | undefined;
  user: string | undefined;
  database: string | undefined;
  application: string | undefined;
  client: string | undefined;
  vxid: string | undefined;
  xid: string | undefined;
  sqlstate: string | undefined;
  severity: string;
}

/** An entry with nothing set, to fill in. */
export function blankPgEntry(): PgEntry {
  return {
    line: 0,
    timeUs: NaN,
    pid: undefined,
    sessionKey: undefined,
    user: undefined,
    database: undefined,
    application: undefined,
    client: undefined,
    vxid: undefined,
    xid: undefined,
    sqlstate: undefined,
    severity: '',
    message: '',
  };
}

/** Severities of lines that belong to the preceding entry of the same process (stderr). */
export const PG_SUB_SEVERITIES: ReadonlySet<string> = new Set([
  'DETAIL',
  'HINT',
  'CONTEXT',
  'STATEMENT',
  'QUERY',
  'LOCATION',
]);

/** Every severity word PostgreSQL writes after its prefix. */
export const PG_SEVERITIES: ReadonlySet<string> = new Set([
  'LOG',
  'ERROR',
  'FATAL',
  'PANIC',
  'WARNING',
  'NOTICE',
  'INFO',
  'DEBUG',
  'DEBUG1',
  'DEBUG2',
  'DEBUG3',
  'DEBUG4',
  'DEBUG5',
  ...PG_SUB_SEVERITIES,
]);

interface Pending {
  ev: RawQueryEvent;
  /** Its session, to drop the session's reference once emitted (bounded memory). */
  session: Session;
  /** No later line can change it any more. */
  done: boolean;
  /** Handed to the consumer: must not be changed. */
  emitted: boolean;
}

/** An ERROR waiting for its STATEMENT line. @internal */
export interface PgError {
  code: string | undefined;
  message: string;
  line: number;
  timeUs: number;
}

interface Session {
  id: string;
  user?: string | undefined;
  database?: string | undefined;
  application?: string | undefined;
  client?: string | undefined;
  /** Last statement event, open to a following DETAIL, duration or error. */
  open: Pending | undefined;
  /** The last primary entry of the session was {@link open}'s statement. */
  lastWasEvent: boolean;
  /** An ERROR waiting for its STATEMENT line. */
  error: PgError | undefined;
  /**
   * Range mode: the session was made by its key's first entry in the range (no connection line
   * before it), so its id is provisional; this is the id it has if no session of the key is
   * open where the range starts.
   */
  adopted?: string;
}

/**
 * A session where a byte range of a log ends (see {@link PgBoundaryState}).
 * @internal
 */
export interface PgSessionState {
  key: string;
  id: string;
  user?: string | undefined;
  database?: string | undefined;
  application?: string | undefined;
  client?: string | undefined;
  /** Index in the state's `tail` of the session's open statement, or -1. */
  open: number;
  lastWasEvent: boolean;
  error?: PgError | undefined;
  /** See `Session.adopted`: set when the id is provisional. */
  adopted?: string | undefined;
}

/**
 * What a processor holds where a byte range ends: its sessions and the events not out yet (in
 * statement-line order, `done` when no later line can change them). A processor started from it
 * (`seed`) goes on exactly as the one that made it would have.
 * @internal
 */
export interface PgBoundaryState {
  sessions: PgSessionState[];
  tail: { ev: RawQueryEvent; done: boolean }[];
}

/**
 * Range mode: what a key's lines did in a range before its first statement, connection or
 * disconnection (`kind`), the statements pushed before that one (`pos`), and the lines before it
 * that a session open before the range could take differently (`prelude`, in order): a bare
 * `duration:` line (its µs), a line that only touches the session (`t`: parse, bind, checkpoint…),
 * a `DETAIL: parameters` line (`d`), another continuation line that changes nothing without a
 * waiting ERROR (`q`). `kind` is `other` at the first line of any other kind (or past
 * {@link MAX_PRELUDE} lines), undefined when the range ended first.
 * @internal
 */
export interface PgKeyStart {
  kind: 'statement' | 'connection' | 'disconnection' | 'other' | undefined;
  pos: number;
  prelude: (number | 't' | 'd' | 'q')[];
}

/** Options of {@link PgProcessor}. */
export interface PgProcessorOptions {
  /** Events held for follow-up lines before being forced out (bounds memory). */
  maxPending?: number;
  /**
   * Range mode (a byte range parsed without the state before it): records each key's start
   * ({@link PgProcessor.starts}) and gives the sessions its keys' first statements make the
   * provisional id `<tag><key>`.
   */
  rangeTag?: string;
  /** The state to start from: where the range before this one ended. */
  seed?: PgBoundaryState;
}

/** Events a processor holds for follow-up lines, at most, by default. @internal */
export const PG_MAX_PENDING = 10_000;

/** Lines kept per key before its first statement (range mode, {@link PgKeyStart.prelude}). */
const MAX_PRELUDE = 16;

type Attributes = Pick<Session, 'user' | 'database' | 'application' | 'client'>;

/** The connection attributes `from` has, set on `to` (absent ones left absent). */
function copyAttributes(from: Attributes, to: Attributes): void {
  if (from.user !== undefined) to.user = from.user;
  if (from.database !== undefined) to.database = from.database;
  if (from.application !== undefined) to.application = from.application;
  if (from.client !== undefined) to.client = from.client;
}

function known(v: string | undefined): string | undefined {
  return v === undefined || v === '' || v === '[unknown]' ? undefined : v;
}

function field(text: string, key: string): string | undefined {
  const i = text.indexOf(key);
  if (i === -1) return undefined;
  const start = i + key.length;
  const end = text.indexOf(' ', start);
  return text.slice(start, end === -1 ? text.length : end);
}

/**
 * Turns PostgreSQL log entries into statement events: sessions from connection lines (or `%c`),
 * `statement:`/`duration:`/`execute` messages, parameters from DETAIL, errors with their
 * STATEMENT, and follow-up `duration:` lines. Events come out in log order; an event waits in a
 * bounded queue until no later line of its session can change it.
 * @internal
 */
export class PgProcessor {
  /** Completed events, in log order. The caller yields and clears it. */
  readonly out: RawQueryEvent[] = [];
  private queue: Pending[] = [];
  private head = 0;
  private readonly sessions = new Map<string, Session>();
  private readonly maxPending: number;
  /** Range mode: see {@link PgProcessorOptions.rangeTag}. */
  private readonly rangeTag: string | undefined;
  /** Range mode: each key's start in the range. */
  readonly starts = new Map<string, PgKeyStart>();
  /** Range mode: the keys whose first statement made a session, with the id it would have. */
  readonly adopted: [string, string][] = [];
  /** Range mode: the current entry is its key's first since the key's start was recorded. */
  private noting: PgKeyStart | undefined;
  /** Range mode: the current entry is its key's first statement (its start). */
  private anchoring = false;
  /** Statements queued so far. */
  private pushes = 0;
  /** The queue grew past `maxPending` and an event was forced out. */
  cut = false;

  constructor(
    private readonly ctx: LogFormatContext,
    options: PgProcessorOptions = {},
  ) {
    this.maxPending = options.maxPending ?? PG_MAX_PENDING;
    this.rangeTag = options.rangeTag;
    if (options.seed) this.restore(options.seed);
  }

  /** Starts from `seed` (see {@link PgBoundaryState}). */
  private restore(seed: PgBoundaryState): void {
    const orphan: Session = {
      id: '',
      open: undefined,
      lastWasEvent: false,
      error: undefined,
    };
    const items: Pending[] = seed.tail.map((t) => ({
      ev: t.ev,
      session: orphan,
      done: t.done,
      emitted: false,
    }));
    for (const st of seed.sessions) {
      const s: Session = {
        id: st.id,
        open: undefined,
        lastWasEvent: st.lastWasEvent,
        error: st.error,
      };
      copyAttributes(st, s);
      const open = st.open >= 0 ? items[st.open] : undefined;
      if (open) {
        open.session = s;
        s.open = open;
      }
      this.sessions.set(st.key, s);
    }
    this.queue = items;
  }

  /** Range mode: the current entry's key start, when its kind is still to be found. */
  private begin(e: PgEntry): void {
    if (this.rangeTag === undefined) return;
    const key = this.key(e);
    let st = this.starts.get(key);
    if (st === undefined) {
      st = { kind: undefined, pos: this.pushes, prelude: [] };
      this.starts.set(key, st);
    }
    this.noting = st.kind === undefined ? st : undefined;
    this.anchoring = false;
  }

  /** Range mode: the current entry gives its key's start `kind`. */
  private mark(kind: NonNullable<PgKeyStart['kind']>): void {
    const st = this.noting;
    if (st === undefined) return;
    st.kind = kind;
    st.pos = this.pushes;
    this.noting = undefined;
    this.anchoring = kind === 'statement';
  }

  /** Range mode: the current entry is a line of its key's prelude ({@link PgKeyStart}). */
  private step(what: number | 't' | 'd' | 'q'): void {
    const st = this.noting;
    if (st === undefined || st.prelude.length >= MAX_PRELUDE) return;
    st.prelude.push(what);
    this.noting = undefined;
  }

  /** Range mode: the current entry ended; one that gave no start is `other`. */
  private end(): void {
    if (this.noting !== undefined) this.mark('other');
  }

  private key(e: PgEntry): string {
    return e.sessionKey ?? (e.pid === undefined ? '-' : e.pid);
  }

  private newSession(e: PgEntry, key: string): Session {
    const old = this.sessions.get(key);
    if (old) this.close(old);
    let id: string;
    if (e.sessionKey !== undefined) id = e.sessionKey;
    else if (e.pid === undefined) id = '-';
    else
      id = Number.isNaN(e.timeUs) ? e.pid : `${e.pid}@${isoFromUs(e.timeUs)}`;
    const s: Session = {
      id,
      open: undefined,
      lastWasEvent: false,
      error: undefined,
    };
    this.sessions.set(key, s);
    return s;
  }

  private session(e: PgEntry): Session {
    const key = this.key(e);
    const s = this.sessions.get(key);
    if (s) return s;
    const made = this.newSession(e, key);
    if (this.anchoring) {
      // The key's first statement in the range: the session open before the range, if any, is
      // not known here.
      made.adopted = made.id;
      this.adopted.push([key, made.id]);
      made.id = `${this.rangeTag}${key}`;
    }
    return made;
  }

  /** Ends what a session still had open (its statement, an ERROR without STATEMENT). */
  private close(s: Session): void {
    if (s.open) {
      s.open.done = true;
      s.open = undefined;
    }
    this.settleError(s);
  }

  private settleError(s: Session): void {
    if (s.error) {
      this.ctx.report('error', s.error.line, 'error without a statement');
      s.error = undefined;
    }
  }

  /** Handles a primary entry (LOG, ERROR, …, or a csvlog/jsonlog record). */
  entry(e: PgEntry): void {
    this.begin(e);
    this.entryOf(e);
    this.end();
  }

  private entryOf(e: PgEntry): void {
    const sev = e.severity;
    if (sev === 'ERROR' || sev === 'FATAL' || sev === 'PANIC') {
      this.errorEntry(e);
      return;
    }
    const msg = e.message;
    if (msg.startsWith('statement: ')) {
      this.mark('statement');
      this.statement(e, msg.slice(11), {});
    } else if (msg.startsWith('duration: ')) {
      this.durationEntry(e, msg);
    } else if (msg.startsWith('execute ')) {
      this.execute(e, msg, { at: 8 });
    } else if (msg.startsWith('connection received: ')) {
      this.mark('connection');
      const s = this.newSession(e, this.key(e));
      s.lastWasEvent = false;
      const host = field(msg, 'host=');
      const port = field(msg, 'port=');
      if (host !== undefined)
        s.client = port === undefined ? host : `${host}:${port}`;
      this.ctx.report('connection', e.line);
    } else if (
      msg.startsWith('connection authorized: ') ||
      msg.startsWith('replication connection authorized: ')
    ) {
      const s = this.touch(e);
      s.user = field(msg, ' user=') ?? s.user;
      s.database = field(msg, ' database=') ?? s.database;
      const app = msg.indexOf(' application_name=');
      if (app !== -1) {
        const start = app + 18;
        const ssl = msg.indexOf(' SSL ', start);
        s.application = msg.slice(start, ssl === -1 ? msg.length : ssl);
      }
      this.ctx.report('connection', e.line);
    } else if (msg.startsWith('disconnection: ')) {
      this.mark('disconnection');
      const key = this.key(e);
      const s = this.sessions.get(key);
      if (s) {
        this.close(s);
        this.sessions.delete(key);
        this.flush();
      }
      this.ctx.report('disconnection', e.line);
    } else {
      this.touchIfKnown(e);
      if (msg.startsWith('checkpoint') || msg.startsWith('restartpoint'))
        this.ctx.report('checkpoint', e.line);
      else if (msg.startsWith('parse ')) this.ctx.report('parse', e.line);
      else if (msg.startsWith('bind ')) this.ctx.report('bind', e.line);
      else this.ctx.report('other', e.line);
    }
    if (e.detail !== undefined) this.detail(e, e.detail);
  }

  /** A non-statement entry of a session: a waiting ERROR got no STATEMENT. */
  private touch(e: PgEntry): Session {
    const s = this.session(e);
    s.lastWasEvent = false;
    this.settleError(s);
    return s;
  }

  private touchIfKnown(e: PgEntry): void {
    this.step('t');
    const s = this.sessions.get(this.key(e));
    if (s) {
      s.lastWasEvent = false;
      this.settleError(s);
    }
  }

  private durationEntry(e: PgEntry, msg: string): void {
    const ms = msg.indexOf(' ms', 10);
    const durationUs = ms === -1 ? NaN : msToUs(msg.slice(10, ms));
    if (!(durationUs >= 0)) {
      this.touchIfKnown(e);
      this.ctx.report('invalid', e.line, 'malformed `duration:` message');
      return;
    }
    const rest = ms + 3;
    if (rest >= msg.length) {
      this.step(durationUs);
      const s = this.sessions.get(this.key(e));
      const open = s?.open;
      if (open && !open.emitted && open.ev.durationUs === undefined) {
        open.ev.durationUs = durationUs;
        return;
      }
      this.ctx.report('duration-only', e.line);
      return;
    }
    if (msg.startsWith('  statement: ', rest)) {
      this.mark('statement');
      this.statement(e, msg.slice(rest + 13), { durationUs });
    } else if (msg.startsWith('  execute ', rest)) {
      this.execute(e, msg, { at: rest + 10, durationUs });
    } else {
      this.touchIfKnown(e);
      if (msg.startsWith('  parse ', rest)) this.ctx.report('parse', e.line);
      else if (msg.startsWith('  bind ', rest)) this.ctx.report('bind', e.line);
      else this.ctx.report('other', e.line);
    }
  }

  private execute(
    e: PgEntry,
    msg: string,
    where: { at: number; durationUs?: number },
  ): void {
    let start = where.at;
    if (msg.startsWith('fetch from ', start)) start += 11;
    const colon = msg.indexOf(': ', start);
    if (colon === -1) {
      this.touchIfKnown(e);
      this.ctx.report('invalid', e.line, 'malformed `execute` message');
      return;
    }
    let name = msg.slice(start, colon);
    const slash = name.indexOf('/');
    if (slash !== -1) name = name.slice(0, slash);
    this.mark('statement');
    this.statement(e, msg.slice(colon + 2), {
      durationUs: where.durationUs,
      preparedName: name === '<unnamed>' || name === '' ? undefined : name,
    });
  }

  private statement(
    e: PgEntry,
    sql: string,
    extra: {
      durationUs?: number | undefined;
      preparedName?: string | undefined;
    },
  ): RawQueryEvent {
    const { durationUs, preparedName } = extra;
    const s = this.session(e);
    this.settleError(s);
    if (s.open) s.open.done = true;
    const ev: RawQueryEvent = {
      sessionId: s.id,
      sql,
      source: { file: this.ctx.file, line: e.line },
      dialect: 'postgres',
    };
    if (!Number.isNaN(e.timeUs))
      ev.startUs = durationUs === undefined ? e.timeUs : e.timeUs - durationUs;
    if (durationUs !== undefined) ev.durationUs = durationUs;
    const user = known(e.user) ?? s.user;
    if (user !== undefined) ev.user = user;
    const database = known(e.database) ?? s.database;
    if (database !== undefined) ev.database = database;
    const application = known(e.application) ?? known(s.application);
    if (application !== undefined) ev.application = application;
    const client = known(e.client) ?? s.client;
    if (client !== undefined) ev.client = client;
    if (preparedName !== undefined) ev.preparedName = preparedName;
    const txn =
      e.vxid !== undefined
        ? e.vxid === '' || e.vxid.endsWith('/0')
          ? undefined
          : e.vxid
        : e.xid === undefined || e.xid === '0' || e.xid === ''
          ? undefined
          : e.xid;
    if (txn !== undefined) ev.transactionId = txn;
    const item: Pending = { ev, session: s, done: false, emitted: false };
    this.queue.push(item);
    this.pushes++;
    s.open = item;
    s.lastWasEvent = true;
    this.flush();
    return ev;
  }

  private errorEntry(e: PgEntry): void {
    const s = this.session(e);
    this.settleError(s);
    s.lastWasEvent = false;
    const err: PgError = {
      code: e.sqlstate,
      message: e.message,
      line: e.line,
      timeUs: e.timeUs,
    };
    if (e.statement !== undefined && e.statement !== '')
      this.errorStatement(s, err, { sql: e.statement, entry: e });
    else s.error = err;
  }

  private errorStatement(
    s: Session,
    err: PgError,
    at: { sql: string; entry: PgEntry },
  ): void {
    const { sql, entry: e } = at;
    const error: { code?: string; message?: string } = {};
    if (err.code !== undefined && err.code !== '') error.code = err.code;
    error.message = err.message;
    const open = s.open;
    if (
      open &&
      !open.emitted &&
      open.ev.error === undefined &&
      open.ev.sql === sql
    ) {
      open.ev.error = error;
      return;
    }
    const ev = this.statement(
      { ...e, line: err.line, timeUs: err.timeUs },
      sql,
      {},
    );
    ev.error = error;
    s.lastWasEvent = false;
  }

  private detail(e: PgEntry, text: string): void {
    const s = this.sessions.get(this.key(e));
    if (!s?.lastWasEvent || !text.startsWith('parameters: ')) return;
    const open = s.open;
    if (!open || open.emitted || open.ev.params !== undefined) return;
    const params = parsePgParameters(text, 12);
    if (params === undefined) {
      this.ctx.report('invalid', e.line, 'malformed `parameters:` detail');
      return;
    }
    open.ev.params = params;
  }

  /** Handles a stderr line that continues the previous entry of its process (DETAIL, STATEMENT…). */
  sub(e: PgEntry): void {
    this.begin(e);
    this.subOf(e);
    this.end();
  }

  private subOf(e: PgEntry): void {
    // Range mode only (`noting`): a one-thread parse does not test every continuation line twice.
    if (this.noting !== undefined)
      this.step(
        e.severity === 'DETAIL' && e.message.startsWith('parameters: ')
          ? 'd'
          : 'q',
      );
    if (e.severity === 'DETAIL') {
      this.detail(e, e.message);
    } else if (e.severity === 'STATEMENT') {
      const s = this.sessions.get(this.key(e));
      if (s?.error) {
        const err = s.error;
        s.error = undefined;
        this.errorStatement(s, err, { sql: e.message, entry: e });
      }
    }
  }

  /** Moves finished events from the head of the queue to {@link out}. */
  private flush(): void {
    const q = this.queue;
    let h = this.head;
    if (q.length - h > this.maxPending) {
      const item = q[h];
      if (item) item.done = true;
      this.cut = true;
    }
    while (h < q.length) {
      const item = q[h] as Pending;
      if (!item.done) break;
      item.emitted = true;
      if (item.session.open === item) item.session.open = undefined;
      this.out.push(item.ev);
      h++;
    }
    if (h === q.length) {
      this.queue = [];
      h = 0;
    } else if (h > 4096 && h * 2 > q.length) {
      this.queue = q.slice(h);
      h = 0;
    }
    this.head = h;
  }

  /**
   * Ends a byte range (instead of {@link finish}): the events not out yet and the sessions, for
   * the range after it to start from, or for the caller to finish.
   */
  endRange(): PgBoundaryState {
    const tail = this.queue.slice(this.head);
    const at = new Map<Pending, number>();
    tail.forEach((p, i) => at.set(p, i));
    const sessions: PgSessionState[] = [];
    for (const [key, s] of this.sessions) {
      const st: PgSessionState = {
        key,
        id: s.id,
        open: s.open ? (at.get(s.open) ?? -1) : -1,
        lastWasEvent: s.lastWasEvent,
      };
      copyAttributes(s, st);
      if (s.error !== undefined) st.error = s.error;
      if (s.adopted !== undefined) st.adopted = s.adopted;
      sessions.push(st);
    }
    this.queue = [];
    this.head = 0;
    this.sessions.clear();
    return {
      sessions,
      tail: tail.map((p) => ({ ev: p.ev, done: p.done })),
    };
  }

  /** Ends the input: every waiting event is complete. */
  finish(): void {
    for (const s of this.sessions.values()) this.close(s);
    this.sessions.clear();
    this.flush();
  }
}
