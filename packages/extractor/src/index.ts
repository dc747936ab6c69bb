/**
 * `@stb/extractor`: raw SQL events → trace events, query templates, typed parameters.
 * @packageDocumentation
 */
export { createExtractor, normalizeSql } from './extractor';
export type {
  Extractor,
  ExtractorOptions,
  Extracted,
  InvalidUtf8Position,
  NormalizedSql,
} from './extractor';
export {
  assembleTraceBatches,
  extractResult,
  extractTrace,
  extractTraceBatches,
} from './extract-trace';
/** One extracted statement as {@link assembleTraceBatches} takes it. */
export type { WorkerResult as ExtractedResult } from './worker';
export type {
  ExtractOptions,
  ExtractBatchOptions,
  ExtractProgress,
  ExtractRun,
  ExtractBatchRun,
  ExtractSummary,
} from './extract-trace';
export { ResultPacker } from './packed';
export type { PackedExtra, PackedResults } from './packed';
export { traceFromLog } from './trace-from-log';
export type {
  LogTraceRun,
  ParsedLog,
  TraceFromLogOptions,
} from './trace-from-log';
export { classifyQuery } from './classify-query';
