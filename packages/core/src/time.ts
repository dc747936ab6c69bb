/**
 * Timestamp text → epoch µs without Date objects or regular expressions, shared by the log
 * parsers (hot path) and the parameter models.
 */

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`). Out-of-range
 * days roll over (`2024-02-30` is `2024-03-01`), as `Date.UTC` does.
 * @example
 * daysFromCivil(2024, 5, 1); // 19844
 */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = m > 2 ? m - 3 : m + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * Minutes east of UTC of a numeric zone suffix: `Z`, `±HH`, `±HHMM` or `±HH:MM` (e.g. `+05:30` is
 * 330, `-08` is -480); undefined for anything else (zone names are the caller's business).
 * @example
 * parseZoneOffsetMinutes('-0330'); // -210
 */
export function parseZoneOffsetMinutes(zone: string): number | undefined {
  const n = zone.length;
  if (n === 1) return zone === 'Z' ? 0 : undefined;
  const c = zone.charCodeAt(0);
  if ((c !== 43 && c !== 45) || (n !== 3 && n !== 5 && n !== 6))
    return undefined; // + -
  const h = two(zone, 1);
  let m = 0;
  if (n === 5) m = two(zone, 3);
  else if (n === 6) {
    if (zone.charCodeAt(3) !== 58) return undefined; // :
    m = two(zone, 4);
  }
  if (h < 0 || m < 0) return undefined;
  return (c === 45 ? -1 : 1) * (h * 60 + m);
}

/** Where a `parse*` function of this module stopped reading (set on success). */
export interface TimeScan {
  end: number;
}

function digit(s: string, i: number): number {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -1000000;
}

function two(s: string, i: number): number {
  return digit(s, i) * 10 + digit(s, i + 1);
}

// The last date seen: log lines mostly share it, so its day number is computed once.
let lastDateKey = '';
let lastDateDays = 0;

/**
 * Parses `YYYY-MM-DD HH:MM:SS[.fff…]` (or with `T`) at `pos` into epoch µs of the wall clock (no
 * zone applied): fraction digits beyond the sixth round to the nearest µs. Sets `scan.end` after
 * the last fraction digit. NaN when the text is not such a timestamp (month 1–12, day 1–31, hour
 * ≤ 24, minute ≤ 59, second ≤ 60).
 * @example
 * const scan = { end: 0 };
 * parseWallClockUs('at 2024-05-01 12:00:00.5 UTC', 3, scan); // 1714564800500000, scan.end = 24
 */
export function parseWallClockUs(
  s: string,
  pos: number,
  scan: TimeScan,
): number {
  if (s.length < pos + 19) return NaN;
  if (
    s.charCodeAt(pos + 4) !== 45 ||
    s.charCodeAt(pos + 7) !== 45 ||
    s.charCodeAt(pos + 13) !== 58 ||
    s.charCodeAt(pos + 16) !== 58
  )
    return NaN;
  const sep = s.charCodeAt(pos + 10);
  if (sep !== 32 && sep !== 84) return NaN;
  let days: number;
  if (lastDateKey !== '' && s.startsWith(lastDateKey, pos)) days = lastDateDays;
  else {
    const y = two(s, pos) * 100 + two(s, pos + 2);
    const mo = two(s, pos + 5);
    const d = two(s, pos + 8);
    if (!(y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31)) return NaN;
    days = daysFromCivil(y, mo, d);
    lastDateKey = s.slice(pos, pos + 10);
    lastDateDays = days;
  }
  const h = two(s, pos + 11);
  const mi = two(s, pos + 14);
  const sec = two(s, pos + 17);
  if (!(h >= 0 && h <= 24 && mi >= 0 && mi <= 59 && sec >= 0 && sec <= 60))
    return NaN;
  let us = ((days * 24 + h) * 60 + mi) * 60 + sec;
  us *= 1_000_000;
  let i = pos + 19;
  if (s.charCodeAt(i) === 46) {
    i++;
    let frac = 0;
    let scale = 100000;
    for (;;) {
      const dd = s.charCodeAt(i) - 48;
      if (!(dd >= 0 && dd <= 9)) break;
      frac += dd * scale;
      scale /= 10;
      i++;
    }
    us += Math.round(frac);
  }
  scan.end = i;
  return us;
}

/** A timestamp literal read by {@link parseTimestampLiteral}, with its shape for writing it back. */
export interface TimestampLiteral {
  /** The instant, epoch µs (the zone applied; no zone = UTC). */
  epochUs: number;
  /** Date/time separator. */
  separator: ' ' | 'T';
  /** Fraction digits written (0–9). */
  fractionDigits: number;
  /** The zone suffix as written (`''`, `Z`, `+00`, `-05:30` …). */
  zone: string;
  /** Minutes east of UTC of `zone` (0 without one). */
  offsetMinutes: number;
}

/**
 * Parses a whole timestamp literal `YYYY-MM-DD[ T]HH:MM:SS[.f{1,9}][Z|±HH[[:]MM]]` (PostgreSQL's
 * `timestamptz` output, ISO-8601) into epoch µs and its shape; undefined for any other text.
 * @example
 * parseTimestampLiteral('2024-05-01 12:00:00.123+02')?.epochUs; // 1714557600123000
 */
export function parseTimestampLiteral(
  text: string,
): TimestampLiteral | undefined {
  const scan = { end: 0 };
  const wall = parseWallClockUs(text, 0, scan);
  if (Number.isNaN(wall)) return undefined;
  const end = scan.end;
  let fractionDigits = 0;
  if (end > 19) {
    fractionDigits = end - 20;
    if (fractionDigits < 1 || fractionDigits > 9) return undefined;
  }
  const zone = end === text.length ? '' : text.slice(end);
  const offsetMinutes = zone === '' ? 0 : parseZoneOffsetMinutes(zone);
  if (offsetMinutes === undefined) return undefined;
  return {
    epochUs: wall - offsetMinutes * 60_000_000,
    separator: text.charCodeAt(10) === 84 ? 'T' : ' ',
    fractionDigits,
    zone,
    offsetMinutes,
  };
}

/** Largest correction {@link clampDerivedStart} makes, µs (1 s). */
export const MAX_START_CLAMP_US = 1_000_000;

/**
 * A statement's start derived from a log that stamps statement ends (start = stamp − duration):
 * when the stamp is coarser than the duration (milliseconds), it can fall before the session's
 * previous statement ended. It is moved to that end (by at most {@link MAX_START_CLAMP_US}), so
 * think times are never negative and the session's order holds. The extractor applies it to the
 * logs it reads; the validator applies it to a finer trace it stamps as such a server would.
 */
export function clampDerivedStart(
  startUs: number,
  prevEndUs: number | undefined,
): number {
  return prevEndUs !== undefined &&
    startUs < prevEndUs &&
    prevEndUs - startUs <= MAX_START_CLAMP_US
    ? prevEndUs
    : startUs;
}
