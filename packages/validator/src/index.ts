/**
 * `@stb/validator`: how faithful is a synthetic SQL trace? Per-property effect sizes, a weighted
 * composite score, and JSON + self-contained HTML reports.
 * @packageDocumentation
 */
/** Compares two traces in one streaming pass each; see {@link ValidateOptions}. */
export { validateTraces } from './validate';
export type { TraceInput, ValidateOptions, ValidateProgress } from './validate';
/** Default composite weights, merge helpers and the CLI's `k=v,…` parser. */
export { defaultWeights, resolveWeights, parseWeights } from './weights';
export type { ValidationWeights } from './weights';
/** Performance fidelity from two replays' comparison (`report.performance`). */
export { performanceFidelity } from './performance';
export type { PerformanceTargets } from './performance';
/** Renders a report as one self-contained HTML document (inline SVG, no network). */
export { renderHtmlReport } from './html/render';
export type { RenderHtmlOptions } from './html/render';
/** Statistics, exported for tests and for callers with raw samples. */
export { ksTwoSample, ksPValue, KS_EXACT_MAX_CELLS } from './stats/ks';
export type { KsResult, KsPValueOptions } from './stats/ks';
export { chiSquareTest, chiSquareSf } from './stats/chi-square';
export type { ChiSquareResult } from './stats/chi-square';
export { totalVariation } from './stats/total-variation';
export type { PValue } from './stats/p-value';
