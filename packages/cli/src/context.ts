import path from 'node:path';
import { isStbError, toStbError } from '@stb/core';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { ExitCode } from './exit-codes';
import { EXIT_CODES, exitCodeFor } from './exit-codes';

/** A writable text stream (process.stdout, process.stderr, or a test sink). */
export interface CliStream {
  write(chunk: string): boolean;
  /** True when the stream is a terminal (progress bars are drawn only then). */
  isTTY?: boolean;
  /** Terminal width, when a TTY. */
  columns?: number;
}

/** Where the CLI reads and writes. Defaults to the process's own streams. */
export interface CliIo {
  stdout: CliStream;
  stderr: CliStream;
  /** Base directory for relative paths (default `process.cwd()`). */
  cwd?: string;
  /** Aborted on Ctrl-C by the `stb` binary; commands pass it to long-running calls. */
  signal?: AbortSignal;
}

/** Log levels, most severe first. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options every command accepts (declared on the root program). */
export interface GlobalOptions {
  /** Only errors on stderr; no progress bars, no human summary. */
  quiet: boolean;
  /** Print the command's summary as one JSON object (stdout, or stderr when data goes to stdout). */
  json: boolean;
  logLevel: LogLevel;
  /** Stack traces on errors, debug logging. */
  debug: boolean;
}

/** Leveled messages on stderr, each line prefixed `[stb]`. */
export interface CliLogger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

/** A progress display; a no-op unless stderr is a TTY (and not `--quiet`/`--json`). */
export interface ProgressHandle {
  /** Sets the current value (and the total, when it becomes known). */
  update(value: number, total?: number): void;
  /** Removes the bar. Safe to call twice. */
  stop(): void;
}

/** Options of {@link CliContext.progress}. */
export interface ProgressOptions {
  /** What is being done: `Parsing`, `Generating`… */
  label: string;
  /** Expected final value, when known (bar with percentage); else a counter with rate. */
  total?: number;
  /** Unit of the value: `events`, `lines`, `bytes`… */
  unit?: string;
  /** More text after the bar, computed at each update (rates, counts). */
  detail?: () => string;
}

/** Options of {@link CliContext.printSummary}. */
export interface PrintSummaryOptions {
  /** Lines for people (stderr; suppressed by `--quiet`). */
  human: readonly string[];
  /** True when the command wrote its data to stdout (`-o -`): the `--json` summary then goes to stderr. */
  dataOnStdout?: boolean;
}

/** Shared helpers every command gets in `register(program, ctx)`. */
export interface CliContext {
  readonly io: CliIo;
  /** Aborted on Ctrl-C (never aborted when the host passed no signal). */
  readonly signal: AbortSignal;
  /** The global options of the current run. */
  globals(): GlobalOptions;
  readonly log: CliLogger;
  /** Prints one `[stb] …` line for `err` (stack only with `--debug`) and returns its exit code. */
  reportError(err: unknown): ExitCode;
  /** Sets the exit code of a run that completes (e.g. 1 when a check failed). */
  setExitCode(code: ExitCode): void;
  /** The exit code set so far (0 unless a command set one). */
  readonly exitCode: ExitCode;
  /** A progress bar on stderr when it is a TTY; otherwise silent. Never on stdout. */
  progress(options: ProgressOptions): ProgressHandle;
  /** Prints a command's summary: JSON with `--json`, else the human lines on stderr. */
  printSummary(summary: object, options: PrintSummaryOptions): void;
  /** Resolves a user path against the working directory; `-` stays `-`. */
  resolvePath(p: string): string;
}

const NOOP_PROGRESS: ProgressHandle = {
  update: () => undefined,
  stop: () => undefined,
};

/** Creates the context for one run of the program. */
export function createCliContext(
  io: CliIo,
  readGlobals: () => Partial<GlobalOptions>,
): CliContext {
  let exitCode: ExitCode = EXIT_CODES.ok;
  const signal = io.signal ?? new AbortController().signal;
  const globals = (): GlobalOptions => {
    const g = readGlobals();
    const debug = g.debug === true;
    const quiet = g.quiet === true;
    let logLevel: LogLevel = g.logLevel ?? 'info';
    if (debug) logLevel = 'debug';
    else if (quiet) logLevel = 'error';
    return { quiet, json: g.json === true, logLevel, debug };
  };
  const enabled = (level: LogLevel): boolean =>
    LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(globals().logLevel);
  const line = (level: LogLevel, message: string): void => {
    if (!enabled(level)) return;
    const text = message.startsWith('[stb]') ? message : `[stb] ${message}`;
    io.stderr.write(`${text}\n`);
  };
  const log: CliLogger = {
    error: (m) => line('error', m),
    warn: (m) => line('warn', m),
    info: (m) => line('info', m),
    debug: (m) => line('debug', m),
  };
  return {
    io,
    signal,
    globals,
    log,
    reportError(err) {
      const code = exitCodeFor(err);
      const { debug } = globals();
      const e = isStbError(err) ? err : toStbError(err);
      let message = e.message.split('\n')[0] ?? '';
      if (!message.startsWith('[stb]')) message = `[stb] ${message}`;
      if (!isStbError(err) && !debug) {
        if (!/[.!?:)`]$/.test(message)) message += '.';
        message += ' This is a bug: rerun with `--debug` and report it.';
      }
      io.stderr.write(`${message}\n`);
      if (debug) {
        const stack = err instanceof Error ? err.stack : undefined;
        if (stack) io.stderr.write(`${stack}\n`);
        let cause = err instanceof Error ? err.cause : undefined;
        while (cause instanceof Error) {
          io.stderr.write(`Caused by: ${cause.stack ?? cause.message}\n`);
          cause = cause.cause;
        }
        if (isStbError(err) && err.details)
          io.stderr.write(`details: ${JSON.stringify(err.details)}\n`);
      }
      return code;
    },
    setExitCode(code) {
      exitCode = code;
    },
    get exitCode() {
      return exitCode;
    },
    progress(options) {
      const g = globals();
      if (io.stderr.isTTY !== true || g.quiet || g.json) return NOOP_PROGRESS;
      return createBar(io.stderr, options);
    },
    printSummary(summary, options) {
      const g = globals();
      if (g.json) {
        const target = options.dataOnStdout ? io.stderr : io.stdout;
        target.write(`${JSON.stringify(summary)}\n`);
        return;
      }
      if (g.quiet) return;
      for (const l of options.human) io.stderr.write(`${l}\n`);
    },
    resolvePath(p) {
      if (p === '-') return p;
      return path.resolve(io.cwd ?? process.cwd(), p);
    },
  };
}

function createBar(
  stream: CliStream,
  options: ProgressOptions,
): ProgressHandle {
  const unit = options.unit ?? '';
  const known = options.total !== undefined && options.total > 0;
  const bar = new cliProgress.SingleBar(
    {
      stream: stream as unknown as NodeJS.WritableStream,
      format:
        (known
          ? `${options.label} [{bar}] {percentage}% | {value}/{total} ${unit} | {eta_formatted}`
          : `${options.label} {value} ${unit}`) +
        (options.detail ? ' | {detail}' : ''),
      hideCursor: false,
      clearOnComplete: true,
      fps: 5,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const payload = () => (options.detail ? { detail: options.detail() } : {});
  bar.start(known ? (options.total as number) : 0, 0, payload());
  let stopped = false;
  return {
    update(value, total) {
      if (stopped) return;
      if (total !== undefined && total > 0) bar.setTotal(total);
      bar.update(value, payload());
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

/**
 * Appends an `Examples:` section to a command's `--help`.
 * @example
 * addExamples(cmd, ['stb parse -i postgresql.log -o trace.jsonl']);
 */
export function addExamples(
  cmd: Command,
  examples: readonly string[],
): Command {
  return cmd.addHelpText(
    'after',
    `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`,
  );
}
