/**
 * Errors are API: every error thrown by an `@stb/*` package is a {@link StbError} with a stable
 * `code`. Detect them with {@link isStbError}, never with `instanceof` (it fails across duplicate
 * package copies and worker threads).
 */

/** Every error code any `@stb/*` package may raise. Codes are never reused; renaming one is breaking. */
export const STB_ERROR_CODES = [
  // usage and options
  'STB_USAGE',
  'STB_OPTIONS_INVALID',
  // input files and records
  'STB_INPUT_NOT_FOUND',
  'STB_INPUT_UNREADABLE',
  'STB_INPUT_ENCODING',
  'STB_GZIP_CORRUPT',
  'STB_PARSE_INVALID_LINE',
  'STB_PARSE_UNKNOWN_FORMAT',
  'STB_PARSE_LINE_TOO_LONG',
  'STB_PARSE_TRUNCATED',
  'STB_TRACE_INVALID_JSON',
  'STB_TRACE_SCHEMA_MISMATCH',
  'STB_TRACE_MISSING_HEADER',
  'STB_TRACE_EMPTY',
  'STB_TRACE_UNKNOWN_TEMPLATE',
  'STB_TRACE_VERSION_UNSUPPORTED',
  'STB_OUTPUT_WRITE_FAILED',
  // extraction
  'STB_EXTRACT_FAILED',
  // models and artifacts
  'STB_MODEL_ARTIFACT_INVALID',
  'STB_MODEL_ARTIFACT_VERSION',
  'STB_MODEL_FIT_FAILED',
  'STB_MODEL_EMPTY_INPUT',
  'STB_MODEL_MERGE_INCOMPATIBLE',
  'STB_MODEL_MERGE_UNSUPPORTED',
  // generation
  'STB_RENDER_VALUE_UNSUPPORTED',
  // plugins
  'STB_PLUGIN_NOT_FOUND',
  'STB_PLUGIN_OPTIONS_INVALID',
  'STB_PLUGIN_DEPENDENCY_MISSING',
  'STB_PLUGIN_PRIVILEGE_MISSING',
  'STB_PLUGIN_INVALID',
  // validation
  'STB_VALIDATE_FAILED',
  // benchmark
  'STB_DB_UNREACHABLE',
  'STB_DB_QUERY_FAILED',
  'STB_DB_TARGET_INVALID',
  'STB_WORKER_CRASHED',
  'STB_METRICS_SERVER_FAILED',
  // comparison
  'STB_BENCH_RESULT_INVALID',
  'STB_COMPARE_FAILED',
  'STB_BENCH_RESULT_MERGE_INCOMPATIBLE',
  'STB_TRACE_MERGE_INCOMPATIBLE',
  // generic
  'STB_ABORTED',
  'STB_OUT_OF_MEMORY',
  'STB_INTERNAL',
] as const;

/** A stable error code. */
export type StbErrorCode = (typeof STB_ERROR_CODES)[number];

/** JSON-safe value, used for error `details`. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** JSON-safe object. */
export type JsonObject = { [key: string]: JsonValue };

/** Options of the {@link StbError} constructor. */
export interface StbErrorOptions {
  cause?: unknown;
  details?: JsonObject;
}

/**
 * The one error class of SQL Trace Bench.
 * Messages follow `[stb] [<package or kind:plugin>] What happened. What to do.`
 */
export class StbError extends Error {
  override readonly name = 'StbError';
  readonly code: StbErrorCode;
  readonly details: JsonObject | undefined;

  constructor(
    code: StbErrorCode,
    message: string,
    options: StbErrorOptions = {},
  ) {
    super(
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.details = options.details;
  }
}

/** Where in which input a problem was found. */
export interface SourcePosition {
  /** The input's name: a file path, `<stdin>`, or a caller-chosen label. */
  source: string;
  /** 1-based line number. */
  line: number;
  /** 1-based column, when known. */
  column?: number;
  /** Field or JSON path, when known. */
  field?: string;
}

/** An error in an input: names the source, line, and (where known) column and field. */
export class ParseError extends StbError {
  readonly source: string;
  readonly line: number;
  readonly column: number | undefined;
  readonly field: string | undefined;

  constructor(
    code: StbErrorCode,
    message: string,
    options: StbErrorOptions & { position: SourcePosition },
  ) {
    const { position } = options;
    const details: JsonObject = {
      ...options.details,
      source: position.source,
      line: position.line,
    };
    if (position.column !== undefined) details['column'] = position.column;
    if (position.field !== undefined) details['field'] = position.field;
    super(code, message, { cause: options.cause, details });
    this.source = position.source;
    this.line = position.line;
    this.column = position.column;
    this.field = position.field;
  }
}

/** An error raised by or about a plugin. */
export class PluginError extends StbError {
  readonly pluginKind: string;
  readonly pluginName: string;

  constructor(
    code: StbErrorCode,
    message: string,
    options: StbErrorOptions & { pluginKind: string; pluginName: string },
  ) {
    super(code, message, {
      cause: options.cause,
      details: {
        ...options.details,
        pluginKind: options.pluginKind,
        pluginName: options.pluginName,
      },
    });
    this.pluginKind = options.pluginKind;
    this.pluginName = options.pluginName;
  }
}

/**
 * True when `err` is an {@link StbError} (optionally with the given code). Works across package
 * copies and worker threads, because it checks `name` and `code`, not the prototype.
 */
export function isStbError(err: unknown, code?: StbErrorCode): err is StbError {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; code?: unknown };
  if (e.name !== 'StbError' || typeof e.code !== 'string') return false;
  return code === undefined || e.code === code;
}

/** Normalises any thrown value into an {@link StbError} (`STB_INTERNAL` unless it already is one). */
export function toStbError(err: unknown, fallbackMessage?: string): StbError {
  if (err instanceof StbError) return err;
  if (isStbError(err)) return rehydrateError(serializeError(err));
  const message =
    err instanceof Error
      ? err.message
      : typeof err === 'string'
        ? err
        : String(err);
  return new StbError(
    'STB_INTERNAL',
    fallbackMessage ?? `[stb] Unexpected error: ${message}`,
    {
      cause: err,
    },
  );
}

/** The structured-clone-safe form of an error, for crossing threads. */
export interface SerializedError {
  name: string;
  code: string;
  message: string;
  details?: JsonObject;
  stack?: string;
}

/** Serialises an error for `postMessage`. */
export function serializeError(err: unknown): SerializedError {
  if (typeof err === 'object' && err !== null) {
    const e = err as {
      name?: unknown;
      code?: unknown;
      message?: unknown;
      details?: unknown;
      stack?: unknown;
    };
    const out: SerializedError = {
      name: typeof e.name === 'string' ? e.name : 'Error',
      code: typeof e.code === 'string' ? e.code : 'STB_INTERNAL',
      message: typeof e.message === 'string' ? e.message : JSON.stringify(err),
    };
    if (typeof e.details === 'object' && e.details !== null)
      out.details = e.details as JsonObject;
    if (typeof e.stack === 'string') out.stack = e.stack;
    return out;
  }
  return { name: 'Error', code: 'STB_INTERNAL', message: String(err) };
}

/** Turns a {@link SerializedError} back into an {@link StbError}. */
export function rehydrateError(s: SerializedError): StbError {
  const code = (STB_ERROR_CODES as readonly string[]).includes(s.code)
    ? (s.code as StbErrorCode)
    : 'STB_INTERNAL';
  const err = new StbError(
    code,
    s.message,
    s.details ? { details: s.details } : {},
  );
  if (s.stack) err.stack = s.stack;
  return err;
}

/** What a stage does with a bad record: throw, skip it (counted), or collect it (counted and kept). */
export type OnInvalid = 'throw' | 'skip' | 'collect';
