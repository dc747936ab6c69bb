import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

/** The repository root. */
export const ROOT = path.resolve(__dirname, '../..');
/** The examples' built programs (`npx tsup` in examples/, or the Nx build). */
export const EXAMPLES_DIST = path.resolve(__dirname, '../dist');
/** The built `stb` command. */
export const CLI = path.join(ROOT, 'packages/cli/dist/cli.cjs');
/** The shipped sample log and setup SQL. */
export const LOG = path.resolve(__dirname, '../data/pgbench-simple.log.gz');
export const SETUP_SQL = path.resolve(__dirname, '../data/pgbench-schema.sql');

/** What one process run produced. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, collecting its output. */
export function run(
  cmd: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `node <file> ...args`. */
export function runNode(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  if (!existsSync(file))
    throw new Error(
      `${file} is missing: build first (npx nx run-many -t build, or npx tsup in its package).`,
    );
  return run(process.execPath, [file, ...args], options);
}

/**
 * The process environment without any database connection settings, and without npm's own
 * variables (set when jest runs under `npm test`, they would steer a nested npm).
 */
export function envWithoutDatabases(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(PG|MYSQL|MARIADB|npm_)|DATABASE_URL|_DB_URL$/i.test(k)) env[k] = v;
  return env;
}

/** The shared PostgreSQL server of the tests. */
export const PG_URL =
  process.env['STB_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * True when the PostgreSQL server answers. When it does not, logs why the caller skips, or
 * throws under STB_REQUIRE_DB=1 (CI).
 */
export async function postgresReachable(what: string): Promise<boolean> {
  const client = new pg.Client({
    connectionString: PG_URL,
    connectionTimeoutMillis: 3000,
  });
  try {
    await client.connect();
    return true;
  } catch (err) {
    const why = `PostgreSQL at ${PG_URL.replace(/\/\/[^@]*@/, '//')} is unreachable (${(err as Error).message})`;
    if (process.env['STB_REQUIRE_DB'] === '1')
      throw new Error(`${why}; STB_REQUIRE_DB=1 requires it for ${what}.`);
    console.warn(`[examples] skipping ${what}: ${why}.`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
