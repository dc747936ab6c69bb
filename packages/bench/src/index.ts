/**
 * `@stb/bench`: runs SQL traces against databases with piscina workers, DB plugins, HDR
 * histograms and Prometheus metrics.
 * @packageDocumentation
 */
/** A statement ready to run and what running it produced. */
export type { BoundQuery, ExecOutcome } from './bound-query';
/** DB plugin interface, its helpers and types. */
export {
  defineDbPlugin,
  loadDriver,
  redactSecrets,
  unreachableError,
  errorOutcome,
} from './db-plugin';
export type {
  DbPlugin,
  DbSession,
  DbCapabilities,
  DbConnectContext,
  DbExecuteContext,
  Protocol,
} from './db-plugin';
/**
 * `$n` placeholder translation for drivers (tokenising and literal rendering are core's
 * `compileSqlTemplate` and `renderSqlLiteral`).
 */
export { createPlaceholderTranslator } from './placeholders';
export type {
  PlaceholderStyle,
  TranslatedQuery,
  PlaceholderTranslator,
  PlaceholderTranslatorOptions,
} from './placeholders';
/** Target URLs and plugin descriptors. */
export { resolveTarget } from './target';
export type { PluginDescriptor } from './target';
/** Loads a DB plugin from a descriptor. */
export { loadDbPlugin } from './plugin-loader';
/** SQL script splitting for `--setup`/`--teardown`. */
export { splitSqlStatements } from './sql-split';
export type { SqlStatement } from './sql-split';
/** Prometheus metrics and the `/metrics` endpoint. */
export {
  createBenchMetrics,
  createMetricsRegistry,
  startMetricsServer,
  BENCH_METRIC_NAMES,
  LATENCY_BUCKETS_SECONDS,
} from './metrics';
export type { BenchMetrics, MetricsServer } from './metrics';
/** The runner. */
export { runBench, createBenchRunner, BENCH_TOOL_VERSION } from './runner';
export type {
  BenchMode,
  BenchOptions,
  BenchProgress,
  BenchRun,
  BenchEvents,
  BenchTrace,
  SqlScript,
  TemplateLookup,
} from './runner';
/** Human-readable summary table of a result. */
export { formatBenchResult } from './format';
/** The client-bound thresholds, from `@stb/core` (where `stb compare` reads them too). */
export {
  CLIENT_BOUND_BUSY_SHARE,
  CLIENT_BOUND_LAG_SHARE,
  CLIENT_CPU_WAIT_SHARE,
  lagShare,
} from '@stb/core';
/** Merging the results of a sharded run (`stb merge-results`). */
export { mergeBenchResults } from './merge-results';
export type { MergeBenchResultsOptions } from './merge-results';
