// `stb parse` on logs whose statements are all distinct (issue 19, flat memory): peak RSS and
// the memory each template costs, with one thread and with `--workers 2`. A pgbench log has a
// handful of templates, so the other parse benches never show what a shape and its template
// hold; a log of hand-written or generated SQL has thousands. The logs come from a private
// PostgreSQL (packages/parser/bench/make-distinct-log.sh: N point selects through psql, each with
// column aliases of its own, log_statement = 'all'), made once into $STB_PARSE_BENCH_DIR (default
// /tmp/stb-parse-bench); they are never committed.
//
// Run: flock /work/wt/bench.lock npm run bench -- parse-templates
// Env: STB_PARSE_BENCH_DIR; STB_PARSE_BENCH_ROUNDS (default 3).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inRoundOrder, median, r1, stbRun } from './parse-bench-lib.mjs';

const DIR = process.env.STB_PARSE_BENCH_DIR ?? '/tmp/stb-parse-bench';
const ROUNDS = Number(process.env.STB_PARSE_BENCH_ROUNDS ?? 3);
const MAKE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../parser/bench/make-distinct-log.sh',
);
// 30k and 90k: within the shape cache (`maxCachedShapes`, 100 000); 150k: past it, where the
// cache was cleared once
const SIZES = [30_000, 90_000, 150_000];
const log = (m) => process.stderr.write(`[parse-templates] ${m}\n`);

function ensureLog(n) {
  const file = path.join(DIR, `distinct-${n / 1000}k.log`);
  if (existsSync(file)) return file;
  log(`making a log of ${n} distinct statements (private PostgreSQL)`);
  const r = spawnSync(MAKE, [file, String(n)], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('make-distinct-log.sh failed');
  return file;
}

async function main() {
  mkdirSync(DIR, { recursive: true });
  const runs = [];
  for (const n of SIZES)
    for (const workers of [0, 2])
      runs.push({ n, workers, file: ensureLog(n), wall: [], rss: [] });
  for (let round = 0; round < ROUNDS; round++)
    await inRoundOrder(
      round,
      runs.map((r) => [
        `${r.n} statements, --workers ${r.workers}`,
        () => {
          const x = stbRun(r.file, { args: ['--workers', String(r.workers)] });
          if (x.statements !== r.n)
            throw new Error(
              `${r.file}: ${x.statements} statements, not ${r.n}`,
            );
          r.wall.push(x.wall);
          r.rss.push(x.rssMB);
        },
      ]),
      (label) => log(`round ${round + 1}: ${label}`),
    );
  const rows = [];
  const peak = (r) => Math.max(...r.rss);
  for (const r of runs) {
    rows.push({
      metric: `${r.n} distinct statements, --workers ${r.workers}: peak RSS`,
      value: r1(peak(r)),
      unit: 'MB',
    });
    rows.push({
      metric: `${r.n} distinct statements, --workers ${r.workers}: wall (median)`,
      value: Math.round(median(r.wall) * 100) / 100,
      unit: 's',
    });
  }
  for (const workers of [0, 2]) {
    const at = (n) => runs.find((r) => r.n === n && r.workers === workers);
    for (const [small, big, what] of [
      [at(30_000), at(90_000), 'within the shape cache'],
      [at(90_000), at(150_000), 'past the shape cache limit'],
    ])
      rows.push({
        metric: `--workers ${workers}: peak RSS per template, ${what} ((${big.n / 1000}k − ${small.n / 1000}k) ÷ ${(big.n - small.n) / 1000}k)`,
        value: Math.round(
          ((peak(big) - peak(small)) * 1024 * 1024) / (big.n - small.n),
        ),
        unit: 'bytes',
      });
  }
  process.stdout.write(
    `${JSON.stringify({
      title: 'stb parse: memory per template (issue 19)',
      command: 'flock /work/wt/bench.lock npm run bench -- parse-templates',
      rows,
      notes: `Logs: packages/parser/bench/make-distinct-log.sh, a private PostgreSQL 15 with log_statement = 'all' running N point selects on pgbench's tables through psql, statement i naming its 1–6 columns with aliases of its own (a_<i>_<k>): every statement is a template of its own. \`stb parse --json -i <log> -o out.jsonl --workers 0|2\`, ${ROUNDS} rounds in alternating order, the largest peak RSS (/usr/bin/time, MB of 1,048,576 bytes) and the median wall time. The per-template figures are the difference of two logs' peak RSS over the difference of their templates: 30k → 90k within the shape cache (\`maxCachedShapes\`, 100,000 shapes; with --workers 2 in the extraction thread), 90k → 150k past it (the cache is cleared once at 100,000, so that slope leaves most of the shapes out). A template's record is held until it is written (when its first event leaves the reorder window), and a shape's for as long as the cache keeps it. The same script on earlier code (2026-12-07, 1 round each, same logs and machine, load 1.4 → 1.1), peak RSS one thread / --workers 2: before issue 19's changes to what a template costs (554ea4c) 30k 217.8 / 300.7 MB, 90k 381.8 / 573.8, 150k 424.2 / 795.2, per template within the cache 2,866 / 4,773 bytes; with only the run's catalog dropped (keepTemplates: false, dda5549) 207.9 / 304.4, 387.4 / 559.1, 444.4 / 730.4. The catalog shares its template objects with the shape cache, so dropping it frees them only where the cache no longer holds them (past its limit, and in --workers 2's main thread, which holds copies); the flat copies of what a shape keeps (fcca7f6) act within the cache. By hand on a generated log of 150,000 longer statements (joins, 1–6 columns, 30 MB), where V8's ropes held more: one thread 823.1 → 486.2 MB, --workers 2 1,299.7 → 801.3 MB.`,
    })}\n`,
  );
}

await main();
