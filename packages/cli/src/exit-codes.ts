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

/**
 * The exit code of every error code. A `Record` over the whole union, so adding a code to core
 * without deciding its exit code here is a type error rather than a silent exit 70.
 */
const EXIT_CODE_OF: Readonly<Record<StbErrorCode, ExitCode>> = {
  // usage
  STB_USAGE: EXIT_CODES.usage,
  STB_OPTIONS_INVALID: EXIT_CODES.usage,
  STB_PLUGIN_OPTIONS_INVALID: EXIT_CODES.usage,
  STB_PLUGIN_NOT_FOUND: EXIT_CODES.usage,
  STB_DB_TARGET_INVALID: EXIT_CODES.usage,
  // bad input (files, artifacts, plugins, unreachable targets)
  STB_INPUT_NOT_FOUND: EXIT_CODES.input,
  STB_INPUT_UNREADABLE: EXIT_CODES.input,
  STB_INPUT_ENCODING: EXIT_CODES.input,
  STB_GZIP_CORRUPT: EXIT_CODES.input,
  STB_PARSE_INVALID_LINE: EXIT_CODES.input,
  STB_PARSE_UNKNOWN_FORMAT: EXIT_CODES.input,
  STB_PARSE_LINE_TOO_LONG: EXIT_CODES.input,
  STB_PARSE_TRUNCATED: EXIT_CODES.input,
  STB_TRACE_INVALID_JSON: EXIT_CODES.input,
  STB_TRACE_SCHEMA_MISMATCH: EXIT_CODES.input,
  STB_TRACE_MISSING_HEADER: EXIT_CODES.input,
  STB_TRACE_EMPTY: EXIT_CODES.input,
  STB_TRACE_UNKNOWN_TEMPLATE: EXIT_CODES.input,
  STB_TRACE_VERSION_UNSUPPORTED: EXIT_CODES.input,
  STB_OUTPUT_WRITE_FAILED: EXIT_CODES.input,
  STB_EXTRACT_FAILED: EXIT_CODES.input,
  STB_MODEL_ARTIFACT_INVALID: EXIT_CODES.input,
  STB_MODEL_ARTIFACT_VERSION: EXIT_CODES.input,
  STB_MODEL_EMPTY_INPUT: EXIT_CODES.input,
  STB_MODEL_FIT_FAILED: EXIT_CODES.input,
  STB_MODEL_MERGE_INCOMPATIBLE: EXIT_CODES.input,
  STB_MODEL_MERGE_UNSUPPORTED: EXIT_CODES.usage,
  STB_BENCH_RESULT_MERGE_INCOMPATIBLE: EXIT_CODES.input,
  STB_TRACE_MERGE_INCOMPATIBLE: EXIT_CODES.input,
  STB_RENDER_VALUE_UNSUPPORTED: EXIT_CODES.input,
  STB_PLUGIN_DEPENDENCY_MISSING: EXIT_CODES.input,
  // the environment: a privilege the options ask for (pg-native's realtime)
  STB_PLUGIN_PRIVILEGE_MISSING: EXIT_CODES.input,
  STB_PLUGIN_INVALID: EXIT_CODES.input,
  STB_DB_UNREACHABLE: EXIT_CODES.input,
  // the environment: a busy or forbidden metrics port
  STB_METRICS_SERVER_FAILED: EXIT_CODES.input,
  STB_BENCH_RESULT_INVALID: EXIT_CODES.input,
  // the environment: a thread that ran out of memory on this input
  STB_OUT_OF_MEMORY: EXIT_CODES.input,
  // the run completed but a check failed
  STB_VALIDATE_FAILED: EXIT_CODES.checkFailed,
  STB_DB_QUERY_FAILED: EXIT_CODES.checkFailed,
  STB_COMPARE_FAILED: EXIT_CODES.checkFailed,
  // interrupted
  STB_ABORTED: EXIT_CODES.aborted,
  // internal
  STB_WORKER_CRASHED: EXIT_CODES.internal,
  STB_INTERNAL: EXIT_CODES.internal,
};

/**
 * The exit code for a thrown value: usage codes → 2, input codes → 3, failed checks → 1,
 * `STB_ABORTED` → 130, anything else (including non-`StbError` values) → 70.
 */
export function exitCodeFor(err: unknown): ExitCode {
  if (!isStbError(err)) return EXIT_CODES.internal;
  // A code from a newer core than this CLI knows: treat as internal.
  return EXIT_CODE_OF[err.code] ?? EXIT_CODES.internal;
}
