/**
 * `@stb/core`: the trace contract shared by every SQL Trace Bench stage.
 * @packageDocumentation
 */
export {
  STB_ERROR_CODES,
  StbError,
  ParseError,
  PluginError,
  isStbError,
  toStbError,
  serializeError,
  rehydrateError,
} from './errors';
export type {
  StbErrorCode,
  StbErrorOptions,
  JsonValue,
  JsonObject,
  SourcePosition,
  SerializedError,
  OnInvalid,
} from './errors';
export {
  TRACE_FORMAT_VERSION,
  DIALECTS,
  Dialect,
  QUERY_TYPES,
  QueryType,
  PARAM_TYPES,
  ParamType,
  ParamValue,
  TraceSource,
  TraceHeader,
  TEMPLATE_PATHS,
  TemplatePath,
  TemplateSlot,
  TxnBoundary,
  QueryTemplate,
  Outcome,
  ConnAttributes,
  connKey,
  TraceEvent,
  TraceRecord,
  TraceDocument,
  RawParam,
  RawQueryEvent,
  computeTemplateId,
  createTraceHeader,
} from './schema';
export { TemplateCatalog } from './catalog';
export {
  createRng,
  rngFromUniform,
  AliasTable,
  fmix32,
  hash32,
  mix32,
  toSeed,
} from './rng';
export type { Rng } from './rng';
export { normalCdf, normalQuantile } from './normal';
export {
  toAsyncIterable,
  map,
  filter,
  tap,
  batch,
  take,
  tee,
  merge,
  mergeSorted,
  collect,
} from './streams';
export type { AnyIterable } from './streams';
export { parsePluginOptions, isPlugin } from './plugin';
export type { PluginKind, PluginBase } from './plugin';
export { resolveWorkerFile } from './worker-file';
export { importPluginModule, pluginExports } from './plugin-loader';
export type { ImportPluginModuleOptions } from './plugin-loader';
export {
  MAX_LINE_LENGTH,
  STDIN_NAME,
  openInput,
  readLines,
  splitLineBatches,
  splitLines,
} from './io/input';
export type {
  OpenInputOptions,
  OpenedInput,
  ReadLinesOptions,
  InputLine,
  SplitLinesOptions,
} from './io/input';
export {
  BENCH_RESULT_VERSION,
  STOP_TARGET_LOST,
  LatencySummary,
  BenchStats,
  BenchTemplateStats,
  BenchIncident,
  BenchErrorDetail,
  BenchOutage,
  BenchClient,
  BenchContext,
  BenchResult,
  RowCountSummary,
  LatencyWindows,
} from './bench-result';
/** When a result's figures are the load generator's: the thresholds and the signs (issue 16). */
export {
  CLIENT_BOUND_BUSY_SHARE,
  CLIENT_BOUND_LAG_SHARE,
  CLIENT_CPU_WAIT_SHARE,
  clientLimitWarning,
  clientLimits,
  lagShare,
} from './client-limits';
export type { ClientLimit } from './client-limits';
export {
  BENCH_COMPARISON_VERSION,
  COMPARED_QUANTILES,
  ComparedQuantile,
  ComparisonVerdict,
  QuantileComparison,
  RunShift,
  ComparisonScope,
  ErrorCodeChange,
  ErrorDivergence,
  RowDivergence,
  TemplateComparison,
  UnmatchedTemplate,
  ThresholdCheck,
  ComparedRun,
  ComparisonOptions,
  BenchComparison,
} from './bench-comparison';
export {
  VALIDATION_REPORT_VERSION,
  VALIDATION_PROPERTIES,
  ValidationPropertyId,
  StatisticalTest,
  ValidationProperty,
  ValidationTraceSummary,
  ValidationSlot,
  ValidationTemplate,
  ValidationCdf,
  ValidationCharts,
  ValidationLoadChart,
  ValidationLeak,
  ValidationReport,
  PerformanceProperty,
  PerformanceFidelity,
} from './validation-report';
export { readTraceRecords, openTrace } from './io/trace-read';
export { mergeTraceFiles } from './io/trace-merge';
export type { MergeTraceFilesOptions, MergeTraceStats } from './io/trace-merge';
export type {
  ReadTraceOptions,
  TraceReadProgress,
  TraceStream,
} from './io/trace-read';
export { writeTrace, withTemplateRecords } from './io/trace-write';
export type { WritableTraceRecord } from './io/trace-write';
export {
  encodeTraceEvent,
  decodeTraceEvent,
  eventLineHead,
  eventLineField,
  eventLineTail,
  stringifyEventBody,
  stringifyEventRest,
} from './io/event-json';
export type { EncodedTraceEvent } from './io/event-json';
export type {
  WriteTraceOptions,
  WriteTraceSummary,
  TraceWriteProgress,
} from './io/trace-write';
export { csvSidecarPath, formatFromPath } from './io/trace-format';
export { classifyInputHead, detectInputKind } from './io/detect-input';
export type { InputKind } from './io/detect-input';
export { materializeInput } from './io/pipe-input';
export type { MaterializedInput } from './io/pipe-input';
export type { TraceFileFormat } from './io/trace-format';
export { createAtomicFileWriter, writeFileAtomic } from './io/atomic-file';
export type {
  AtomicFileWriter,
  AtomicFileWriterOptions,
} from './io/atomic-file';
export { traceJsonSchema } from './json-schema';
export { compileSqlTemplate } from './sql/template';
export {
  isWriteStatement,
  statementFactsFromText,
  templateFacts,
} from './sql/facts';
export type { StatementFacts } from './sql/facts';
export type { SqlTemplate } from './sql/template';
export { renderSqlLiteral } from './sql/literal';
export type {
  SqlLiteralDialect,
  SqlLiteralOptions,
  SqlLiteralContext,
} from './sql/literal';
export { renderSqlTemplate } from './sql/render';
export {
  SqlSplitter,
  splitSqlScript,
  parseDelimiterCommand,
} from './sql/split';
export type { SplitSqlStatement, SplitSqlScriptOptions } from './sql/split';
export {
  KllSketch,
  KllSketchState,
  kllRankError,
  kllWeightedItems,
  kllQuantile,
  kllKsDistance,
} from './sketch/kll';
export type {
  KllSketchOptions,
  KllSketchLike,
  KllWeightedItems,
  WeightedValues,
} from './sketch/kll';
/** Escapes text for the self-contained HTML reports. */
export { escapeHtml, REPORT_BASE_CSS, renderReportDocument } from './html';
export type { ReportDocument } from './html';
/** Events per fixed window: variance-to-mean ratio and its sampling spread (burstiness). */
export { WindowCounter } from './sketch/window-counter';
export type {
  WindowCounterOptions,
  VmrEstimate,
} from './sketch/window-counter';
export {
  daysFromCivil,
  parseZoneOffsetMinutes,
  parseWallClockUs,
  parseTimestampLiteral,
  clampDerivedStart,
  MAX_START_CLAMP_US,
} from './time';
export type { TimeScan, TimestampLiteral } from './time';
