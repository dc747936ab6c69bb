import * as bench from './commands/bench';
import * as compare from './commands/compare';
import * as generate from './commands/generate';
import * as inspect from './commands/inspect';
import * as learn from './commands/learn';
import * as mergeModels from './commands/merge-models';
import * as mergeResults from './commands/merge-results';
import * as mergeTraces from './commands/merge-traces';
import * as parse from './commands/parse';
import * as validate from './commands/validate';
import type { CliIo } from './context';
import type { CliProgram, CommandModule, CommandName } from './program';
import { COMMANDS, buildProgram } from './program';

/** Every command module, loaded up front (the `stb` binary loads only the one it runs). */
const MODULES: Record<CommandName, CommandModule> = {
  parse,
  learn,
  'merge-models': mergeModels,
  generate,
  'merge-traces': mergeTraces,
  validate,
  inspect,
  bench,
  'merge-results': mergeResults,
  compare,
};

/**
 * Builds the `stb` commander program with every command registered. Usage errors throw
 * `CommanderError` (no `process.exit`).
 * @param io Streams and working directory (default: the process's).
 */
export function createProgram(
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): CliProgram {
  return buildProgram(
    io,
    COMMANDS.map((c) => MODULES[c.name]),
  );
}
