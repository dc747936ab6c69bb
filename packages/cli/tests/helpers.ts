import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { computeTemplateId } from '@stb/core';

/** The built binary under test. */
export const CLI_PATH = path.resolve(__dirname, '../dist/cli.cjs');
/** The repository's real sample logs. */
export const SAMPLES_DIR = path.resolve(__dirname, '../../../fixtures/samples');
/** The sample most tests parse: pgbench against PostgreSQL 15, `log_statement = 'all'`, stderr. */
export const PG_STATEMENT_LOG = path.join(
  SAMPLES_DIR,
  'pg-tpcb-simple-logstatement',
  'postgresql.log.gz',
);

/** What one run of `stb` produced. */
export interface StbRun {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs the built `stb` as a real process. With `timeoutMs`, a run still going then is killed
 * (SIGKILL) and its stderr ends with a line saying so, so a hang fails the test that waited for
 * it instead of its whole file's timeout.
 */
export function runStb(
  args: readonly string[],
  options: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    stdin?: string;
    timeoutMs?: number;
  } = {},
): Promise<StbRun> {
  if (!existsSync(CLI_PATH))
    throw new Error(
      `${CLI_PATH} is missing: build the CLI first (cd packages/cli && npx tsup, or npx nx run-many -t build).`,
    );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let hung = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            hung = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (hung)
        err.push(
          Buffer.from(
            `(killed: still running after ${options.timeoutMs} ms)\n`,
          ),
        );
      resolve({
        code,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

/** A built `stb` started as a real process, its stderr collected as it comes. */
export interface StartedStb {
  readonly child: ChildProcess;
  /** What it wrote to stderr so far. */
  stderr(): string;
  /** Its exit code, once it has exited. */
  readonly exited: Promise<number | null>;
}

/**
 * Starts the built `stb` and returns at once (for tests that act while it runs: signals, live
 * `/metrics`); `wrapper` runs it under another command, such as `['taskset', '-c', '0']`.
 */
export function startStb(
  args: readonly string[],
  options: { wrapper?: readonly string[] } = {},
): StartedStb {
  const [cmd, ...pre] = [...(options.wrapper ?? []), process.execPath];
  const child = spawn(cmd, [...pre, CLI_PATH, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  return { child, stderr: () => stderr, exited };
}

/** The `/metrics` address `stb bench` printed (`Metrics on http://…`), once it has. */
export const metricsUrlIn = (stderr: string): string | undefined =>
  /Metrics on (http:\/\/\S+)/.exec(stderr)?.[1];

/** The header of the PostgreSQL traces the tests write (1 µs stamps, a fixed creation time). */
export const PG_TRACE_HEADER = {
  kind: 'header',
  format: 'stb-trace',
  version: 1,
  dialect: 'postgres',
  source: {},
  timeResolutionUs: 1,
  createdAt: '2024-01-01T00:00:00Z',
} as const;

/**
 * A PostgreSQL trace at `file`: the header, a SELECT template per text of `texts`, then the
 * events `events` makes from the templates' ids (in that order).
 */
export function writePgTrace(
  file: string,
  texts: readonly string[],
  events: (ids: string[]) => unknown[],
): void {
  const ids = texts.map((t) => computeTemplateId('postgres', t));
  const lines = [
    PG_TRACE_HEADER,
    ...texts.map((text, i) => ({
      kind: 'template',
      id: ids[i],
      text,
      queryType: 'SELECT',
      tables: [],
      slots: [],
    })),
    ...events(ids),
  ];
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

/** A `--target` file at `file` for the DB plugin that module `module` exports as `plugin`. */
export function writePluginTarget(file: string, module: string): string {
  writeFileSync(
    file,
    JSON.stringify({ module, exportName: 'plugin', options: {} }),
  );
  return file;
}

/**
 * `stb validate` of `trace` against itself with the bench results `original` and `generated`
 * (`--bench-original`, `--bench-generated`): what it says of the runs.
 */
export function validateBenches(
  trace: string,
  original: string,
  generated: string,
): Promise<StbRun> {
  return runStb([
    'validate',
    '--original',
    trace,
    '--generated',
    trace,
    '--bench-original',
    original,
    '--bench-generated',
    generated,
  ]);
}
