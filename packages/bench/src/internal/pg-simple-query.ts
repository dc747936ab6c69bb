import { compileSqlTemplate } from '@stb/core';
import type { ParamValue } from '@stb/core';

/**
 * Integers as decimal digits written straight into a buffer, and the simple-protocol Query
 * message built that way (issue 16): the `pg-lean` plugin's Bind parameters and, for a statement
 * whose parameters are all safe integers, its whole inlined Query without the SQL text in between.
 */

/** Decimal digits of a non-negative safe integer. */
function digitCount(v: number): number {
  let d = 1;
  while (v >= 10) {
    v = Math.floor(v / 10);
    d++;
  }
  return d;
}

/** Writes a safe integer's decimal text (`String(v)`'s bytes) so that it ends just before `b[end]`. */
export function writeSafeIntBefore(b: Buffer, end: number, v: number): void {
  let i = end;
  let x = v < 0 ? -v : v;
  do {
    b[--i] = 48 + (x % 10);
    x = Math.floor(x / 10);
  } while (x > 0);
  if (v < 0) b[i - 1] = 45;
}

/** Byte length of a safe integer's decimal text. */
export const safeIntLength = (v: number): number =>
  v < 0 ? 1 + digitCount(-v) : digitCount(v);

/**
 * A template's Query message in pieces (simple protocol): the text around each placeholder as
 * UTF-8 bytes, so a call with integer parameters writes its message without building the SQL
 * text first (issue 16: the TPC-B closed loop's statements).
 */
export interface SimpleQueryShape {
  /** The text between placeholders (`parts[0] $slots[0] parts[1] …`), UTF-8. */
  readonly parts: readonly Buffer[];
  /** Bytes of all parts together. */
  readonly partsLength: number;
  /** 0-based parameter index of each placeholder. */
  readonly slots: readonly number[];
  /** Per placeholder: an operator precedes it (a negative number then may need a space). */
  readonly afterOperator: readonly boolean[];
}

/** Splits a PostgreSQL `$n` template for {@link encodeSimpleQuery}. */
export function simpleQueryShape(text: string): SimpleQueryShape {
  const t = compileSqlTemplate(text, 'postgres');
  const parts = t.parts.map((x) => Buffer.from(x, 'utf8'));
  let partsLength = 0;
  for (const b of parts) partsLength += b.length;
  return {
    parts,
    partsLength,
    slots: t.slots,
    afterOperator: t.afterOperator,
  };
}

/**
 * Bytes of `shape`'s text with `params` inlined by {@link writeSimpleQueryText} (at most: a
 * negative number may take a space it does not need), or -1 unless every placeholder's parameter
 * is a safe integer (`int`, or `float` with an integer value): the caller then renders the text.
 */
export function simpleQueryTextLength(
  shape: SimpleQueryShape,
  params: readonly ParamValue[],
): number {
  const { slots } = shape;
  const n = slots.length;
  let size = shape.partsLength;
  for (let k = 0; k < n; k++) {
    const p = params[slots[k] as number];
    if (p === undefined || (p.t !== 'int' && p.t !== 'float')) return -1;
    const v = p.v;
    if (!Number.isSafeInteger(v)) return -1;
    // a negative number may take one more byte (a space)
    size += v < 0 ? 2 + digitCount(-v) : digitCount(v);
  }
  return size;
}

/** Where {@link writeSimpleQueryText} writes: a buffer and the offset it advances. */
export interface ByteCursor {
  readonly buf: Buffer;
  o: number;
}

/**
 * Writes `shape`'s text with `params` inlined at `at.o` (room for {@link simpleQueryTextLength}
 * bytes, which must not be -1) and moves `at.o` past it: the same bytes as core's
 * `renderSqlTemplate(…, 'postgres')` (integers as their decimal digits, `-0` as `0`; a negative
 * number right after an operator gets a space unless a space or `(` precedes it).
 */
export function writeSimpleQueryText(
  shape: SimpleQueryShape,
  params: readonly ParamValue[],
  at: ByteCursor,
): void {
  const { parts, slots, afterOperator } = shape;
  const n = slots.length;
  const b = at.buf;
  const start = at.o;
  let o = start;
  let part = parts[0] as Buffer;
  b.set(part, o);
  o += part.length;
  for (let k = 0; k < n; k++) {
    const v = (params[slots[k] as number] as { v: number }).v;
    // `a-$1` with -5 must not become the comment `a--5` (as renderSqlTemplate writes it)
    if (v < 0 && afterOperator[k] === true) {
      const before = o > start ? b[o - 1] : -1;
      if (before !== 32 && before !== 40) b[o++] = 32;
    }
    // `-0` is not below 0: it comes out as `0`, as String(-0)
    o += safeIntLength(v);
    writeSafeIntBefore(b, o, v);
    part = parts[k + 1] as Buffer;
    b.set(part, o);
    o += part.length;
  }
  at.o = o;
}

/**
 * The Query message of `shape` with `params` inlined, written straight into one buffer
 * ({@link writeSimpleQueryText} after the message's header): null unless every parameter is a
 * safe integer (see {@link simpleQueryTextLength}).
 */
export function encodeSimpleQuery(
  shape: SimpleQueryShape,
  params: readonly ParamValue[],
): Buffer | null {
  const size = simpleQueryTextLength(shape, params);
  if (size < 0) return null;
  const b = Buffer.allocUnsafe(1 + 4 + size + 1);
  b[0] = 81;
  const at = { buf: b, o: 5 };
  writeSimpleQueryText(shape, params, at);
  let o = at.o;
  b[o++] = 0;
  b.writeInt32BE(o - 1, 1);
  return o === b.length ? b : b.subarray(0, o);
}

/**
 * A parameter's text (or, for a Buffer, binary) form, as `pg` sends it: the parameters of the
 * `pg-lean` and `pg-native` plugins.
 */
export function paramBytes(v: unknown): Buffer | string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}
