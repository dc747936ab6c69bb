/**
 * The `stb` program: global options, error handling, and the command list.
 *
 * HOW TO ADD A COMMAND (for the engineers of other packages):
 * 1. Create `src/commands/<name>.ts` exporting
 *      `export function register(program: Command, ctx: CliContext): void`
 *    which calls `program.command('<name>')…action(async (opts) => { … })`. Keep it thin: parse
 *    options, call your package's public API, report with the `ctx` helpers.
 * 2. Add one import and one entry to `COMMANDS` below (alphabetical order).
 * 3. In the command use:
 *    - `ctx.globals()` for `--quiet/--json/--log-level/--debug`; `ctx.log.info(…)` for messages
 *      (stderr, `[stb]` prefix);
 *    - `ctx.progress({ label, total?, unit })` for a progress bar (drawn on stderr only when it is
 *      a TTY; silent otherwise);
 *    - `ctx.printSummary(summaryObject, { human: lines, dataOnStdout: output === '-' })` at the end;
 *    - `ctx.setExitCode(EXIT_CODES.checkFailed)` when the run completed but a check failed;
 *    - `ctx.signal` for cancellation, `ctx.resolvePath(p)` for user paths;
 *    - `addExamples(cmd, [...])` so `--help` shows examples (required for every command);
 *    - option parsers from `./options` (`parsePositiveInt`, `parseDurationUs`, …) so bad values
 *      are usage errors (exit 2).
 *    Throw `StbError`s; `runCli` prints one `[stb] …` line and maps the code to the exit code
 *    (see `exit-codes.ts`). Never call `process.exit` or write data anywhere but `ctx.io.stdout`.
 * 4. Add an e2e test in `tests/<name>.test.ts` running the built `dist/cli.js` (see
 *    `tests/helpers.ts`), and document the command in `README.md`.
 */
import { isStbError } from '@stb/core';
import { Command, CommanderError, Option } from 'commander';
import * as benchCommand from './commands/bench';
import * as compareCommand from './commands/compare';
import * as generateCommand from './commands/generate';
import * as inspectCommand from './commands/inspect';
import * as learnCommand from './commands/learn';
import * as mergeModelsCommand from './commands/merge-models';
import * as mergeResultsCommand from './commands/merge-results';
import * as mergeTracesCommand from './commands/merge-traces';
import * as parseCommand from './commands/parse';
import * as validateCommand from './commands/validate';
import type { CliContext, CliIo, GlobalOptions } from './context';
import { LOG_LEVELS, createCliContext } from './context';
import type { ExitCode } from './exit-codes';
import { EXIT_CODES } from './exit-codes';
import { STB_VERSION } from './version';

/** A command module: `src/commands/<name>.ts`. */
export interface CommandModule {
  register(program: Command, ctx: CliContext): void;
}

/** Every command, in the order `stb --help` lists them. */
const COMMANDS: readonly CommandModule[] = [
  parseCommand,
  learnCommand,
  mergeModelsCommand,
  generateCommand,
  mergeTracesCommand,
  validateCommand,
  inspectCommand,
  benchCommand,
  mergeResultsCommand,
  compareCommand,
];

/** A program plus the context its commands share. */
export interface CliProgram {
  program: Command;
  ctx: CliContext;
}

function defaultIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr };
}

/**
 * Builds the `stb` commander program. Usage errors throw `CommanderError` (no `process.exit`).
 * @param io Streams and working directory (default: the process's).
 */
export function createProgram(io: CliIo = defaultIo()): CliProgram {
  const program = new Command('stb');
  const ctx = createCliContext(io, () =>
    program.opts<Partial<GlobalOptions>>(),
  );
  program
    .description(
      'SQL Trace Bench: turn SQL logs into a workload model, generate synthetic traces, validate them and benchmark databases.',
    )
    .version(STB_VERSION, '-V, --version')
    .option('-q, --quiet', 'print only errors (no progress, no summary)')
    .option(
      '--json',
      'print the summary as one JSON object (on stdout; on stderr when data goes to stdout with `-o -`)',
    )
    .addOption(
      new Option('--log-level <level>', 'messages to print on stderr')
        .choices(LOG_LEVELS)
        .default('info'),
    )
    .option('--debug', 'print stack traces and debug messages')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) =>
        write(`[stb] ${s.replace(/^error: /, '').trimEnd()}\n`),
    })
    .exitOverride();
  program.addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 a check failed, 2 usage, 3 bad input, 70 internal error, 130 interrupted.

Examples:
  $ stb generate -m markov -i postgresql.log -n 100000 -o synthetic.jsonl
  $ stb parse -i postgresql.csv.gz -o trace.jsonl
  $ stb learn -i trace.jsonl -m hmm --states 16 -o model.json
  $ stb generate --model model.json -n 1000000 --seed 7 -o big.jsonl.gz
  $ stb inspect model.json
`,
  );
  for (const command of COMMANDS) command.register(program, ctx);
  return { program, ctx };
}

/** The first operand of `argv` when it names no command (global options skipped), else undefined. */
function unknownCommand(
  program: Command,
  argv: readonly string[],
): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') return undefined;
    if (a === '--log-level') {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    const known = program.commands.some(
      (c) => c.name() === a || c.aliases().includes(a),
    );
    return known || a === 'help' ? undefined : a;
  }
  return undefined;
}

function commanderExitCode(err: CommanderError): ExitCode {
  if (
    err.code === 'commander.helpDisplayed' ||
    err.code === 'commander.help' ||
    err.code === 'commander.version'
  )
    return EXIT_CODES.ok;
  return EXIT_CODES.usage;
}

/**
 * Runs `stb` with `argv` (the user's arguments, without `node` and the script) and resolves to the
 * exit code. Never throws and never calls `process.exit`.
 * @example
 * const code = await runCli(['generate', '--model', 'model.json', '-n', '10', '-o', '-']);
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo = defaultIo(),
): Promise<ExitCode> {
  const { program, ctx } = createProgram(io);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT_CODES.usage;
    }
    const unknown = unknownCommand(program, argv);
    if (unknown !== undefined) {
      // `stb nosuch --help` must not print the top-level help and exit 0: a script probing for
      // a command (`stb compare --help`) would be told it exists.
      io.stderr.write(
        `[stb] unknown command '${unknown}'. Commands: ${program.commands.map((c) => c.name()).join(', ')}.\n(run with --help for usage)\n`,
      );
      return EXIT_CODES.usage;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return commanderExitCode(err);
    // Interrupted: whatever error the abort surfaced as (a read stream's AbortError, a closed
    // pipe), the outcome is an interruption, not bad input or a bug.
    if (ctx.signal.aborted && !isStbError(err, 'STB_ABORTED')) {
      io.stderr.write('[stb] Interrupted before the command finished.\n');
      return EXIT_CODES.aborted;
    }
    return ctx.reportError(err);
  }
}
