/**
 * Fast timestamp parsing for log lines (no Date objects, no regex): civil date → epoch µs. The
 * date arithmetic and numeric zone offsets are `@stb/core`'s; PostgreSQL's zone names are here.
 * @internal
 */
import { parseWallClockUs, parseZoneOffsetMinutes } from '@stb/core';

export { daysFromCivil } from '@stb/core';

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
  const minutes = parseZoneOffsetMinutes(zone);
  return minutes === undefined ? undefined : minutes * 60;
}

/** Parses a numeric offset option such as `+02:00` (seconds east of UTC). */
export function parseUtcOffset(offset: string): number | undefined {
  if (offset === 'Z' || offset === 'UTC') return 0;
  return zoneOffsetSeconds(offset);
}

/** Scratch output of the `parse*` functions: where the parsed text ended. */
export const scan = { end: 0 };

let lastZone = '\u0000';
let lastZoneOffset = 0;

/**
 * Parses a PostgreSQL `%m`/`%t`/csvlog/jsonlog timestamp `YYYY-MM-DD HH:MM:SS[.fff] ZONE` at
 * `pos` into epoch µs. Sets {@link scan}.end after the zone. NaN when malformed or the zone is
 * unknown.
 */
export function parsePgTimestamp(s: string, pos: number): number {
  const wall = parseWallClockUs(s, pos, scan);
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
