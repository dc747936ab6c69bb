// Helpers of the `stb parse` bench scripts (not a bench script itself: no `.bench.mjs`).
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';

const ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../..',
);
const STB = path.join(ROOT, 'packages/cli/dist/cli.cjs');
const MiB = 1024 * 1024;
const DIR = process.env.STB_PARSE_BENCH_DIR ?? '/tmp/stb-parse-bench';
const MY_SAMPLE = path.join(
  ROOT,
  'fixtures/samples/mariadb-sysbench-text/mariadb_general.log.gz',
);

/** /usr/bin/time's output: user s, system s, peak RSS KiB (read by {@link timeFile}). */
const TIME_FORMAT = '%U %S %M';

/** Runs a command under /usr/bin/time: wall s, CPU s, peak RSS MB, stdout. */
export function timed(cmd, args, { env } = {}) {
  const tf = path.join(DIR, '.time');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', TIME_FORMAT, '-o', tf, cmd, ...args],
    {
      encoding: 'utf8',
      maxBuffer: 64 * MiB,
      ...(env === undefined ? {} : { env: { ...process.env, ...env } }),
    },
  );
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return { wall, ...timeFile(tf), stdout: r.stdout };
}

/** CPU s and peak RSS MB from a /usr/bin/time output file ({@link TIME_FORMAT}). */
function timeFile(tf) {
  const [u, s, m] = readFileSync(tf, 'utf8')
    .trim()
    .split('\n')
    .at(-1)
    .split(' ')
    .map(Number);
  return { cpu: u + s, rssMB: m / 1024 };
}

/** Preloaded to sample each thread's CPU (see thread-cpu.cjs). */
const THREAD_CPU = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'thread-cpu.cjs',
);

/**
 * `stb parse --json` of `file` (a path, or several in an array; extra `args` after them),
 * `taskset -c 0` when `pin`. With `threads`, also each JavaScript thread's CPU s (`main`,
 * `parse`, `extract-<id>`) and `other`: the process's CPU less theirs (V8's helper threads:
 * garbage collection and optimising compilation; libuv's pool: file reads and writes).
 */
export function stbRun(
  file,
  { pin = false, args: extra = [], threads = false } = {},
) {
  const out = path.join(DIR, 'out.jsonl');
  const args = [
    ...(threads ? ['-r', THREAD_CPU] : []),
    ...parseArgs(file, out, extra),
  ];
  const cpuDir = path.join(DIR, '.threads');
  if (threads) {
    rmSync(cpuDir, { recursive: true, force: true });
    mkdirSync(cpuDir);
  }
  const env = threads ? { STB_THREAD_CPU_DIR: cpuDir } : undefined;
  const r = pin
    ? timed('taskset', ['-c', '0', process.execPath, ...args], { env })
    : timed(process.execPath, args, { env });
  rmSync(out, { force: true });
  let perThread;
  if (threads) {
    perThread = Object.fromEntries(
      readdirSync(cpuDir).map((f) => [
        f.replace(/\.txt$/, ''),
        Number(readFileSync(path.join(cpuDir, f), 'utf8')),
      ]),
    );
    perThread.other =
      r.cpu - Object.values(perThread).reduce((a, b) => a + b, 0);
    rmSync(cpuDir, { recursive: true, force: true });
  }
  return { ...r, statements: statementsOf(r.stdout), threads: perThread };
}

/** `stb parse --json` of `file` (a path or several) into `out`, then `extra`: node's arguments. */
function parseArgs(file, out, extra = []) {
  const inputs = Array.isArray(file) ? file : [file];
  return [STB, 'parse', '--json', '-i', ...inputs, '-o', out, ...extra];
}

/** Statements written, from `stb parse --json`'s summary (its last line on stdout). */
function statementsOf(stdout) {
  return JSON.parse(stdout.trim().split('\n').at(-1)).statements;
}

/**
 * The machine's own ceiling for two threads on this work: two one-thread `stb parse` runs of
 * `file` at the same time, one pinned to each core (`taskset -c 0` and `-c 1`), each writing its
 * own output. Resolves to both runs' wall s (from the start of both to each one's end), CPU s and
 * statements written.
 */
export async function stbPair(file) {
  const one = (core) =>
    new Promise((resolve, reject) => {
      const tf = path.join(DIR, `.time-pair-${core}`);
      const out = path.join(DIR, `out-pair-${core}.jsonl`);
      const child = spawn(
        '/usr/bin/time',
        [
          '-f',
          TIME_FORMAT,
          '-o',
          tf,
          'taskset',
          '-c',
          String(core),
          process.execPath,
          ...parseArgs(file, out),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => {
        const wall = Number(process.hrtime.bigint() - t0) / 1e9;
        rmSync(out, { force: true });
        if (code !== 0)
          reject(new Error(`stb parse on core ${core} failed: ${stderr}`));
        else
          resolve({ wall, ...timeFile(tf), statements: statementsOf(stdout) });
      });
    });
  const t0 = process.hrtime.bigint();
  return Promise.all([one(0), one(1)]);
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/**
 * Runs one round's steps (`[label, fn]`, `fn` may be async), in the given order in even rounds
 * (0, 2, …) and reversed in odd ones, so that an order effect favours neither side; `onStep`
 * sees each label before its step runs.
 */
export async function inRoundOrder(round, steps, onStep = () => {}) {
  for (const [label, step] of round % 2 === 1 ? [...steps].reverse() : steps) {
    onStep(label);
    await step();
  }
}
export const r1 = (x) => Math.round(x * 10) / 10;
export const r2 = (x) => Math.round(x * 100) / 100;

const MAKE_LOG = path.join(ROOT, 'packages/parser/bench/make-pgbench-log.sh');

/**
 * $STB_PARSE_BENCH_DIR/made: the logs (postgresql.log, .csv, .json) of one 1.1 GB pgbench run,
 * made by make-pgbench-log.sh (private PostgreSQL, a few minutes) when missing. `log` reports
 * progress.
 */
export function ensureMade1g(log) {
  const made = path.join(DIR, 'made');
  if (!existsSync(path.join(made, 'postgresql.log'))) {
    log('making the PostgreSQL logs (pgbench, a few minutes)');
    const r = spawnSync(MAKE_LOG, [made, '1100'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('make-pgbench-log.sh failed');
  }
  return made;
}

/**
 * $STB_PARSE_BENCH_DIR/pg-100m.<ext> (`log`: stderr, `csv`, `json`): the first 100 MiB of one
 * 110 MB pgbench run's log of that destination, made by make-pgbench-log.sh (private PostgreSQL,
 * about 30 s) when missing. `log` reports progress.
 */
export function ensurePgLog(log, ext = 'log') {
  const file = path.join(DIR, `pg-100m.${ext}`);
  if (existsSync(file)) return file;
  const made = path.join(DIR, 'made-110');
  if (!existsSync(path.join(made, `postgresql.${ext}`))) {
    log('making a 110 MB PostgreSQL log (pgbench, about 30 s)');
    const r = spawnSync(MAKE_LOG, [made, '110'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('make-pgbench-log.sh failed');
  }
  cut(path.join(made, `postgresql.${ext}`), file, 100 * MiB);
  return file;
}

/**
 * Copies the first `bytes` of `src` to `dst`, cut after the last complete line. Copied 1 MiB at a
 * time (the 1 GiB log never sits in memory) into `<dst>.part`, renamed when complete: an
 * interrupted cut leaves no `dst` for the next run to take as made.
 */
export function cut(src, dst, bytes) {
  if (existsSync(dst)) return;
  const part = `${dst}.part`;
  const from = openSync(src, 'r');
  const to = openSync(part, 'w');
  const buf = Buffer.allocUnsafe(MiB);
  let pos = 0;
  // Bytes up to and including the last newline copied.
  let lines = 0;
  try {
    while (pos < bytes) {
      const n = readSync(from, buf, 0, Math.min(MiB, bytes - pos), pos);
      if (n === 0) break;
      writeSync(to, buf, 0, n);
      const nl = buf.lastIndexOf(10, n - 1);
      if (nl !== -1) lines = pos + nl + 1;
      pos += n;
    }
  } finally {
    closeSync(from);
    closeSync(to);
  }
  truncateSync(part, lines);
  renameSync(part, dst);
}

/**
 * $STB_PARSE_BENCH_DIR/pg-1g.<ext> (`log`: stderr, `csv`, `json`): the first 1 GiB of that log of
 * {@link ensureMade1g}'s run (made when missing).
 */
export function ensurePg1g(log, ext = 'log') {
  const file = path.join(DIR, `pg-1g.${ext}`);
  if (!existsSync(file))
    cut(path.join(ensureMade1g(log), `postgresql.${ext}`), file, 1024 * MiB);
  return file;
}

/** A MariaDB general log of `target` bytes: the sysbench sample repeated, days shifted. */
export async function buildMysql(file, target) {
  if (existsSync(file)) return;
  const lines = gunzipSync(readFileSync(MY_SAMPLE))
    .toString('utf8')
    .trimEnd()
    .split('\n');
  const out = createWriteStream(file);
  const pad = (n) => String(n).padStart(2, '0');
  let bytes = 0;
  for (let k = 0; bytes < target; k++) {
    const d = new Date(Date.UTC(2026, 10, 24) + k * 86_400_000);
    const day = `${pad(d.getUTCFullYear() % 100)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
    const chunk = `${lines.map((l) => l.replace(/^\d{6}(?= )/, day)).join('\n')}\n`;
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r, j) => out.end((err) => (err ? j(err) : r())));
}

const SPIN = 'let x = 0; for (let i = 0; i < 3e8; i++) x += i % 7;';

/**
 * Control: wall time of a CPU-bound spin on 2 threads at once ÷ on 1. About 1 on two free cores;
 * near 2 when a second core was not to be had (other work on the machine).
 */
export async function spinControl() {
  const wall = async (n) => {
    const t0 = Date.now();
    await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise((resolve, reject) =>
            new Worker(SPIN, { eval: true })
              .on('exit', resolve)
              .on('error', reject),
          ),
      ),
    );
    return Date.now() - t0;
  };
  return (await wall(2)) / (await wall(1));
}
