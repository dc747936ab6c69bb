import { PG_SEVERITIES, blankPgEntry } from './pg-processor';
import type { PgLogFields } from './pg-processor';
import { parseEpochMillis, parsePgTimestamp, scan } from './time';

/**
 * A compiled `log_line_prefix`: a hand-written matcher (no regex, bounded backtracking only for
 * free-text escapes such as `%a`), filling {@link PrefixMatch}.
 * @internal
 */

type Token =
  | { k: 'lit'; text: string }
  | { k: 'q' }
  | {
      k: 'field';
      esc: string;
      padded: boolean;
      text: boolean;
      cache: TextCache;
    };

/** What a matched prefix yields. Reused between lines: copy what you keep. */
export interface PrefixMatch extends PgLogFields {
  /** Index where the message starts (after `SEVERITY:  `). */
  messageStart: number;
}

const TEXT_ESCAPES = new Set(['u', 'd', 'a', 'h', 'r', 'i', 'b', 'L', 'P']);
const KNOWN_ESCAPES = new Set([
  ...TEXT_ESCAPES,
  'm',
  't',
  's',
  'n',
  'p',
  'l',
  'x',
  'v',
  'c',
  'e',
  'Q',
]);

const MAX_TRIES = 32;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** A `log_line_prefix` compiled into a matcher. */
export class CompiledPrefix {
  readonly tokens: readonly Token[];
  readonly escapes: ReadonlySet<string>;
  /** Finest time the prefix resolves, µs (`%m`/`%n`: 1000, `%t`: 1 s); undefined without time. */
  readonly timeResolutionUs: number | undefined;
  private readonly m: PrefixMatch = { ...blankPgEntry(), messageStart: 0 };

  constructor(readonly prefix: string) {
    const tokens: Token[] = [];
    let lit = '';
    for (let i = 0; i < prefix.length; i++) {
      const ch = prefix[i] as string;
      if (ch !== '%' || i === prefix.length - 1) {
        lit += ch;
        continue;
      }
      let j = i + 1;
      let padded = false;
      while (j < prefix.length && /[-0-9]/.test(prefix[j] as string)) {
        padded = true;
        j++;
      }
      const esc = prefix[j] ?? '';
      i = j;
      if (esc === '%') {
        lit += '%';
        continue;
      }
      if (lit) tokens.push({ k: 'lit', text: lit });
      lit = '';
      if (esc === 'q') tokens.push({ k: 'q' });
      else if (KNOWN_ESCAPES.has(esc))
        tokens.push({
          k: 'field',
          esc,
          padded,
          text: padded || TEXT_ESCAPES.has(esc),
          cache: new TextCache(),
        });
      else throw new Error(`unknown log_line_prefix escape %${esc}`);
    }
    // PostgreSQL writes the severity right after the prefix; trailing spaces stay literal.
    if (lit) tokens.push({ k: 'lit', text: lit });
    this.tokens = tokens;
    this.escapes = new Set(
      tokens.flatMap((t) => (t.k === 'field' ? [t.esc] : [])),
    );
    this.timeResolutionUs =
      this.escapes.has('m') || this.escapes.has('n')
        ? 1000
        : this.escapes.has('t')
          ? 1_000_000
          : undefined;
  }

  /** Matches a line; returns the (reused) match or undefined. */
  match(line: string): PrefixMatch | undefined {
    const m = this.m;
    m.timeUs = NaN;
    m.pid = undefined;
    m.sessionKey = undefined;
    m.user = undefined;
    m.database = undefined;
    m.application = undefined;
    m.client = undefined;
    m.vxid = undefined;
    m.xid = undefined;
    m.sqlstate = undefined;
    return this.from(line, 0, 0) ? m : undefined;
  }

  /** Checks for `SEVERITY:  ` at `pos`; on success records it and the message start. */
  private severityAt(line: string, pos: number): boolean {
    let i = pos;
    const end = Math.min(line.length, pos + 10);
    while (i < end) {
      const c = line.charCodeAt(i);
      if ((c >= 65 && c <= 90) || isDigit(c)) i++;
      else break;
    }
    if (i === pos || line.charCodeAt(i) !== 58) return false;
    if (line.charCodeAt(i + 1) !== 32 || line.charCodeAt(i + 2) !== 32)
      return false;
    const word = severityWord(line, pos, i - pos);
    if (word === undefined) return false;
    this.m.severity = word;
    this.m.messageStart = i + 3;
    return true;
  }

  private from(line: string, ti: number, pos: number): boolean {
    const tokens = this.tokens;
    const m = this.m;
    for (; ti < tokens.length; ti++) {
      const t = tokens[ti] as Token;
      if (t.k === 'lit') {
        if (!line.startsWith(t.text, pos)) return false;
        pos += t.text.length;
        continue;
      }
      if (t.k === 'q') {
        if (this.severityAt(line, pos)) return true;
        continue;
      }
      const esc = t.esc;
      if (t.text) return this.text(line, ti, pos);
      switch (esc) {
        case 'm':
        case 't': {
          const us = parsePgTimestamp(line, pos);
          if (Number.isNaN(us)) return false;
          m.timeUs = us;
          pos = scan.end;
          break;
        }
        case 's': {
          if (Number.isNaN(parsePgTimestamp(line, pos))) return false;
          pos = scan.end;
          break;
        }
        case 'n': {
          const us = parseEpochMillis(line, pos);
          if (Number.isNaN(us)) return false;
          m.timeUs = us;
          pos = scan.end;
          break;
        }
        case 'p':
        case 'l':
        case 'x': {
          const start = pos;
          while (isDigit(line.charCodeAt(pos))) pos++;
          if (pos === start) return false;
          if (esc === 'p') m.pid = this.pidText.take(line, start, pos);
          else if (esc === 'x') m.xid = line.slice(start, pos);
          break;
        }
        case 'Q': {
          const start = pos;
          if (line.charCodeAt(pos) === 45) pos++;
          while (isDigit(line.charCodeAt(pos))) pos++;
          if (pos === start) return false;
          break;
        }
        case 'v': {
          // `backendId/localXid`, empty for processes without one.
          const start = pos;
          while (isDigit(line.charCodeAt(pos))) pos++;
          if (pos > start) {
            if (line.charCodeAt(pos) !== 47) return false;
            pos++;
            const s2 = pos;
            while (isDigit(line.charCodeAt(pos))) pos++;
            if (pos === s2) return false;
            m.vxid = line.slice(start, pos);
          }
          break;
        }
        case 'c': {
          const start = pos;
          while (isHex(line.charCodeAt(pos))) pos++;
          if (pos === start || line.charCodeAt(pos) !== 46) return false;
          pos++;
          const s2 = pos;
          while (isHex(line.charCodeAt(pos))) pos++;
          if (pos === s2) return false;
          m.sessionKey = line.slice(start, pos);
          break;
        }
        case 'e': {
          for (let k = 0; k < 5; k++) {
            const c = line.charCodeAt(pos + k);
            if (!((c >= 65 && c <= 90) || isDigit(c))) return false;
          }
          m.sqlstate = line.slice(pos, pos + 5);
          pos += 5;
          break;
        }
        default:
          return false;
      }
    }
    return this.severityAt(line, pos);
  }

  /** A free-text escape: try each place the following literal occurs (bounded). */
  private text(line: string, ti: number, pos: number): boolean {
    const t = this.tokens[ti] as Token & { k: 'field' };
    const next = this.tokens[ti + 1];
    if (next?.k === 'lit') {
      let k = line.indexOf(next.text, pos);
      for (let tries = 0; k !== -1 && tries < MAX_TRIES; tries++) {
        this.setText(t.esc, t.cache.take(line, pos, k), t.padded);
        if (this.from(line, ti + 1, k)) return true;
        k = line.indexOf(next.text, k + 1);
      }
      return false;
    }
    // Last token (or followed by %q / another escape): the severity ends the text.
    let k = line.indexOf(':  ', pos);
    for (let tries = 0; k !== -1 && tries < MAX_TRIES; tries++) {
      let w = k;
      while (w > pos) {
        const c = line.charCodeAt(w - 1);
        if ((c >= 65 && c <= 90) || isDigit(c)) w--;
        else break;
      }
      for (let at = w; at < k; at++) {
        this.setText(t.esc, line.slice(pos, at), t.padded);
        if (this.from(line, ti + 1, at)) return true;
      }
      k = line.indexOf(':  ', k + 1);
    }
    return false;
  }

  // Last values of the escapes: most lines repeat them, so reuse the strings.
  private readonly pidText = new TextCache();

  private setText(esc: string, value: string, padded: boolean): void {
    const v = padded ? value.trim() : value;
    const m = this.m;
    switch (esc) {
      case 'u':
        m.user = v;
        break;
      case 'd':
        m.database = v;
        break;
      case 'a':
        m.application = v;
        break;
      case 'h':
        m.client ??= v;
        break;
      case 'r': {
        // host(port) → host:port
        const p = v.lastIndexOf('(');
        m.client =
          p > 0 && v.endsWith(')')
            ? `${v.slice(0, p)}:${v.slice(p + 1, -1)}`
            : v;
        break;
      }
      case 'p':
        m.pid = v;
        break;
      case 'c':
        m.sessionKey = v;
        break;
      case 'x':
        m.xid = v;
        break;
      case 'v':
        m.vxid = v;
        break;
      default:
        break;
    }
  }
}

const SEVERITIES_BY_LENGTH: string[][] = [];
for (const w of PG_SEVERITIES) (SEVERITIES_BY_LENGTH[w.length] ??= []).push(w);

/** The severity word at `pos` (without allocating), or undefined. */
function severityWord(
  line: string,
  pos: number,
  len: number,
): string | undefined {
  const list = SEVERITIES_BY_LENGTH[len];
  if (!list) return undefined;
  for (const w of list) if (line.startsWith(w, pos)) return w;
  return undefined;
}

/** Hands out `line.slice(start, end)`, or the previous string when it is the same text. */
class TextCache {
  private last: string | undefined;

  take(line: string, start: number, end: number): string {
    const prev = this.last;
    if (
      prev !== undefined &&
      prev.length === end - start &&
      line.startsWith(prev, start)
    )
      return prev;
    const v = line.slice(start, end);
    this.last = v;
    return v;
  }
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102);
}

/**
 * `log_line_prefix` values tried when none is given, most specific first: PostgreSQL's default,
 * Debian's, pgBadger's recommended ones, RDS/Aurora's, and common ones with `%c`/`%x`/`%v`.
 */
export const COMMON_PG_PREFIXES: readonly string[] = [
  // Heroku Postgres (heroku/cli#2992), Cloud SQL and AlloyDB (pgBadger #699), Azure flexible
  // server's default (pgBadger #642).
  ' sql_error_code = %e time_ms = "%m" pid="%p" proc_start_time="%s" session_id="%c" vtid="%v" tid="%x" log_line="%l" database="%d" connection_source="%r" user="%u" application_name="%a" ',
  '%m [%p]: [%l-1] db=%d,user=%u ',
  '%t-%c-',
  '%m [%p] %q%u@%d/%a ',
  '%m [%p] %q%u@%d ',
  '%m [%p] ',
  '%t [%p] ',
  '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ',
  '%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ',
  '%t [%p]: [%l-1] user=%u,db=%d ',
  '%t [%p]: [%l-1] db=%d,user=%u ',
  '%t [%p]: [%l-1] ',
  '%m [%p]: [%l-1] ',
  '%t [%p]: user=%u,db=%d,app=%a,client=%h ',
  '%t [%p-%l] %q%u@%d ',
  '%m [%p-%l] %q%u@%d ',
  '%t:%r:%u@%d:[%p]:',
  '%m:%r:%u@%d:[%p]:',
  '%m [%p] %c %x %v %q%u@%d/%a ',
  '%m [%p] [%c] [%x] %q%u@%d/%a ',
  '%m [%c] [%x] [%v] %q%u@%d ',
  '%m [%p] %c ',
  '%m %c %x ',
  '%m [%p] [%c] ',
  '%m [%p] %x ',
  '%m [%p] %v ',
  '%t [%p] %q%u@%d ',
  '%n [%p] ',
  '%m ',
  '%t ',
];

let compiledCommon: CompiledPrefix[] | undefined;

/** Compiles the common prefixes once. */
export function commonPrefixes(): CompiledPrefix[] {
  compiledCommon ??= COMMON_PG_PREFIXES.map((p) => new CompiledPrefix(p));
  return compiledCommon;
}

/**
 * Picks the prefix that matches most lines of a sample (continuation lines excluded). Ties go to
 * the prefix listed first (the more specific). Returns the prefix and the share of lines matched.
 */
export function detectPgPrefix(
  sample: readonly string[],
  candidates: readonly CompiledPrefix[] = commonPrefixes(),
): { prefix: CompiledPrefix; score: number } | undefined {
  const lines = sample.filter((l) => l.length > 0 && l.charCodeAt(0) !== 9);
  if (lines.length === 0) return undefined;
  let best: { prefix: CompiledPrefix; score: number } | undefined;
  for (const p of candidates) {
    let n = 0;
    for (const l of lines) if (p.match(l)) n++;
    const score = n / lines.length;
    if (n > 0 && (!best || score > best.score)) best = { prefix: p, score };
  }
  return best;
}
