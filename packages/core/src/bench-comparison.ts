import { z } from 'zod';
import { RowCountSummary } from './bench-result';
import { QueryType } from './schema';

/**
 * The comparison of two benchmark results (`stb compare BASELINE CANDIDATE`, `compareBenchResults`):
 * per template and overall, latency quantile ratios with confidence intervals, verdicts, error and
 * row divergence, and the thresholds that decide the exit code. Ratios are candidate ÷ baseline,
 * so a latency ratio above 1 is slower and a throughput ratio above 1 is more work per second.
 * Wire schema: no `.transform()` / `.default()`.
 */

/** Comparison format version. */
export const BENCH_COMPARISON_VERSION = 1 as const;

/** Latency quantiles a comparison reports. */
export const COMPARED_QUANTILES = ['p50', 'p95', 'p99'] as const;
/** One compared latency quantile. */
export const ComparedQuantile = z.enum(COMPARED_QUANTILES);
export type ComparedQuantile = z.infer<typeof ComparedQuantile>;

/** What a comparison concludes about a latency quantile, a template or the whole run. */
export const ComparisonVerdict = z.enum([
  'faster',
  'slower',
  'no-significant-change',
]);
export type ComparisonVerdict = z.infer<typeof ComparisonVerdict>;

/** One latency quantile in both runs, with the ratio and its confidence interval. */
export const QuantileComparison = z.object({
  baselineMs: z.number().nonnegative(),
  candidateMs: z.number().nonnegative(),
  /** candidate ÷ baseline; null when a run has no executions. */
  ratio: z.number().nonnegative().nullable(),
  /** Confidence interval of the ratio (level in the options); null when a run has no executions. */
  low: z.number().nonnegative().nullable(),
  high: z.number().nonnegative().nullable(),
  verdict: ComparisonVerdict,
  /**
   * Set on a template's quantile when a run-level shift was found at this quantile (see
   * `BenchComparison.runShifts`): the shift's ratio. The verdict then needs the interval to lie
   * beyond the minimum effect both as measured and divided by this factor.
   */
  runShift: z.number().positive().optional(),
  /**
   * The design effects the interval used (each run's executions count as n ÷ its effect): from the
   * run's time windows for the whole run (`latencyWindows`), else the runner's batch-means effect,
   * else 1. Absent in reports written before it existed.
   */
  designEffect: z
    .object({
      baseline: z.number().min(1),
      candidate: z.number().min(1),
      /** `windows`: both from time windows; `batch-means`: neither; `mixed`: one each. */
      source: z.enum(['windows', 'batch-means', 'mixed']),
    })
    .optional(),
});
export type QuantileComparison = z.infer<typeof QuantileComparison>;

/**
 * A change every template shares: the median over templates of one quantile's ratio, with a
 * bootstrap interval (the median of the templates' replicate ratios). Two sequential runs on a
 * machine whose speed changed in between move every template by about the same factor; that is
 * reported here once, with its own verdict, instead of as per-template verdicts.
 */
export const RunShift = z.object({
  quantile: ComparedQuantile,
  ratio: z.number().nonnegative(),
  low: z.number().nonnegative(),
  high: z.number().nonnegative(),
  verdict: ComparisonVerdict,
  /** Templates with an interval at this quantile. */
  templates: z.number().int().nonnegative(),
  /** Of those, templates whose own verdict is the shift's verdict. */
  agreeing: z.number().int().nonnegative(),
  /** True when the shift is significant and a majority of templates agree: template verdicts at this quantile are then judged relative to it. */
  applied: z.boolean(),
});
export type RunShift = z.infer<typeof RunShift>;

/** Figures of one scope (a template, or the whole run) in both runs. */
export const ComparisonScope = z.object({
  /** Executions in the measured window. */
  count: z.object({
    baseline: z.number().int().nonnegative(),
    candidate: z.number().int().nonnegative(),
  }),
  /** Executions per second; `ratio` is candidate ÷ baseline (null when the baseline is 0). */
  throughput: z.object({
    baseline: z.number().nonnegative(),
    candidate: z.number().nonnegative(),
    ratio: z.number().nonnegative().nullable(),
  }),
  /** Failed ÷ executed (0..1); `increase` is candidate − baseline. */
  errorRate: z.object({
    baseline: z.number().min(0).max(1),
    candidate: z.number().min(0).max(1),
    increase: z.number(),
  }),
  latency: z.object({
    p50: QuantileComparison,
    p95: QuantileComparison,
    p99: QuantileComparison,
  }),
  /** From the quantiles in `options.verdictQuantiles`: slower if any is slower, else faster if any is faster. */
  verdict: ComparisonVerdict,
});
export type ComparisonScope = z.infer<typeof ComparisonScope>;

/** A SQLSTATE (or driver error code) whose count differs between the runs. */
export const ErrorCodeChange = z.object({
  code: z.string(),
  baseline: z.number().int().nonnegative(),
  candidate: z.number().int().nonnegative(),
  /** Share of the template's executions failing with this code, in each run. */
  baselineRate: z.number().min(0).max(1),
  candidateRate: z.number().min(0).max(1),
});
export type ErrorCodeChange = z.infer<typeof ErrorCodeChange>;

/** Per-template error divergence. */
export const ErrorDivergence = z.object({
  /** Codes only the candidate raised. */
  new: z.array(ErrorCodeChange),
  /** Codes only the baseline raised. */
  missing: z.array(ErrorCodeChange),
  /** Codes both raised, at significantly different rates. */
  changed: z.array(ErrorCodeChange),
});
export type ErrorDivergence = z.infer<typeof ErrorDivergence>;

/** Per-template row divergence (rows returned or affected by successful executions). */
export const RowDivergence = z.object({
  baseline: RowCountSummary.nullable(),
  candidate: RowCountSummary.nullable(),
  /** Mean rows per execution, candidate ÷ baseline (null when a mean is 0 or unknown). */
  meanRatio: z.number().nonnegative().nullable(),
  /** Total variation distance between the two log2 row-count histograms (0 = same shape). */
  distance: z.number().min(0).max(1).nullable(),
  /** True when the means or the histograms differ by more than `options.rowTolerance`. */
  changed: z.boolean(),
});
export type RowDivergence = z.infer<typeof RowDivergence>;

/** One template present in both runs. */
export const TemplateComparison = ComparisonScope.extend({
  templateId: z.string(),
  queryType: QueryType,
  errors: ErrorDivergence,
  rows: RowDivergence,
});
export type TemplateComparison = z.infer<typeof TemplateComparison>;

/** A template only one run executed. */
export const UnmatchedTemplate = z.object({
  templateId: z.string(),
  queryType: QueryType,
  count: z.number().int().nonnegative(),
});
export type UnmatchedTemplate = z.infer<typeof UnmatchedTemplate>;

/** A threshold check (k6-style) with its outcome, one per scope it applies to. */
export const ThresholdCheck = z.object({
  /** As given, e.g. `p95=10%` or `error-rate+=0.1%`. */
  threshold: z.string(),
  /** `overall` or a template id. */
  scope: z.string(),
  /** The measured figure the limit applies to (a relative change or an increase, as a fraction). */
  actual: z.number().nullable(),
  limit: z.number(),
  passed: z.boolean(),
  message: z.string(),
});
export type ThresholdCheck = z.infer<typeof ThresholdCheck>;

/** What one side of the comparison was. */
export const ComparedRun = z.object({
  /** File name or label. */
  label: z.string(),
  status: z.enum(['completed', 'stopped', 'failed']),
  mode: z.enum(['replay', 'closed', 'open']),
  durationSeconds: z.number().nonnegative(),
  target: z.string(),
  serverVersion: z.string().optional(),
  traceHash: z.string().optional(),
  startedAt: z.string(),
});
export type ComparedRun = z.infer<typeof ComparedRun>;

/** Settings a comparison ran with. */
export const ComparisonOptions = z.object({
  /** Smallest relative latency change called faster or slower (0.05 = 5 %). */
  minEffect: z.number().min(0),
  /** Confidence level of the intervals (0.95). */
  confidence: z.number().gt(0).lt(1),
  /** Bootstrap replicates per interval. */
  resamples: z.number().int().positive(),
  seed: z.number().int(),
  /** Quantiles whose verdicts make a scope's verdict. */
  verdictQuantiles: z.array(ComparedQuantile),
  /** Relative change of mean rows (and TV distance of row histograms) tolerated before rows count as changed. */
  rowTolerance: z.number().min(0),
});
export type ComparisonOptions = z.infer<typeof ComparisonOptions>;

/** The comparison of two benchmark results. */
export const BenchComparison = z.object({
  format: z.literal('stb-bench-comparison'),
  version: z.literal(BENCH_COMPARISON_VERSION),
  createdAt: z.string(),
  /** How the intervals were made, in one sentence (for reports). */
  method: z.string(),
  options: ComparisonOptions,
  baseline: ComparedRun,
  candidate: ComparedRun,
  overall: ComparisonScope,
  /** Templates both runs executed, most executed (in the baseline) first. */
  templates: z.array(TemplateComparison),
  onlyInBaseline: z.array(UnmatchedTemplate),
  onlyInCandidate: z.array(UnmatchedTemplate),
  /** Templates by verdict, and templates with error or row divergence. */
  summary: z.object({
    faster: z.number().int().nonnegative(),
    slower: z.number().int().nonnegative(),
    unchanged: z.number().int().nonnegative(),
    errorDivergence: z.number().int().nonnegative(),
    rowDivergence: z.number().int().nonnegative(),
  }),
  thresholds: z.array(ThresholdCheck),
  /** Run-level shift per compared quantile (absent in older reports, or with fewer than 3 templates). */
  runShifts: z.array(RunShift).optional(),
  /** False when any threshold failed. */
  passed: z.boolean(),
  warnings: z.array(z.string()),
});
export type BenchComparison = z.infer<typeof BenchComparison>;
