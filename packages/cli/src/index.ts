/**
 * `@stb/cli`: the `stb` command. The binary is `dist/cli.cjs`; this entry point runs the same
 * program in-process (for embedding and tests).
 * @packageDocumentation
 */

/** Builds the commander program (commands registered, usage errors thrown, never exits). */
export { createProgram } from './create-program';
export { runCli } from './program';
/** Types of the program and command modules. */
export type { CliProgram, CommandModule } from './program';
/** The shared helpers commands receive. */
export { addExamples, createCliContext, LOG_LEVELS } from './context';
/** Context types. */
export type {
  CliContext,
  CliIo,
  CliLogger,
  CliStream,
  GlobalOptions,
  LogLevel,
  PrintSummaryOptions,
  ProgressHandle,
  ProgressOptions,
} from './context';
/** Exit codes and their mapping from error codes. */
export { EXIT_CODES, exitCodeFor } from './exit-codes';
/** Exit code type. */
export type { ExitCode } from './exit-codes';
/** Version of the CLI. */
export { STB_VERSION } from './version';
