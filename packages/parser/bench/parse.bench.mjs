// Parser throughput and memory. Builds a ≥ 1 GiB PostgreSQL stderr log by repeating the
// pg-tpcb-simple-logstatement sample with times shifted by whole days, parses it in a child
// process (so peak RSS is the parser's own), then compares with pgBadger on an ~18 MB cut of the
// same log, and measures the MariaDB general log the same way. Temporary files go to os.tmpdir()
// and are deleted at the end.
// Run: flock /tmp/stb-bench.lock node packages/parser/bench/parse.bench.mjs [sizeMiB]
import { spawnSync } from 'node:child_process';
import {
  createWriteStream,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '../../..');
const MiB = 1024 * 1024;
const PG_SAMPLE = path.join(
  ROOT,
  'fixtures/samples/pg-tpcb-simple-logstatement/postgresql.log.gz',
);
const MY_SAMPLE = path.join(
  ROOT,
  'fixtures/samples/mariadb-sysbench-text/mariadb_general.log.gz',
);
const PG_PREFIX = '%m [%p] %q%u@%d/%a ';

async function child(file, format) {
  const { parseLogs } = await import('@stb/parser');
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const run = parseLogs(file, { format, onInvalid: 'collect' });
  let events = 0;
  for await (const ev of run) if (ev.sql.length >= 0) events++;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const s = run.summary();
  process.stdout.write(
    JSON.stringify({
      bytes: statSync(file).size,
      events,
      seconds,
      cpuSeconds,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      invalid: s.skipped.invalid ?? 0,
      sessions: s.sessions,
    }) + '\n',
  );
}

function runChild(file, format) {
  const r = spawnSync(process.execPath, [SELF, '--child', file, format], {
    encoding: 'utf8',
    maxBuffer: 16 * MiB,
  });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

/** Writes copies of `lines` (day-shifted by `shift(line, k)`) until `target` bytes. */
async function build(file, lines, target, shift) {
  const out = createWriteStream(file);
  let bytes = 0;
  let copies = 0;
  while (bytes < target) {
    const chunk = lines.map((l) => shift(l, copies)).join('\n') + '\n';
    bytes += Buffer.byteLength(chunk);
    copies++;
    if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r, j) => out.end((err) => (err ? j(err) : r())));
  return { bytes, copies };
}

const pad = (n, w = 2) => String(n).padStart(w, '0');
function pgDay(k) {
  const d = new Date(Date.UTC(2026, 10, 24) + k * 86_400_000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}
function myDay(k) {
  const d = new Date(Date.UTC(2026, 10, 24) + k * 86_400_000);
  return `${pad(d.getUTCFullYear() % 100)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
}

async function main() {
  const sizeMiB = Number(process.argv[2] ?? 1024);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stb-parser-bench-'));
  const rows = [];
  const notes = [];
  try {
    const pgLines = gunzipSync(readFileSync(PG_SAMPLE))
      .toString('utf8')
      .trimEnd()
      .split('\n');
    const pgShift = (l, k) =>
      l.startsWith('2026-11-24') ? pgDay(k) + l.slice(10) : l;
    // 1. the big stderr log
    const big = path.join(dir, 'big.log');
    process.stderr.write(`building a ${sizeMiB} MiB stderr log…\n`);
    const b = await build(big, pgLines, sizeMiB * MiB, pgShift);
    process.stderr.write(
      `parsing ${(b.bytes / MiB).toFixed(0)} MiB (${b.copies} copies)…\n`,
    );
    const r = runChild(big, 'postgres-stderr');
    rmSync(big);
    const mbs = r.bytes / MiB / r.seconds;
    rows.push(
      {
        metric: `postgres-stderr ${(r.bytes / MiB).toFixed(0)} MiB: throughput (wall clock)`,
        value: +mbs.toFixed(1),
        unit: 'MiB/s',
        target: '≥ 50',
      },
      {
        metric: 'postgres-stderr: throughput per CPU second',
        value: +(r.bytes / MiB / r.cpuSeconds).toFixed(1),
        unit: 'MiB/CPU-s',
        target: '≥ 50',
      },
      {
        metric: 'postgres-stderr: statements/s',
        value: Math.round(r.events / r.seconds),
        unit: 'statements/s',
      },
      {
        metric: 'postgres-stderr: peak RSS',
        value: +(r.maxRssBytes / MiB).toFixed(0),
        unit: 'MiB',
        target: '< 300',
      },
      {
        metric: 'postgres-stderr: statements parsed',
        value: r.events,
        unit: 'statements',
        target: `${8405 * b.copies}`,
      },
    );
    if (r.events !== 8405 * b.copies || r.invalid !== 0)
      notes.push(`MISMATCH: ${r.events} events, ${r.invalid} invalid lines`);

    // 2. pgBadger vs us on ~18 MB of the same log
    const mid = path.join(dir, 'mid.log');
    const m = await build(mid, pgLines, 18 * 1000 * 1000, pgShift);
    const ours = runChild(mid, 'postgres-stderr');
    rows.push(
      {
        metric: `postgres-stderr ${(m.bytes / 1e6).toFixed(1)} MB: throughput (ours, wall clock)`,
        value: +(ours.bytes / MiB / ours.seconds).toFixed(1),
        unit: 'MiB/s',
      },
      {
        metric: `postgres-stderr ${(m.bytes / 1e6).toFixed(1)} MB: throughput (ours, per CPU second)`,
        value: +(ours.bytes / MiB / ours.cpuSeconds).toFixed(1),
        unit: 'MiB/CPU-s',
      },
    );
    const hasBadger =
      spawnSync('sh', ['-c', 'command -v pgbadger']).status === 0;
    if (hasBadger) {
      process.stderr.write('running pgbadger…\n');
      const t0 = process.hrtime.bigint();
      // bash's `times` prints the children's user and system CPU time on its second line.
      const pb = spawnSync(
        'bash',
        [
          '-c',
          'pgbadger "$@" >/dev/null || exit 1; times',
          '_',
          '-q',
          '-f',
          'stderr',
          '--prefix',
          PG_PREFIX,
          '-o',
          path.join(dir, 'out.json'),
          mid,
        ],
        { encoding: 'utf8' },
      );
      const sec = Number(process.hrtime.bigint() - t0) / 1e9;
      if (pb.status !== 0)
        notes.push(`pgbadger failed: ${pb.stderr.slice(0, 200)}`);
      else {
        const child = (pb.stdout.trim().split('\n')[1] ?? '')
          .split(/\s+/)
          .map((t) => {
            const mm = /^(\d+)m([\d.]+)s$/.exec(t);
            return mm ? Number(mm[1]) * 60 + Number(mm[2]) : 0;
          });
        const cpu = (child[0] ?? 0) + (child[1] ?? 0);
        rows.push(
          {
            metric: `pgBadger ${(m.bytes / 1e6).toFixed(1)} MB: throughput (wall clock)`,
            value: +(m.bytes / MiB / sec).toFixed(2),
            unit: 'MiB/s',
          },
          {
            metric: `pgBadger ${(m.bytes / 1e6).toFixed(1)} MB: throughput (per CPU second)`,
            value: +(m.bytes / MiB / cpu).toFixed(2),
            unit: 'MiB/CPU-s',
          },
          {
            metric: 'pgBadger: statements/s (wall clock)',
            value: Math.round(ours.events / sec),
            unit: 'statements/s',
          },
        );
      }
    } else notes.push('pgbadger not installed: its row is missing');
    rmSync(mid);

    // 3. MariaDB general log
    const myLines = gunzipSync(readFileSync(MY_SAMPLE))
      .toString('utf8')
      .trimEnd()
      .split('\n');
    const myShift = (l, k) => (/^\d{6} /.test(l) ? myDay(k) + l.slice(6) : l);
    const my = path.join(dir, 'general.log');
    const g = await build(my, myLines, 200 * MiB, myShift);
    const rg = runChild(my, 'mysql-general');
    rmSync(my);
    rows.push(
      {
        metric: `mysql-general ${(g.bytes / MiB).toFixed(0)} MiB: throughput (wall clock)`,
        value: +(rg.bytes / MiB / rg.seconds).toFixed(1),
        unit: 'MiB/s',
      },
      {
        metric: 'mysql-general: throughput per CPU second',
        value: +(rg.bytes / MiB / rg.cpuSeconds).toFixed(1),
        unit: 'MiB/CPU-s',
      },
      {
        metric: 'mysql-general: statements/s',
        value: Math.round(rg.events / rg.seconds),
        unit: 'statements/s',
      },
      {
        metric: 'mysql-general: peak RSS',
        value: +(rg.maxRssBytes / MiB).toFixed(0),
        unit: 'MiB',
      },
    );
    // 3 921 statements per copy, one of them the capture's own logging switch (skipped as
    // `logging-control` since that rule was added).
    if (rg.events !== 3920 * g.copies)
      notes.push(`MISMATCH mysql-general: ${rg.events} events`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  notes.push(
    `Node ${process.version}, ${os.cpus().length} cores; the parser runs in a child process, end to end from file to events (read, split lines, parse); 'per CPU second' divides by the child's user+system CPU time, which is steadier than wall clock on a loaded machine. pgBadger's CPU time is its process tree's (bash times).`,
  );
  process.stdout.write(
    JSON.stringify({
      title: '@stb/parser: log parsing throughput and memory',
      command:
        'flock /tmp/stb-bench.lock node packages/parser/bench/parse.bench.mjs',
      rows,
      notes: notes.join(' '),
    }) + '\n',
  );
}

if (process.argv[2] === '--child')
  await child(process.argv[3], process.argv[4]);
else await main();
