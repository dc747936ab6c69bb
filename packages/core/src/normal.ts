/**
 * The standard normal distribution's CDF and quantile function, for the statistics that map
 * between ranks and normal scores (comparison intervals, the generator's think-time coupling).
 */

// Acklam's coefficients, highest power first (module constants: the quantile runs once per think
// time in the fit and the generator)
const A = [
  -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269,
  -30.66479806614716, 2.506628277459239,
] as const;
const B = [
  -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
  -13.28068155288572,
] as const;
const C = [
  -0.007784894002430293, -0.3223964580411365, -2.400758277161838,
  -2.549732539343734, 4.374664141464968, 2.938163982698783,
] as const;
const D = [
  0.007784695709041462, 0.3224671290700398, 2.445134137142996,
  3.754408661907416,
] as const;

/** Horner's rule over `k` (highest power first). */
function poly(k: readonly number[], x: number): number {
  let acc = 0;
  for (let i = 0; i < k.length; i++) acc = acc * x + (k[i] as number);
  return acc;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, |ε| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(C, q) / (poly(D, q) * q + 1);
  }
  if (p > 1 - 0.02425) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (poly(A, r) * q) / (poly(B, r) * r + 1);
}

/**
 * The standard normal CDF Φ(x), through Numerical Recipes' Chebyshev fit of the complementary
 * error function (`erfcc`, fractional error < 1.2e-7 everywhere).
 */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t *
                                  (1.48851587 +
                                    t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}
