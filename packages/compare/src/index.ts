/**
 * `@stb/compare`: two `stb bench` results side by side, with statistics.
 * @packageDocumentation
 */
export {
  compareBenchResults,
  incompleteRunWarning,
  parseBenchResult,
} from './compare';
export type { CompareOptions } from './compare';
export {
  parseRegressionThreshold,
  parseErrorRateThreshold,
} from './thresholds';
export type { Threshold, ThresholdMetric } from './thresholds';
export { renderComparisonHtml } from './html/render';
export type { RenderComparisonOptions } from './html/render';
