/**
 * Timestamp and date text: parse to epoch µs / day numbers and render back in the same shape.
 * A format descriptor is `<sep>|<fraction digits>|<zone suffix>`, e.g. ` |6|+00` for PostgreSQL's
 * `2024-05-01 12:00:00.123456+00` or `T|3|Z` for ISO-8601.
 */
import {
  daysFromCivil,
  parseTimestampLiteral,
  parseZoneOffsetMinutes,
} from '@stb/core';

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Parses a timestamp literal; undefined when it has an unknown shape. */
export function parseTimestamp(
  text: string,
): { epochUs: number; format: string } | undefined {
  const t = parseTimestampLiteral(text);
  if (!t) return undefined;
  return {
    epochUs: t.epochUs,
    format: `${t.separator}|${t.fractionDigits}|${t.zone}`,
  };
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

/** Renders epoch µs in a format descriptor (zones other than UTC are written as the suffix, in UTC+offset). */
export function formatTimestamp(epochUs: number, format: string): string {
  const [sep = ' ', fracText = '0', zone = ''] = format.split('|');
  const fracDigits = Number(fracText);
  const offsetMin = zone === '' ? 0 : (parseZoneOffsetMinutes(zone) ?? 0);
  const localUs = Math.round(epochUs) + offsetMin * 60_000_000;
  const ms = Math.floor(localUs / 1000);
  const d = new Date(ms);
  const us = localUs - Math.floor(localUs / 1_000_000) * 1_000_000;
  let text = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}${sep}${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  if (fracDigits > 0)
    text += `.${pad(us, 6).padEnd(9, '0').slice(0, fracDigits)}`;
  return text + zone;
}

/** Day number (days since 1970-01-01) of a `YYYY-MM-DD` date, or undefined. */
export function parseDateDays(text: string): number | undefined {
  const m = DATE_RE.exec(text);
  if (!m) return undefined;
  return daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** `YYYY-MM-DD` of a day number. */
export function formatDateDays(days: number): string {
  const d = new Date(Math.round(days) * DAY_MS);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

/** Day number of an epoch-µs instant (UTC). */
export function daysOfEpochUs(epochUs: number): number {
  return Math.floor(epochUs / 1000 / DAY_MS);
}
