import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The built binary under test. */
export const CLI_PATH = path.resolve(__dirname, '../dist/cli.cjs');
/** The repository's real sample logs. */
export const SAMPLES_DIR = path.resolve(__dirname, '../../../fixtures/samples');

/** What one run of `stb` produced. */
export interface StbRun {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs the built `stb` as a real process. */
export function runStb(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string } = {},
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
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    child.stdin.end(options.stdin ?? '');
  });
}
