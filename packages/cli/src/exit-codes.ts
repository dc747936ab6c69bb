import { isStbError } from '@stb/core';
import type { StbErrorCode } from '@stb/core';

/** Exit codes of `stb` (DESIGN.md, "CLI conventions"). */
export const EXIT_CODES = {
  /** Success. */
  ok: 0,
  /** The run completed but a check failed (score below `--min-score`, errors under `--fail-fast`). */
  checkFailed: 1,
  /** Usage: unknown option or command, missing or invalid argument. */
  usage: 2,
  /** Bad input: unreadable, missing or invalid files (logs, traces, model artifacts). */
  input: 3,
  /** Internal error: a bug; rerun with `--debug` and report it. */
  internal: 70,
  /** Interrupted (Ctrl-C / SIGINT / SIGTERM). */
  aborted: 130,
} as const;

/** One of {@link EXIT_CODES}. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

const USAGE_CODES: ReadonlySet<StbErrorCode> = new Set<StbErrorCode>([
  'STB_USAGE',
  'STB_OPTIONS_INVALID',
  'STB_PLUGIN_OPTIONS_INVALID',
  'STB_PLUGIN_NOT_FOUND',
  'STB_DB_TARGET_INVALID',
]);

const INPUT_CODES: ReadonlySet<StbErrorCode> = new Set<StbErrorCode>([
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
  'STB_TRACE_UNKNOWN_TEMPLATE',
  'STB_TRACE_VERSION_UNSUPPORTED',
  'STB_OUTPUT_WRITE_FAILED',
  'STB_EXTRACT_FAILED',
  'STB_MODEL_ARTIFACT_INVALID',
  'STB_MODEL_ARTIFACT_VERSION',
  'STB_MODEL_EMPTY_INPUT',
  'STB_MODEL_FIT_FAILED',
  'STB_RENDER_VALUE_UNSUPPORTED',
  'STB_PLUGIN_DEPENDENCY_MISSING',
  'STB_PLUGIN_INVALID',
  'STB_DB_UNREACHABLE',
]);

const CHECK_CODES: ReadonlySet<StbErrorCode> = new Set<StbErrorCode>([
  'STB_VALIDATE_FAILED',
  'STB_DB_QUERY_FAILED',
]);

/**
 * The exit code for a thrown value: usage codes → 2, input codes → 3, failed checks → 1,
 * `STB_ABORTED` → 130, anything else (including non-`StbError` values) → 70.
 */
export function exitCodeFor(err: unknown): ExitCode {
  if (!isStbError(err)) return EXIT_CODES.internal;
  if (err.code === 'STB_ABORTED') return EXIT_CODES.aborted;
  if (USAGE_CODES.has(err.code)) return EXIT_CODES.usage;
  if (INPUT_CODES.has(err.code)) return EXIT_CODES.input;
  if (CHECK_CODES.has(err.code)) return EXIT_CODES.checkFailed;
  return EXIT_CODES.internal;
}
