// Interval calibration of `stb compare`: batches of 20 seeded repetitions of the same trace against
// SQLite in memory, each a pair of runs of the identical workload compared at the default settings
// (5 % minimum effect, 95 % intervals, verdict on p50 and p95). Every verdict other than "no
// significant change" is false. Target: at most 10 % false verdicts, per template and for the
// whole run, in every batch. The repetitions alternate which of the two runs is the baseline.
// The whole-run verdict is also recomputed without the runs' time windows (the batch-means
// interval it used before), and one batch of short runs (48 000 statements, ~0.25 s) shows
// what no within-run statistic can see.
// Build first (npm run bench does). Prints progress to stderr and one JSON object as the last
// stdout line.
import { loadavg } from 'node:os';
import { TemplateCatalog, computeTemplateId, createRng } from '@stb/core';
import { runBench } from '@stb/bench';
import { compareBenchResults } from '@stb/compare';

const REPS = Number(process.env.REPS ?? 20);
const BATCHES = Number(process.env.BATCHES ?? 2);
/** Rounds of the trace (16 statements each) in the main batches and in the short batch. */
const ROUNDS = Number(process.env.ROUNDS ?? 30000);
const SHORT_ROUNDS = Number(process.env.SHORT_ROUNDS ?? 3000);
// Untimed runs before the repetitions. All runs share this one process, so without them only the
// first repetitions' baselines run on a cold JIT and a young heap, an asymmetry two `stb bench`
// processes (each cold) do not have. With 0 warm-up runs reps 1 and 2 had every template's p95
// 41 % and 23 % "faster"; with 2, rep 1 was still 18–25 % "faster" in 3 of 3 runs; with 5 it was
// no longer an outlier.
const WARMUP_RUNS = Number(process.env.WARMUP_RUNS ?? 5);
const log = (m) => process.stderr.write(`[calibration] ${m}\n`);

const SQL = [
  ['SELECT v FROM kv WHERE id = $1', 'SELECT'],
  ['SELECT count(*) FROM kv WHERE v BETWEEN $1 AND $1 + 50', 'SELECT'],
  ['UPDATE kv SET v = v + 1 WHERE id = $1', 'UPDATE'],
  ['INSERT INTO log (k) VALUES ($1)', 'INSERT'],
];
const templates = SQL.map(([text, queryType]) => ({
  kind: 'template',
  id: computeTemplateId('postgres', text),
  text,
  queryType,
  tables: [],
  slots: [],
}));
const SETUP = {
  name: 'calibration-schema.sql',
  sql: `CREATE TABLE kv (id INTEGER PRIMARY KEY, v INTEGER NOT NULL);
WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 5000) INSERT INTO kv SELECT i, i FROM g;
CREATE INDEX kv_v ON kv (v);
CREATE TABLE log (id INTEGER PRIMARY KEY, k INTEGER);`,
};

/** The trace: 4 sessions × `rounds` rounds of the 4 templates, keys from a fixed seed. */
function trace(rounds) {
  const rng = createRng(2024);
  const keys = Array.from({ length: rounds * 4 }, () => 1 + rng.int(5000));
  return {
    templates: new TemplateCatalog(templates),
    *events() {
      let t = 1_700_000_000_000_000;
      let i = 0;
      for (let r = 0; r < rounds; r++)
        for (let s = 0; s < 4; s++) {
          const k = keys[i++];
          for (const tpl of templates)
            yield {
              kind: 'event',
              startUs: (t += 100),
              sessionId: `s${s}`,
              templateId: tpl.id,
              params: [{ t: 'int', v: k }],
            };
        }
    },
  };
}

const run = (seed, rounds) => {
  const t = trace(rounds);
  return runBench(
    { templates: t.templates, events: t.events() },
    { target: 'sqlite::memory:', mode: 'closed', setup: SETUP, seed },
  );
};

const loads = [];
const noWindows = (r) => ({
  ...r,
  overall: { ...r.overall, latencyWindows: undefined },
});
const changed = (v) => v !== 'no-significant-change';

/** One batch of `REPS` repetitions; `first` is the first seed. */
async function batch(name, first, rounds) {
  const b = {
    name,
    rounds,
    templates: 0,
    falseTemplates: 0,
    falseOverall: 0,
    falseOverallBatchMeans: 0,
    runShiftReps: 0,
    byQuantile: { p50: 0, p95: 0, p99: 0 },
    halfWidths: [],
    overallHalfWidths: [],
    seconds: [],
  };
  for (let i = 0; i < REPS; i++) {
    const seed = first + i;
    loads.push(loadavg()[0]);
    const x = await run(seed, rounds);
    const y = await run(seed, rounds);
    // alternate which run is the baseline, so an order effect cannot pass for calibration
    const [a, c] = i % 2 === 0 ? [x, y] : [y, x];
    b.seconds.push(x.durationSeconds, y.durationSeconds);
    const cmp = compareBenchResults(a, c, { seed });
    for (const t of cmp.templates) {
      b.templates++;
      if (changed(t.verdict)) b.falseTemplates++;
      for (const q of ['p50', 'p95', 'p99'])
        if (changed(t.latency[q].verdict)) b.byQuantile[q]++;
      b.halfWidths.push((t.latency.p50.high - t.latency.p50.low) / 2);
    }
    b.overallHalfWidths.push(
      (cmp.overall.latency.p95.high - cmp.overall.latency.p95.low) / 2,
    );
    if (changed(cmp.overall.verdict)) b.falseOverall++;
    const old = compareBenchResults(noWindows(a), noWindows(c), { seed });
    if (changed(old.overall.verdict)) b.falseOverallBatchMeans++;
    const shifts = (cmp.runShifts ?? []).filter(
      (s) => s.applied && cmp.options.verdictQuantiles.includes(s.quantile),
    );
    if (shifts.length > 0) b.runShiftReps++;
    const o = cmp.overall.latency;
    log(
      `${name} rep ${i + 1} (seed ${seed}, ${a.overall.count} queries/run, ${x.durationSeconds}/${y.durationSeconds} s): overall ${cmp.overall.verdict} (p50 ${o.p50.ratio} [${o.p50.low}, ${o.p50.high}] deff ${o.p50.designEffect?.baseline}/${o.p50.designEffect?.candidate}, p95 ${o.p95.ratio} [${o.p95.low}, ${o.p95.high}] deff ${o.p95.designEffect?.baseline}/${o.p95.designEffect?.candidate}); batch means: ${old.overall.verdict} (p95 [${old.overall.latency.p95.low}, ${old.overall.latency.p95.high}]); run shift ${shifts.map((s) => `${s.quantile} ${s.verdict} ${s.ratio}`).join(', ') || 'none'}; false templates ${cmp.templates.filter((t) => changed(t.verdict)).length}`,
    );
  }
  return b;
}

for (let i = 0; i < WARMUP_RUNS; i++) await run(1000 + i, SHORT_ROUNDS);
const batches = [];
for (let k = 0; k < BATCHES; k++)
  batches.push(await batch(`batch ${k + 1}`, 100 * (k + 1) + 1, ROUNDS));
const short = await batch('short', 901, SHORT_ROUNDS);
const median = (xs) =>
  [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
const pct = (n, d) => Math.round((n / d) * 1000) / 10;
const list = (f) => batches.map(f).join(', ');
const worst = (f) => Math.max(...batches.map(f));
const all = (f) => batches.reduce((acc, b) => acc + f(b), 0);
const tplRate = (b) => pct(b.falseTemplates, b.templates);
const runRate = (b) => pct(b.falseOverall, REPS);
const oldRate = (b) => pct(b.falseOverallBatchMeans, REPS);
const seconds = batches.flatMap((b) => b.seconds);
console.log(
  JSON.stringify({
    title:
      'stb compare: interval calibration (same trace twice, SQLite in memory)',
    command: 'node packages/compare/bench/calibration.bench.mjs',
    rows: [
      {
        metric: `false slower/faster verdicts, templates: worst of ${BATCHES} batches of ${REPS} repetitions (${batches[0].templates} comparisons each; per batch ${list(tplRate)} %)`,
        value: worst(tplRate),
        unit: '%',
        target: '≤ 10 %',
      },
      {
        metric: `false verdicts, whole run: worst of ${BATCHES} batches (${REPS} comparisons each; per batch ${list(runRate)} %)`,
        value: worst(runRate),
        unit: '%',
        target: '≤ 10 %',
      },
      {
        metric: `false verdicts, whole run, all ${BATCHES * REPS} repetitions`,
        value: pct(
          all((b) => b.falseOverall),
          BATCHES * REPS,
        ),
        unit: '%',
        target: '≤ 10 %',
      },
      {
        metric: `the same runs, whole run with the batch-means interval (before the time windows; per batch ${list(oldRate)} %)`,
        value: pct(
          all((b) => b.falseOverallBatchMeans),
          BATCHES * REPS,
        ),
        unit: '%',
      },
      {
        metric: `short runs (${SHORT_ROUNDS * 16} statements, median ${median(short.seconds)} s): false verdicts, whole run (${REPS} comparisons)`,
        value: runRate(short),
        unit: '%',
      },
      {
        metric: 'short runs: the same with the batch-means interval',
        value: oldRate(short),
        unit: '%',
      },
      {
        metric: `short runs: false verdicts, templates (${short.templates} comparisons)`,
        value: tplRate(short),
        unit: '%',
      },
      {
        metric: `repetitions with a run-level shift reported on p50 or p95 (main batches, ${BATCHES * REPS})`,
        value: pct(
          all((b) => b.runShiftReps),
          BATCHES * REPS,
        ),
        unit: '%',
      },
      ...['p50', 'p95', 'p99'].map((q) => ({
        metric: `false template verdicts on ${q} alone (main batches)${q === 'p99' ? ' (not in the default verdict)' : ''}`,
        value: pct(
          all((b) => b.byQuantile[q]),
          all((b) => b.templates),
        ),
        unit: '%',
      })),
      {
        metric: 'median half-width of the template p50 ratio interval',
        value:
          Math.round(median(batches.flatMap((b) => b.halfWidths)) * 1000) /
          1000,
        unit: '×',
      },
      {
        metric: 'median half-width of the whole-run p95 ratio interval',
        value:
          Math.round(
            median(batches.flatMap((b) => b.overallHalfWidths)) * 1000,
          ) / 1000,
        unit: '×',
      },
    ],
    notes: `${BATCHES} batches of ${REPS} repetitions (bench seed and bootstrap seed = repetition seed), each two sequential closed-loop runs of ${ROUNDS * 16} statements (4 templates, 4 sessions, one connection; median ${median(seconds)} s per run), the baseline alternating between the first and the second run; default compare options; ${WARMUP_RUNS} untimed warm-up runs first (one process runs them all). Load average during the runs: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}. Template verdicts are judged beyond the run-level shift when one is applied (docs/comparing-runs.md, "Run-level shift"); the whole-run interval takes its design effect from the spread between the runs' time windows (docs/comparing-runs.md, "Whole-run intervals"). A short run is one sample of the machine's state: when the state changes between two runs and not within them, no within-run statistic sees it.`,
  }),
);
