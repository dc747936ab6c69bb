/** A p-value computed in log space, so p-values far below double precision stay meaningful. */
export interface PValue {
  /** The p-value; 0 only when it underflows (see `bound`). */
  pValue: number;
  /** log10 of the p-value (finite). */
  log10PValue: number;
  /** `< 1e-300` style bound when `pValue` underflowed. */
  bound?: string;
}

const LN10 = Math.LN10;
/** Below this the p-value is reported as a bound. */
const MIN_REPORTED_LOG10 = -300;

/** Builds a {@link PValue} from a natural-log p-value. @internal */
export function pValueFromLn(lnP: number): PValue {
  const ln = Math.min(0, lnP);
  const log10PValue = ln / LN10;
  if (log10PValue < MIN_REPORTED_LOG10) {
    return { pValue: 0, log10PValue, bound: `< 1e${MIN_REPORTED_LOG10}` };
  }
  return { pValue: Math.min(1, Math.exp(ln)), log10PValue };
}

/** Builds a {@link PValue} from a plain p-value (clamped to [0, 1]). @internal */
export function pValueFromNumber(p: number): PValue {
  const clamped = Math.min(1, Math.max(0, p));
  if (clamped === 0) return pValueFromLn(-Infinity);
  return pValueFromLn(Math.log(clamped));
}

/** log(exp(a) + exp(b)) without overflow. @internal */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}
