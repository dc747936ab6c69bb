/**
 * Fast timestamp parsing for log lines (no Date objects, no regex): civil date → epoch µs.
 * @internal
 */

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = m > 2 ? m - 3 : m + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Offsets (seconds east of UTC) of time zone abbreviations PostgreSQL prints with `%Z`. */
const ZONE_OFFSETS: Record<string, number> = {
  UTC: 0,
  UCT: 0,
  GMT: 0,
  Z: 0,
  WET: 0,
  WEST: 3600,
  BST: 3600,
  CET: 3600,
  CEST: 7200,
  MET: 3600,
  MEST: 7200,
  EET: 7200,
  EEST: 10800,
  MSK: 10800,
  SAST: 7200,
  IST: 19800,
  PKT: 18000,
  WIB: 25200,
  ICT: 25200,
  HKT: 28800,
  SGT: 28800,
  AWST: 28800,
  JST: 32400,
  KST: 32400,
  ACST: 34200,
  ACDT: 37800,
  AEST: 36000,
  AEDT: 39600,
  NZST: 43200,
  NZDT: 46800,
  EST: -18000,
  EDT: -14400,
  CST: -21600,
  CDT: -18000,
  MST: -25200,
  MDT: -21600,
  PST: -28800,
  PDT: -25200,
  AKST: -32400,
  AKDT: -28800,
  HST: -36000,
  BRT: -10800,
  ART: -10800,
};

/**
 * Offset in seconds of a zone written as an abbreviation (`UTC`, `CEST`) or a numeric offset
 * (`+03`, `-0530`, `+05:30`); undefined when unknown.
 */
export function zoneOffsetSeconds(zone: string): number | undefined {
  const known = ZONE_OFFSETS[zone];
  if (known !== undefined) return known;
  const c = zone.charCodeAt(0);
  if (c !== 43 && c !== 45) return undefined; // + -
  const digits = zone.slice(1).replace(':', '');
  if (!/^\d{2}(\d{2})?$/.test(digits)) return undefined;
  const h = Number(digits.slice(0, 2));
  const m = digits.length === 4 ? Number(digits.slice(2)) : 0;
  const sign = c === 45 ? -1 : 1;
  return sign * (h * 3600 + m * 60);
}

/** Parses a numeric offset option such as `+02:00` (seconds east of UTC). */
export function parseUtcOffset(offset: string): number | undefined {
  if (offset === 'Z' || offset === 'UTC') return 0;
  return zoneOffsetSeconds(offset);
}

function digit(s: string, i: number): number {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -1000000;
}

function two(s: string, i: number): number {
  return digit(s, i) * 10 + digit(s, i + 1);
}

/** Scratch output of the `parse*` functions: where the parsed text ended. */
export const scan = { end: 0 };

let lastDateKey = '';
let lastZone = '\u0000';
let lastZoneOffset = 0;
let lastDateDays = 0;

/**
 * Parses `YYYY-MM-DD HH:MM:SS[.ffffff]` (or with `T`) at `pos` into epoch µs of the wall clock
 * (no zone applied). Sets {@link scan}.end. Returns NaN when the text is not such a timestamp.
 */
export function parseWallClock(s: string, pos: number): number {
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
    const key = s.slice(pos, pos + 10);
    const y = two(s, pos) * 100 + two(s, pos + 2);
    const mo = two(s, pos + 5);
    const d = two(s, pos + 8);
    if (!(y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31)) return NaN;
    days = daysFromCivil(y, mo, d);
    lastDateKey = key;
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

/**
 * Parses a PostgreSQL `%m`/`%t`/csvlog/jsonlog timestamp `YYYY-MM-DD HH:MM:SS[.fff] ZONE` at
 * `pos` into epoch µs. Sets {@link scan}.end after the zone. NaN when malformed or the zone is
 * unknown.
 */
export function parsePgTimestamp(s: string, pos: number): number {
  const wall = parseWallClock(s, pos);
  if (Number.isNaN(wall)) return NaN;
  let i = scan.end;
  if (s.charCodeAt(i) !== 32) return NaN;
  i++;
  let j = i;
  const c0 = s.charCodeAt(i);
  if (c0 === 43 || c0 === 45) {
    // numeric offset: +03, -0530, +05:30
    j++;
    while (j < s.length && j - i <= 6) {
      const c = s.charCodeAt(j);
      if ((c >= 48 && c <= 57) || (c === 58 && j - i === 3)) j++;
      else break;
    }
  } else {
    for (;;) {
      const c = s.charCodeAt(j) | 32;
      if (c >= 97 && c <= 122) j++;
      else break;
    }
  }
  let off: number | undefined;
  if (j - i === lastZone.length && s.startsWith(lastZone, i))
    off = lastZoneOffset;
  else {
    const zone = s.slice(i, j);
    off = zoneOffsetSeconds(zone);
    if (off === undefined) return NaN;
    lastZone = zone;
    lastZoneOffset = off;
  }
  scan.end = j;
  return wall - off * 1_000_000;
}

/** Parses `1700000000.123` (PostgreSQL `%n`) at `pos` into epoch µs. */
export function parseEpochMillis(s: string, pos: number): number {
  let i = pos;
  let secs = 0;
  while (i < s.length) {
    const d = s.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) break;
    secs = secs * 10 + d;
    i++;
  }
  if (i === pos) return NaN;
  let us = secs * 1_000_000;
  if (s.charCodeAt(i) === 46) {
    i++;
    let scale = 100000;
    for (;;) {
      const d = s.charCodeAt(i) - 48;
      if (!(d >= 0 && d <= 9)) break;
      us += d * scale;
      scale /= 10;
      i++;
    }
  }
  scan.end = i;
  return Math.round(us);
}

/** ISO-8601 text of an epoch µs value (UTC), used in session ids. */
export function isoFromUs(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString();
}

/** Parses a duration in milliseconds written as `0.123` into whole µs. */
export function msToUs(text: string): number {
  return Math.round(Number(text) * 1000);
}
