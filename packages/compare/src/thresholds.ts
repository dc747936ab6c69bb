import { StbError } from '@stb/core';

/** Metrics a threshold can limit. */
export type ThresholdMetric =
  'p50' | 'p95' | 'p99' | 'throughput' | 'error-rate';

/**
 * A k6-style pass/fail criterion on a comparison. Latency and throughput limits are relative
 * regressions (0.1 = 10 % slower, or 10 % less throughput); `error-rate` is an absolute increase of
 * the failed share (0.001 = 0.1 percentage point).
 */
export interface Threshold {
  readonly metric: ThresholdMetric;
  readonly limit: number;
  /** `all`: the whole run and every template both runs executed; `overall`: the whole run only. */
  readonly scope: 'all' | 'overall';
  /** As written, for reports. */
  readonly text: string;
}

const REGRESSION_METRICS = new Set(['p50', 'p95', 'p99', 'throughput']);

function percent(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  if (!m)
    throw new StbError(
      'STB_OPTIONS_INVALID',
      `[stb] [compare] ${flag} value \`${text}\` is not a number or a percentage. Example: 10% or 0.1.`,
      { details: { option: flag, value: text } },
    );
  const v = Number(m[1]);
  return m[2] === '%' ? v / 100 : v;
}

function scoped(spec: string): { scope: 'all' | 'overall'; rest: string } {
  const s = spec.trim();
  return s.startsWith('overall:')
    ? { scope: 'overall', rest: s.slice('overall:'.length) }
    : { scope: 'all', rest: s };
}

/**
 * Parses one `--max-regression` value: `p95=10%`, `throughput=5%`, `overall:p99=20%` (the whole
 * run only). A bare fraction (`0.1`) means the same as `10%`.
 * @throws StbError `STB_OPTIONS_INVALID` with the accepted forms.
 */
export function parseRegressionThreshold(spec: string): Threshold {
  const { scope, rest } = scoped(spec);
  const eq = rest.indexOf('=');
  const metric = eq < 0 ? '' : rest.slice(0, eq).trim();
  if (!REGRESSION_METRICS.has(metric))
    throw new StbError(
      'STB_OPTIONS_INVALID',
      `[stb] [compare] --max-regression \`${spec}\` is not <metric>=<limit> with metric p50, p95, p99 or throughput. Example: --max-regression p95=10%.`,
      { details: { option: '--max-regression', value: spec } },
    );
  return {
    metric: metric as ThresholdMetric,
    limit: percent(rest.slice(eq + 1), '--max-regression'),
    scope,
    text: spec.trim(),
  };
}

/**
 * Parses one `--max-error-rate-increase` value: `0.1%` (or `0.001`), optionally `overall:0.1%`.
 * @throws StbError `STB_OPTIONS_INVALID`.
 */
export function parseErrorRateThreshold(spec: string): Threshold {
  const { scope, rest } = scoped(spec);
  return {
    metric: 'error-rate',
    limit: percent(rest, '--max-error-rate-increase'),
    scope,
    text: `error-rate+=${spec.trim()}`,
  };
}
