import { z } from 'zod';

import { Dialect, QueryType } from './schema';

/**
 * The validation report (DESIGN.md, "Validation"): what `@stb/validator` writes as JSON and renders
 * as HTML. Scores are effect sizes in [0, 1] (1 = indistinguishable); classical tests sit beside
 * them for diagnostics. Wire schema: no `.transform()` / `.default()`.
 */

/**
 * Report format version, bumped on any breaking change to {@link ValidationReport}. Version 2 added
 * the property `connections`.
 */
export const VALIDATION_REPORT_VERSION = 2 as const;

/** Properties the validator compares, in report order. */
export const VALIDATION_PROPERTIES = [
  'queryTypes',
  'templates',
  'transitions',
  'parameters',
  'interArrival',
  'thinkTime',
  'sessionLength',
  'sessionArrival',
  'burstiness',
  'repeatRate',
  'durations',
  'statementRate',
  'concurrency',
  'connections',
] as const;
/** Id of one compared property. */
export const ValidationPropertyId = z.enum(VALIDATION_PROPERTIES);
export type ValidationPropertyId = z.infer<typeof ValidationPropertyId>;

/** A classical hypothesis test reported beside an effect size. */
export const StatisticalTest = z.object({
  /** `chi-square` (homogeneity, no continuity correction), `ks-two-sample`, or `bonferroni-min` (smallest p-value × number of tests, capped at 1). */
  name: z.string(),
  statistic: z.number(),
  /** Degrees of freedom (chi-square). */
  df: z.number().int().nonnegative().optional(),
  /** p-value; 0 only when it underflows (then `pValueBound` is set). */
  pValue: z.number().min(0).max(1),
  /** log10 of the p-value, computed in log space, so tiny p-values stay exact. */
  log10PValue: z.number().max(0),
  /** Human-readable bound when the p-value is below double precision, e.g. `< 1e-300`. */
  pValueBound: z.string().optional(),
  /** `exact` or `asymptotic` (KS), `sketch` when inputs were approximated. */
  method: z.string().optional(),
});
export type StatisticalTest = z.infer<typeof StatisticalTest>;

/** One compared property with its score. */
export const ValidationProperty = z.object({
  id: ValidationPropertyId,
  label: z.string(),
  /** False when the property cannot be compared (e.g. durations missing in one trace). */
  applicable: z.boolean(),
  /** Effect-size score in [0, 1], 1 = indistinguishable; null when not applicable. */
  score: z.number().min(0).max(1).nullable(),
  /** Weight in the composite score (0 = reported, not scored). */
  weight: z.number().nonnegative(),
  /** The distance behind the score: `tv` (total variation), `ks` (KS statistic), `log-ratio`, `abs-diff`. */
  distance: z.object({ name: z.string(), value: z.number() }).nullable(),
  test: StatisticalTest.nullable(),
  /** Why not applicable, or how the score was made. */
  note: z.string().optional(),
});
export type ValidationProperty = z.infer<typeof ValidationProperty>;

/** What the validator saw in one trace. */
export const ValidationTraceSummary = z.object({
  /** Display label: a file name or `original` / `generated`. */
  label: z.string(),
  dialect: Dialect.optional(),
  events: z.number().int().nonnegative(),
  sessions: z.number().int().nonnegative(),
  templates: z.number().int().nonnegative(),
  firstStartUs: z.number().int().nullable(),
  lastStartUs: z.number().int().nullable(),
  /** Events carrying `durationUs`. */
  eventsWithDuration: z.number().int().nonnegative(),
  /** Share of events whose template + parameters repeat an earlier event (estimated beyond the exact cap). */
  repeatRate: z.number().min(0).max(1),
});
export type ValidationTraceSummary = z.infer<typeof ValidationTraceSummary>;

/** Parameter comparison for one slot of a template. */
export const ValidationSlot = z.object({
  /** 0-based slot index (`$1` is 0). */
  index: z.number().int().nonnegative(),
  column: z.string().nullable().optional(),
  /** `numeric` (KS), `categorical` (TV), `list` (KS on lengths), `high-cardinality` (KS on text lengths). */
  kind: z.enum(['numeric', 'categorical', 'list', 'high-cardinality']),
  score: z.number().min(0).max(1),
  test: StatisticalTest.nullable(),
});
export type ValidationSlot = z.infer<typeof ValidationSlot>;

/** Per-template breakdown. */
export const ValidationTemplate = z.object({
  id: z.string(),
  /** Normalised SQL (no parameter values); absent when neither trace had the template record. */
  text: z.string().optional(),
  queryType: QueryType.optional(),
  original: z.number().int().nonnegative(),
  generated: z.number().int().nonnegative(),
  /** Mean slot score; null when the template has no slots or is missing from one trace. */
  parameterScore: z.number().min(0).max(1).nullable(),
  slots: z.array(ValidationSlot),
});
export type ValidationTemplate = z.infer<typeof ValidationTemplate>;

/** Points `[x, F(x)]` of an empirical CDF. */
const CdfPoints = z.array(z.tuple([z.number(), z.number()]));

/** A CDF overlay for the HTML report. */
export const ValidationCdf = z.object({
  id: z.string(),
  label: z.string(),
  unit: z.string(),
  original: CdfPoints,
  generated: CdfPoints,
});
export type ValidationCdf = z.infer<typeof ValidationCdf>;

/** Chart data, small by construction (top-N, fixed point counts). */
/** A load curve of both traces over relative time (the validation report's "Load" section). */
export const ValidationLoadChart = z.object({
  /** Width of one point, µs (points start at each trace's first statement). */
  stepUs: z.number().positive(),
  /** Per point: statements/s (rate chart) or mean sessions open (concurrency chart). */
  original: z.array(z.number()),
  generated: z.array(z.number()),
});
export type ValidationLoadChart = z.infer<typeof ValidationLoadChart>;

export const ValidationCharts = z.object({
  cdfs: z.array(ValidationCdf),
  /** Row-normalised transition probabilities among the top templates (`from` row → `to` column). */
  transitions: z.object({
    templateIds: z.array(z.string()),
    original: z.array(z.array(z.number())),
    generated: z.array(z.array(z.number())),
  }),
  /** Share of events / session starts per bin of the relative time axis [0, 1] of each trace. */
  arrival: z.object({
    bins: z.number().int().positive(),
    originalEvents: z.array(z.number()),
    generatedEvents: z.array(z.number()),
    originalSessions: z.array(z.number()),
    generatedSessions: z.array(z.number()),
  }),
  /** Variance-to-mean ratio of event counts per window. */
  burstiness: z.array(
    z.object({
      windowUs: z.number().int().positive(),
      original: z.number().nullable(),
      generated: z.number().nullable(),
    }),
  ),
  /** Statement rate and concurrency over relative time (absent in reports of older versions). */
  load: z
    .object({
      statementRate: ValidationLoadChart.nullable(),
      concurrency: ValidationLoadChart.nullable(),
    })
    .optional(),
});
export type ValidationCharts = z.infer<typeof ValidationCharts>;

/** One performance-fidelity measure: how alike the two traces load a database. */
export const PerformanceProperty = z.object({
  id: z.enum(['latencyP50', 'latencyP95', 'throughput']),
  label: z.string(),
  /** Agreement in [0, 1]: min(r, 1/r) of the generated ÷ original ratio (execution-weighted over templates for latencies). */
  score: z.number().min(0).max(1).nullable(),
  /** Latencies: share of executions in templates whose ratio is within `target`; throughput: the ratio. */
  value: z.number().nonnegative().nullable(),
  /** Relative tolerance the property is held to (0.1 = within 10 %). */
  target: z.number().nonnegative(),
  /** True when every compared template (or the overall throughput) is within the target. */
  withinTarget: z.boolean().nullable(),
});
export type PerformanceProperty = z.infer<typeof PerformanceProperty>;

/**
 * Performance fidelity: the original and the generated trace replayed on the same target
 * (`stb validate --bench-original A.json --bench-generated B.json`), compared template by
 * template. Reported beside the composite, which stays a property of the traces alone.
 */
export const PerformanceFidelity = z.object({
  /** Mean of the property scores. */
  score: z.number().min(0).max(1),
  properties: z.array(PerformanceProperty),
  /** Per template: executions and p50/p95 ratios (generated ÷ original) with verdicts. */
  templates: z.array(
    z.object({
      templateId: z.string(),
      original: z.number().int().nonnegative(),
      generated: z.number().int().nonnegative(),
      p50Ratio: z.number().nonnegative().nullable(),
      p95Ratio: z.number().nonnegative().nullable(),
      verdict: z.enum(['faster', 'slower', 'no-significant-change']),
    }),
  ),
  /** Templates only one replay executed. */
  onlyInOriginal: z.number().int().nonnegative(),
  onlyInGenerated: z.number().int().nonnegative(),
  /** The two bench results (labels) and the target they ran on. */
  original: z.string(),
  generated: z.string(),
  target: z.string(),
});
export type PerformanceFidelity = z.infer<typeof PerformanceFidelity>;
/**
 * The leak check (a gate, not a score): literals of the generated trace (the text of strings,
 * UUIDs and bytes; list elements and the string leaves of JSON documents) that occur verbatim
 * in the original, where they were seen in fewer than `minSessions` distinct sessions. Slots are
 * named by template, index and column; values never appear in a report.
 */
export const ValidationLeak = z.object({
  /** k: an original literal seen in fewer distinct sessions is rare. */
  minSessions: z.number().int().positive(),
  /** `leaked / checked`: share of the generated literals that are rare original literals. */
  share: z.number().min(0).max(1),
  /** Generated literals found verbatim among the original's rare literals (within the sample). */
  leaked: z.number().int().nonnegative(),
  /** Generated literals checked (all of them while `samplingRate` is 1). */
  checked: z.number().int().nonnegative(),
  /** Generated literals seen. */
  generatedLiterals: z.number().int().nonnegative(),
  /** Distinct rare literals tracked in the original (within the sample). */
  rareOriginalLiterals: z.number().int().nonnegative(),
  /** Share of the literal space (by hash) checked: 1 while the original's distinct literals fit the memory cap. */
  samplingRate: z.number().min(0).max(1),
  /** Slots with leaked literals, most first. */
  slots: z.array(
    z.object({
      templateId: z.string(),
      /** 0-based slot index (`$1` is 0). */
      slot: z.number().int().nonnegative(),
      column: z.string().nullable(),
      leaked: z.number().int().positive(),
    }),
  ),
  /** The gate (`--max-leak`), when given. */
  maxLeak: z.number().min(0).max(1).optional(),
  /** `share <= maxLeak`, when a gate was given. */
  passed: z.boolean().optional(),
});
export type ValidationLeak = z.infer<typeof ValidationLeak>;

/** The report `@stb/validator` produces (`stb validate --json`). */
export const ValidationReport = z.object({
  format: z.literal('stb-validation-report'),
  version: z.literal(VALIDATION_REPORT_VERSION),
  createdAt: z.string(),
  /** Composite score: weighted mean of applicable property scores. */
  score: z.number().min(0).max(1),
  /** Threshold the run was checked against, when given. */
  minScore: z.number().min(0).max(1).optional(),
  passed: z.boolean().optional(),
  /** Effective weights by property id. */
  weights: z.record(z.string(), z.number().nonnegative()),
  properties: z.array(ValidationProperty),
  original: ValidationTraceSummary,
  generated: ValidationTraceSummary,
  templates: z.array(ValidationTemplate),
  charts: ValidationCharts,
  /** Sketch settings behind the continuous comparisons. */
  sketch: z.object({
    kind: z.string(),
    k: z.number().int().positive(),
    /** Values kept exactly before a sketch starts compacting. */
    exactUpTo: z.number().int().nonnegative(),
    /** Normalised rank error bound of one sketch (99 % confidence), 0 while exact. */
    rankError: z.number().min(0),
  }),
  /** Rare original literals found in the generated trace: reported beside the score, never part of it. */
  leak: ValidationLeak.optional(),
  /** Non-fatal remarks (e.g. events referencing unknown templates). */
  warnings: z.array(z.string()),
  /** Performance fidelity, when two bench results of the traces were given. */
  performance: PerformanceFidelity.optional(),
});
export type ValidationReport = z.infer<typeof ValidationReport>;
