import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * Private database servers for tests that need a server feature the shared ones do not have on
 * (a restart, performance_schema, a log setting): a scratch data directory and a free loopback
 * port, never the shared servers' configuration.
 */

/** A private server started by {@link startScratchPostgres} or {@link startScratchMariadb}. */
export interface ScratchServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` or `mysql://root@127.0.0.1:<port>/`. */
  readonly url: string;
  readonly port: number;
  /** Starts it again after {@link ScratchServer.stop}. */
  start(): Promise<void>;
  /** Stops it cleanly (PostgreSQL `-m fast`, MariaDB SIGTERM), waiting for the exit. */
  stop(): Promise<void>;
  /** Kills it, whatever its state (for `afterAll`). */
  destroy(): Promise<void>;
}

/** Binaries of the Debian packages, overridable for other layouts. */
export const SCRATCH_DB_BINARIES = {
  postgresBin: '/usr/lib/postgresql/15/bin',
  mariadbd: '/usr/sbin/mariadbd',
  mariadbInstallDb: '/usr/bin/mariadb-install-db',
};

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, ms));

/** True when the binaries a scratch server of this kind needs are installed (PostgreSQL: as root, to run them as `postgres`). */
export function canStartScratch(kind: 'postgres' | 'mariadb'): boolean {
  if (kind === 'mariadb')
    return (
      existsSync(SCRATCH_DB_BINARIES.mariadbd) &&
      existsSync(SCRATCH_DB_BINARIES.mariadbInstallDb)
    );
  return (
    existsSync(path.join(SCRATCH_DB_BINARIES.postgresBin, 'pg_ctl')) &&
    process.getuid?.() === 0
  );
}

/**
 * initdb + pg_ctl in `dir/pg` on a free port (trust auth, fsync off, socket in `dir`), run as the
 * `postgres` user through `runuser` (so the test runs as root).
 * @example
 * const pg = await startScratchPostgres(mkdtempSync(join(tmpdir(), 'stb-pg-')));
 * afterAll(() => pg.destroy());
 */
export async function startScratchPostgres(
  dir: string,
  settings: readonly string[] = [],
): Promise<ScratchServer> {
  const port = await freePort();
  const data = path.join(dir, 'pg');
  const bin = SCRATCH_DB_BINARIES.postgresBin;
  chmodSync(dir, 0o777);
  const asPg = (cmd: string, args: string[]): string =>
    execFileSync(
      'runuser',
      ['-u', 'postgres', '--', `${bin}/${cmd}`, ...args],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  asPg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const opts = [
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    ...settings.map((s) => `-c ${s}`),
  ].join(' ');
  const start = async (): Promise<void> => {
    asPg('pg_ctl', [
      '-D',
      data,
      '-o',
      opts,
      '-l',
      path.join(dir, 'pg.log'),
      '-w',
      'start',
    ]);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop: async () => {
      asPg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
    destroy: async () => {
      try {
        asPg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
    },
  };
}

/**
 * mariadb-install-db + mariadbd in `dir/my` on a free port (root without password, binary log
 * off), waiting until it accepts connections (30 s at most). `args` are extra server options
 * (`--performance-schema=ON`).
 */
export async function startScratchMariadb(
  dir: string,
  args: readonly string[] = [],
): Promise<ScratchServer> {
  const port = await freePort();
  const data = path.join(dir, 'my');
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  execFileSync(
    SCRATCH_DB_BINARIES.mariadbInstallDb,
    [
      '--no-defaults',
      `--datadir=${data}`,
      ...asRoot,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ],
    { stdio: 'ignore' },
  );
  let proc: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const p = spawn(
      SCRATCH_DB_BINARIES.mariadbd,
      [
        '--no-defaults',
        `--datadir=${data}`,
        `--port=${port}`,
        `--socket=${path.join(dir, 'my.sock')}`,
        '--bind-address=127.0.0.1',
        ...asRoot,
        '--skip-log-bin',
        '--innodb-buffer-pool-size=16M',
        `--pid-file=${path.join(dir, 'my.pid')}`,
        ...args,
      ],
      { stdio: 'ignore' },
    );
    proc = p;
    for (let i = 0; i < 300 && p.exitCode === null; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        const c = net.connect(port, '127.0.0.1');
        c.once('connect', () => {
          c.destroy();
          resolve(true);
        });
        c.once('error', () => resolve(false));
      });
      if (ok) return;
      await sleep(100);
    }
    p.kill('SIGKILL');
    throw new Error(
      `private mariadbd did not accept connections on 127.0.0.1:${port} (data in ${data})`,
    );
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `mysql://root@127.0.0.1:${port}/`,
    port,
    start,
    stop,
    destroy: async () => {
      const p = proc;
      if (!p || p.exitCode !== null) return;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await exited;
    },
  };
}
