/**
 * `@stb/generator`: a fitted model artifact → a deterministic synthetic trace, and executable SQL
 * rendering of trace events.
 * @packageDocumentation
 */

/** Renders a template with its parameters as executable SQL (literals quoted for the dialect). */
export { renderSql, compileTemplate, renderCompiled } from './render-sql';
/** Rendering options and compiled templates. */
export type { RenderSqlOptions, CompiledTemplate } from './render-sql';
/** Generates a synthetic trace from a fitted model artifact. */
export { generateTrace, generateEvents, artifactHash } from './generate-trace';
/** Generation options, progress and summary. */
export type {
  GenerateTraceOptions,
  GenerateProgress,
  GenerateSummary,
  GeneratedTrace,
  GeneratedEvents,
} from './generate-trace';
