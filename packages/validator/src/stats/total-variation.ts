/**
 * Total variation distance between two count vectors aligned by category:
 * ½ Σ |a_i / Σa − b_i / Σb|, in [0, 1]. Two empty vectors are at distance 0; one empty vector is at
 * distance 1 from a non-empty one.
 * @example
 * totalVariation([1, 1], [1, 0]); // 0.5
 */
export function totalVariation(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): number {
  if (a.length !== b.length)
    throw new RangeError(
      `[stb] [validator] totalVariation needs aligned categories (got ${a.length} and ${b.length}).`,
    );
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    na += a[i] ?? 0;
    nb += b[i] ?? 0;
  }
  if (na === 0 && nb === 0) return 0;
  if (na === 0 || nb === 0) return 1;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    // identical counts contribute exactly 0 even when na ≠ nb rounding would not
    if (x === y && na === nb) continue;
    sum += Math.abs(x / na - y / nb);
  }
  return Math.min(1, sum / 2);
}
