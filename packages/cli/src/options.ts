import { MAX_LINE_LENGTH } from '@stb/core';
import { InvalidArgumentError } from 'commander';

/**
 * Option-argument parsers for commander (`.option('-n, --count <n>', '…', parseCount)`).
 * They throw commander's `InvalidArgumentError`, which the program reports as a usage error
 * (exit code 2).
 */

const DURATION_UNITS_US: Readonly<Record<string, number>> = {
  us: 1,
  µs: 1,
  ms: 1_000,
  s: 1_000_000,
  m: 60_000_000,
  min: 60_000_000,
  h: 3_600_000_000,
  d: 86_400_000_000,
};

/** `60s`, `5m`, `1.5h`, `250ms`, `90` (seconds) → integer microseconds (> 0). */
export function parseDurationUs(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zµ]*)\s*$/i.exec(value);
  const unit = (m?.[2] ?? '').toLowerCase() || 's';
  const factor = DURATION_UNITS_US[unit];
  if (!m || factor === undefined)
    throw new InvalidArgumentError(
      `Expected a duration like 60s, 5m, 1.5h or 250ms, got \`${value}\`.`,
    );
  const us = Math.round(Number(m[1]) * factor);
  if (!(us > 0))
    throw new InvalidArgumentError(
      `Expected a duration above zero, got \`${value}\`.`,
    );
  return us;
}

/** A positive integer (accepts `1e6`, `1_000_000` and `1,000,000`). */
export function parsePositiveInt(value: string): number {
  const n = Number(value.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new InvalidArgumentError(
      `Expected a positive integer, got \`${value}\`.`,
    );
  return n;
}

/** `--max-line-length`: a positive integer up to core's `MAX_LINE_LENGTH` (V8's longest string). */
export function parseLineLength(value: string): number {
  const n = parsePositiveInt(value);
  if (n > MAX_LINE_LENGTH)
    throw new InvalidArgumentError(
      `Expected at most ${MAX_LINE_LENGTH} (the longest string Node.js holds), got \`${value}\`.`,
    );
  return n;
}

/** A non-negative integer. */
export function parseNonNegativeInt(value: string): number {
  const n = Number(value.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError(
      `Expected a non-negative integer, got \`${value}\`.`,
    );
  return n;
}

/**
 * A UTC offset: `Z`, `UTC`, `+02:00`, `-0530`, `+02`; at most 14 hours, minutes below 60 (the
 * real range of zones). `+99:99` is refused instead of shifting every time by four days.
 */
export function parseUtcOffset(value: string): string {
  const v = value.trim();
  if (v === 'Z' || v.toUpperCase() === 'UTC') return v;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(v);
  const h = Number(m?.[2]);
  const min = Number(m?.[3] ?? 0);
  if (!m || h > 14 || min > 59 || (h === 14 && min > 0))
    throw new InvalidArgumentError(
      `Expected a UTC offset from -14:00 to +14:00 such as +02:00 or -05:30, got \`${value}\`.`,
    );
  return v;
}

/**
 * A share of lines: `5%`, `0.05`, `0` or `100%` → a fraction in [0, 1].
 */
export function parseShare(value: string): number {
  const v = value.trim();
  const pct = v.endsWith('%');
  const n = Number(pct ? v.slice(0, -1) : v);
  const share = pct ? n / 100 : n;
  if (
    v === '' ||
    v === '%' ||
    !Number.isFinite(share) ||
    share < 0 ||
    share > 1
  )
    throw new InvalidArgumentError(
      `Expected a share such as 5% or 0.05 (from 0 to 100%), got \`${value}\`.`,
    );
  return share;
}

/** A finite number within `[min, max]` (`min` excluded with `minExclusive`), with the bounds in the message. */
export function parseBoundedNumber(
  value: string,
  bounds: { min: number; max: number; minExclusive?: boolean },
): number {
  const n = Number(value);
  const { min, max, minExclusive = false } = bounds;
  const low = minExclusive ? n > min : n >= min;
  if (value.trim() === '' || !Number.isFinite(n) || !low || n > max)
    throw new InvalidArgumentError(
      `Expected a number ${minExclusive ? `above ${min}` : `from ${min}`} to ${max}, got \`${value}\`.`,
    );
  return n;
}

/** A TCP port: 0 (any free port) to 65535. */
export function parsePort(value: string): number {
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(
      `Expected a port from 0 (any free port) to 65535, got \`${value}\`.`,
    );
  return n;
}

/** A finite number above zero. */
export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(
      `Expected a number above zero, got \`${value}\`.`,
    );
  return n;
}

/** A seed: an integer (any size; folded to 32 bits by core's `toSeed`). */
export function parseSeed(value: string): number {
  if (!/^-?\d+$/.test(value.trim()))
    throw new InvalidArgumentError(
      `Expected an integer seed, got \`${value}\`.`,
    );
  const n = Number(value);
  if (!Number.isSafeInteger(n))
    throw new InvalidArgumentError(
      `Seed \`${value}\` is beyond ±2^53; pass a smaller integer.`,
    );
  return n;
}

/** An ISO-8601 time (`2024-05-01T12:00:00Z`) or epoch µs → epoch µs. */
export function parseStartUs(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new InvalidArgumentError(
      `Expected an ISO-8601 time such as 2024-05-01T12:00:00Z, got \`${value}\`.`,
    );
  const frac = /\.(\d{4,6})/.exec(value)?.[1];
  const extraUs = frac ? Number(frac.padEnd(6, '0').slice(3)) : 0;
  return ms * 1000 + extraUs;
}

/** Collects a repeatable option into an array (`-i a -i b`). */
export function collect(
  value: string,
  previous: string[] | undefined,
): string[] {
  return [...(previous ?? []), value];
}

/** `--shard i/n`: 0 ≤ i < n. */
export function parseShard(value: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count)
    throw new InvalidArgumentError(
      `Expected a shard \`i/n\` with 0 ≤ i < n (e.g. 0/4), got \`${value}\`.`,
    );
  return { index, count };
}
