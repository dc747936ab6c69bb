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

interface PgError {
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
}

/** Options of {@link PgProcessor}. */
export interface PgProcessorOptions {
  /** Events held for follow-up lines before being forced out (bounds memory). */
  maxPending?: number;
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

  constructor(
    private readonly ctx: LogFormatContext,
    options: PgProcessorOptions = {},
  ) {
    this.maxPending = options.maxPending ?? 10_000;
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
    return this.sessions.get(key) ?? this.newSession(e, key);
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
    const sev = e.severity;
    if (sev === 'ERROR' || sev === 'FATAL' || sev === 'PANIC') {
      this.errorEntry(e);
      return;
    }
    const msg = e.message;
    if (msg.startsWith('statement: ')) {
      this.statement(e, msg.slice(11), {});
    } else if (msg.startsWith('duration: ')) {
      this.durationEntry(e, msg);
    } else if (msg.startsWith('execute ')) {
      this.execute(e, msg, { at: 8 });
    } else if (msg.startsWith('connection received: ')) {
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

  /** Ends the input: every waiting event is complete. */
  finish(): void {
    for (const s of this.sessions.values()) this.close(s);
    this.sessions.clear();
    this.flush();
  }
}
