// `stb parse` of several inputs merged by time (issue 19, "several files"): what the merge costs
// against the same statements in one file. The 100 MiB pgbench stderr log of the parse-throughput
// benches ($STB_PARSE_BENCH_DIR/pg-100m.log, made when missing) is cut into (a) 10 rotated parts,
// one after another in time, given newest first, and (b) two logs of the same period, the
// clients split by pid parity. Each run is pinned to one core, then run with --workers 2;
// alternating rounds, medians.
// Env: STB_PARSE_BENCH_DIR; STB_PARSE_BENCH_ROUNDS (default 3).
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  statSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import {
  ensurePgLog,
  inRoundOrder,
  median,
  r1,
  r2,
  spinControl,
  stbRun,
} from './parse-bench-lib.mjs';

const DIR = process.env.STB_PARSE_BENCH_DIR ?? '/tmp/stb-parse-bench';
const PARTS = 10;
const log = (m) => process.stderr.write(`[parse-inputs] ${m}\n`);
const ENTRY = /^\S+ \S+ \S+ \[(\d+)\]/;

async function write(stream, text) {
  if (!stream.write(text)) await new Promise((r) => stream.once('drain', r));
}
const close = (s) => new Promise((r, j) => s.end((e) => (e ? j(e) : r())));

/** Cuts the log into `PARTS` rotated parts (at entry starts) and two logs by pid parity. */
async function makeInputs(file, size) {
  const dir = path.join(DIR, 'inputs');
  const rotated = Array.from({ length: PARTS }, (_, i) =>
    path.join(dir, `part-${String(i).padStart(2, '0')}.log`),
  );
  const pair = ['even', 'odd'].map((p) => path.join(dir, `${p}.log`));
  if ([...rotated, ...pair].every((f) => existsSync(f)))
    return { rotated, pair };
  mkdirSync(dir, { recursive: true });
  log('cutting the log into rotated parts and a pair by pid');
  const parts = rotated.map((f) => createWriteStream(f));
  const halves = pair.map((f) => createWriteStream(f));
  let bytes = 0;
  let part = 0;
  let half = 0;
  const lines = createInterface({
    input: createReadStream(file),
    crlfDelay: Infinity,
  });
  for await (const line of lines) {
    const pid = ENTRY.exec(line)?.[1];
    if (pid !== undefined) {
      half = Number(pid) % 2;
      if (bytes >= ((part + 1) * size) / PARTS && part < PARTS - 1) part++;
    }
    bytes += Buffer.byteLength(line) + 1;
    await write(parts[part], `${line}\n`);
    await write(halves[half], `${line}\n`);
  }
  await Promise.all([...parts, ...halves].map(close));
  return { rotated, pair };
}

async function main() {
  mkdirSync(DIR, { recursive: true });
  const file = ensurePgLog(log);
  const { rotated, pair } = await makeInputs(file, statSync(file).size);
  const newestFirst = [...rotated].reverse();
  const rounds = Number(process.env.STB_PARSE_BENCH_ROUNDS ?? 3);
  const control = await spinControl();
  const runs = {
    one: [],
    rotated: [],
    pair: [],
    oneW2: [],
    rotatedW2: [],
    pairW2: [],
  };
  const w2 = { args: ['--workers', '2'] };
  for (let i = 0; i < rounds; i++) {
    await inRoundOrder(
      i,
      [
        [
          'pinned to one core',
          () => {
            runs.one.push(stbRun(file, { pin: true }));
            runs.rotated.push(stbRun(newestFirst, { pin: true }));
            runs.pair.push(stbRun(pair, { pin: true }));
          },
        ],
        [
          '--workers 2',
          () => {
            runs.oneW2.push(stbRun(file, w2));
            runs.rotatedW2.push(stbRun(newestFirst, w2));
            runs.pairW2.push(stbRun(pair, w2));
          },
        ],
      ],
      (label) =>
        log(
          `round ${i + 1}/${rounds}: one file, ${PARTS} rotated parts, two logs of the same period; ${label}`,
        ),
    );
  }
  const statements = runs.one[0].statements;
  for (const [name, rs] of Object.entries(runs))
    if (rs.some((r) => r.statements !== statements))
      throw new Error(
        `${name}: another number of statements than the one file`,
      );
  const fig = (rs) => ({
    wall: median(rs.map((r) => r.wall)),
    cpu: median(rs.map((r) => r.cpu)),
    rss: Math.max(...rs.map((r) => r.rssMB)),
  });
  const one = fig(runs.one);
  const rot = fig(runs.rotated);
  const two = fig(runs.pair);
  const oneW2 = fig(runs.oneW2);
  const rotW2 = fig(runs.rotatedW2);
  const twoW2 = fig(runs.pairW2);
  const table = [
    '| input | wall s (median) | CPU s (median) | statements/CPU-s | peak RSS MB |',
    '|---|---:|---:|---:|---:|',
    ...[
      ['one file', one],
      [`${PARTS} rotated parts, newest first`, rot],
      ['two logs of the same period (pid parity)', two],
      ['one file, --workers 2', oneW2],
      [`${PARTS} rotated parts, --workers 2`, rotW2],
      ['two logs of the same period, --workers 2', twoW2],
    ].map(
      ([name, f]) =>
        `| ${name} | ${r2(f.wall)} | ${r2(f.cpu)} | ${Math.round(statements / f.cpu)} | ${r1(f.rss)} |`,
    ),
  ];
  const rows = [
    {
      metric: `CPU s: ${PARTS} rotated parts (newest first) ÷ one file`,
      value: r2(rot.cpu / one.cpu),
      unit: 'ratio',
    },
    {
      metric: 'CPU s: two logs of the same period ÷ one file',
      value: r2(two.cpu / one.cpu),
      unit: 'ratio',
    },
    {
      metric: `${PARTS} rotated parts: --workers 2 speed-up (wall of one thread pinned to one core ÷ wall with --workers 2)`,
      value: r2(rot.wall / rotW2.wall),
      unit: 'ratio',
    },
    {
      metric:
        'two logs of the same period: --workers 2 speed-up (wall pinned ÷ wall with --workers 2)',
      value: r2(two.wall / twoW2.wall),
      unit: 'ratio',
    },
    {
      metric:
        'one file: --workers 2 speed-up (wall pinned ÷ wall with --workers 2)',
      value: r2(one.wall / oneW2.wall),
      unit: 'ratio',
    },
    {
      metric: `${PARTS} rotated parts: CPU s --workers 2 ÷ one thread pinned`,
      value: r2(rotW2.cpu / rot.cpu),
      unit: 'ratio',
    },
    {
      metric: `${PARTS} rotated parts: --workers 2 peak RSS`,
      value: r1(rotW2.rss),
      unit: 'MB',
    },
    {
      metric:
        'control: wall of a CPU spin on 2 threads ÷ on 1 (1 = two free cores)',
      value: r2(control),
      unit: 'ratio',
    },
    {
      metric: `peak RSS: ${PARTS} rotated parts ÷ one file`,
      value: r2(rot.rss / one.rss),
      unit: 'ratio',
    },
    {
      metric: 'peak RSS: two logs of the same period ÷ one file',
      value: r2(two.rss / one.rss),
      unit: 'ratio',
    },
  ];
  process.stdout.write(
    `${JSON.stringify({
      title: 'stb parse of several inputs merged by time (issue 19)',
      command: 'flock /work/wt/bench.lock npm run bench -- parse-inputs',
      rows,
      table,
      notes: `The first 100 MiB of a pgbench stderr log (packages/parser/bench/make-pgbench-log.sh), ${statements} statements, parsed as one file, as ${PARTS} parts cut at entry starts every tenth of its bytes (rotated logs: one after another in time) given newest first, and as two logs holding the even and the odd pids' lines (the same period). \`stb parse --json -i <inputs> -o out.jsonl\`, each run pinned to one core (\`taskset -c 0\`), then each with \`--workers 2\` unpinned (a parse thread, which merges several inputs by time, and an extraction thread; the main thread assembles and writes), ${rounds} rounds in that order, medians of wall and CPU (user + system) seconds, the largest peak RSS. Each input's head is parsed twice (once to find where it enters the merge); sessions cut by a part boundary become two sessions (session ids carry the input's index), so the parts' traces have more sessions than the one file's. The control, a CPU spin on 2 threads ÷ on 1, is taken before the rounds: about 1 when both cores were free, near 2 when the second was taken by other work, which the pinned runs do not need and \`--workers 2\` does. ${os.cpus().length} cores, shared machine.`,
    })}\n`,
  );
}

await main();
