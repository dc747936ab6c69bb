import type { ParamValue } from '@stb/core';
import { fmix32 } from '@stb/core';

// Two independent 32-bit hash states (FNV-1a and a murmur-style multiply), reused across calls so
// hashing an event allocates nothing.
let h1 = 0;
let h2 = 0;
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function mixInt(x: number): void {
  h1 = Math.imul(h1 ^ x, 0x01000193);
  h2 = Math.imul(h2 ^ x, 0x5bd1e995);
  h2 ^= h2 >>> 15;
}

function mixString(s: string): void {
  for (let i = 0; i < s.length; i++) mixInt(s.charCodeAt(i));
  mixInt(s.length);
}

function mixNumber(v: number): void {
  f64[0] = v;
  mixInt(u32[0] as number);
  mixInt(u32[1] as number);
}

function mixParam(p: ParamValue): void {
  switch (p.t) {
    case 'int':
      mixInt(1);
      mixNumber(p.v);
      return;
    case 'float':
      mixInt(2);
      mixNumber(p.v);
      return;
    case 'bool':
      mixInt(p.v ? 3 : 4);
      return;
    case 'null':
      mixInt(5);
      return;
    case 'list':
      mixInt(6);
      for (const item of p.v) mixParam(item);
      mixInt(p.v.length);
      return;
    default:
      mixInt(p.t.charCodeAt(0) + 16);
      mixString(p.v);
  }
}

/** Output slots of {@link hashKey}: `[h1, h2]`. @internal */
export const hashOut = new Uint32Array(2);

/**
 * Hashes a template id and parameter list into two independent 32-bit values, written to
 * {@link hashOut} (no allocation in the hot path).
 * @internal
 */
export function hashEvent(
  templateId: string,
  params: readonly ParamValue[],
): void {
  h1 = 0x811c9dc5;
  h2 = 0x3c6ef372;
  mixString(templateId);
  for (const p of params) mixParam(p);
  hashOut[0] = fmix32(h1);
  hashOut[1] = fmix32(h2 ^ Math.imul(h1, 0x27d4eb2d));
}

/**
 * Hashes one parameter value to a 52-bit category key.
 * @internal
 */
export function hashParam(p: ParamValue): number {
  h1 = 0x811c9dc5;
  h2 = 0x3c6ef372;
  mixParam(p);
  return fmix32(h1) * 1048576 + (fmix32(h2) >>> 12);
}
