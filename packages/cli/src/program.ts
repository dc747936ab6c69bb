/**
 * The `stb` program: global options, error handling, and the command list.
 *
 * HOW TO ADD A COMMAND (for the engineers of other packages):
 * 1. Create `src/commands/<name>.ts` exporting
 *      `export function register(program: Command, ctx: CliContext): void`
 *    which calls `program.command('<name>')…action(async (opts) => { … })`. Keep it thin: parse
 *    options, call your package's public API, report with the `ctx` helpers.
 * 2. Add one entry to `COMMANDS` below (in the order `stb --help` lists it) and one to `MODULES`
 *    in `create-program.ts`.
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
 * 4. Add an e2e test in `tests/<name>.test.ts` running the built `dist/cli.cjs` (see
 *    `tests/helpers.ts`), and document the command in `README.md`.
 */
import { isStbError } from '@stb/core';
import { Command, CommanderError, Option } from 'commander';
import type { CliContext, CliIo, GlobalOptions } from './context';
import { LOG_LEVELS, createCliContext } from './context';
import type { ExitCode } from './exit-codes';
import { EXIT_CODES } from './exit-codes';
import { STB_VERSION } from './version';

/** A command module: `src/commands/<name>.ts`. */
export interface CommandModule {
  register(program: Command, ctx: CliContext): void;
}

/**
 * Every command, in the order `stb --help` lists them, with the import of its module. `runCli`
 * loads only the module of the command it runs: each module pulls in its packages (the parser
 * and extractor, the models, the bench runner and its drivers…), and loading all of them cost
 * about 1 s of CPU at every start (issue 19).
 */
export const COMMANDS = [
  { name: 'parse', load: () => import('./commands/parse') },
  { name: 'learn', load: () => import('./commands/learn') },
  { name: 'merge-models', load: () => import('./commands/merge-models') },
  { name: 'generate', load: () => import('./commands/generate') },
  { name: 'merge-traces', load: () => import('./commands/merge-traces') },
  { name: 'validate', load: () => import('./commands/validate') },
  { name: 'inspect', load: () => import('./commands/inspect') },
  { name: 'bench', load: () => import('./commands/bench') },
  { name: 'merge-results', load: () => import('./commands/merge-results') },
  { name: 'compare', load: () => import('./commands/compare') },
] as const satisfies readonly {
  name: string;
  load: () => Promise<CommandModule>;
}[];

/** The name of a command. */
export type CommandName = (typeof COMMANDS)[number]['name'];

/** A program plus the context its commands share. */
export interface CliProgram {
  program: Command;
  ctx: CliContext;
}

function defaultIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr };
}

/**
 * Builds the `stb` commander program with the given command modules (see {@link COMMANDS}).
 * Usage errors throw `CommanderError` (no `process.exit`).
 * @param io Streams and working directory (default: the process's).
 * @internal
 */
export function buildProgram(
  io: CliIo,
  modules: readonly CommandModule[],
): CliProgram {
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
  for (const command of modules) command.register(program, ctx);
  return { program, ctx };
}

/** The first operand of `argv` (global options skipped): the command's name, or undefined. */
function firstOperand(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') return undefined;
    if (a === '--log-level') {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return a;
  }
  return undefined;
}

/**
 * The command modules a run of `argv` needs: the named command's; none for `--version` alone;
 * all of them for the help (`--help`, `help`, no command), which lists every command.
 */
async function modulesFor(
  operand: string | undefined,
  argv: readonly string[],
): Promise<CommandModule[]> {
  const named = COMMANDS.find((c) => c.name === operand);
  if (named) return [await named.load()];
  if (
    operand === undefined &&
    argv.some((a) => a === '-V' || a === '--version')
  )
    return [];
  return Promise.all(COMMANDS.map((c) => c.load()));
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
  const { program, ctx } = buildProgram(io, []);
  try {
    const operand = firstOperand(argv);
    if (
      operand !== undefined &&
      operand !== 'help' &&
      !COMMANDS.some((c) => c.name === operand)
    ) {
      // `stb nosuch --help` must not print the top-level help and exit 0: a script probing for
      // a command (`stb compare --help`) would be told it exists.
      io.stderr.write(
        `[stb] unknown command '${operand}'. Commands: ${COMMANDS.map((c) => c.name).join(', ')}.\n(run with --help for usage)\n`,
      );
      return EXIT_CODES.usage;
    }
    for (const m of await modulesFor(operand, argv)) m.register(program, ctx);
    if (argv.length === 0) {
      program.outputHelp();
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
