// Interval calibration of `stb compare`: 20 seeded repetitions of the same trace against SQLite in
// memory, each a baseline run and a candidate run of the identical workload, compared at the
// default settings (5 % minimum effect, 95 % intervals, verdict on p50 and p95). Every verdict
// other than "no significant change" is false. Target: at most 10 % false verdicts.
// Build first (npm run bench does). Prints progress to stderr and one JSON object as the last
// stdout line.
import { loadavg } from 'node:os';
import { TemplateCatalog, computeTemplateId, createRng } from '@stb/core';
import { runBench } from '@stb/bench';
import { compareBenchResults } from '@stb/compare';

const REPS = Number(process.env.REPS ?? 20);
const ROUNDS = Number(process.env.ROUNDS ?? 3000);
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

/** The trace: 4 sessions × ROUNDS rounds of the 4 templates, keys from a fixed seed. */
function trace() {
  const rng = createRng(2024);
  const keys = Array.from({ length: ROUNDS * 4 }, () => 1 + rng.int(5000));
  return {
    templates: new TemplateCatalog(templates),
    *events() {
      let t = 1_700_000_000_000_000;
      let i = 0;
      for (let r = 0; r < ROUNDS; r++)
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

const run = (seed) => {
  const t = trace();
  return runBench(
    { templates: t.templates, events: t.events() },
    { target: 'sqlite::memory:', mode: 'closed', setup: SETUP, seed },
  );
};

const loads = [];
let falseTemplates = 0;
let templatesCompared = 0;
let falseOverall = 0;
let runShiftReps = 0;
const byQuantile = { p50: 0, p95: 0, p99: 0 };
const halfWidths = [];
const deffs = [];
for (let i = 0; i < WARMUP_RUNS; i++) await run(1000 + i);
for (let seed = 1; seed <= REPS; seed++) {
  loads.push(loadavg()[0]);
  const a = await run(seed);
  const b = await run(seed);
  const c = compareBenchResults(a, b, { seed });
  for (const t of c.templates) {
    templatesCompared++;
    if (t.verdict !== 'no-significant-change') falseTemplates++;
    for (const q of ['p50', 'p95', 'p99'])
      if (t.latency[q].verdict !== 'no-significant-change') byQuantile[q]++;
    halfWidths.push((t.latency.p50.high - t.latency.p50.low) / 2);
    if (t.verdict !== 'no-significant-change')
      log(
        `  false ${t.verdict}: ${t.templateId.slice(0, 6)} ${['p50', 'p95'].map((q) => `${q} ${t.latency[q].ratio} [${t.latency[q].low}, ${t.latency[q].high}] ${t.latency[q].verdict}`).join('; ')}`,
      );
  }
  for (const r of [a, b])
    for (const t of r.templates) deffs.push(t.latencyDesignEffect ?? 1);
  if (c.overall.verdict !== 'no-significant-change') falseOverall++;
  const shifts = (c.runShifts ?? []).filter(
    (s) => s.applied && c.options.verdictQuantiles.includes(s.quantile),
  );
  if (shifts.length > 0) runShiftReps++;
  log(
    `rep ${seed}: ${a.overall.count} queries/run, overall ${c.overall.verdict} (p50 ${c.overall.latency.p50.ratio} [${c.overall.latency.p50.low}, ${c.overall.latency.p50.high}], p95 ${c.overall.latency.p95.ratio} [${c.overall.latency.p95.low}, ${c.overall.latency.p95.high}]); run shift ${shifts.map((s) => `${s.quantile} ${s.verdict} ${s.ratio}`).join(', ') || 'none'}; ${c.templates.map((t) => `${t.templateId.slice(0, 6)} ${t.verdict} p50 ${t.latency.p50.ratio} [${t.latency.p50.low}, ${t.latency.p50.high}]`).join('; ')}`,
  );
}
const median = (xs) =>
  [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
const rate = falseTemplates / templatesCompared;
console.log(
  JSON.stringify({
    title:
      'stb compare: interval calibration (same trace twice, SQLite in memory)',
    command: 'node packages/compare/bench/calibration.bench.mjs',
    rows: [
      {
        metric: `false slower/faster verdicts, templates (${templatesCompared} comparisons)`,
        value: Math.round(rate * 1000) / 10,
        unit: '%',
        target: '≤ 10 %',
      },
      {
        metric: `false verdicts, whole run (${REPS} comparisons)`,
        value: Math.round((falseOverall / REPS) * 1000) / 10,
        unit: '%',
        target: '≤ 10 %',
      },
      {
        metric: `repetitions with a run-level shift reported on p50 or p95 (${REPS})`,
        value: Math.round((runShiftReps / REPS) * 1000) / 10,
        unit: '%',
      },
      {
        metric: 'false verdicts on p50 alone',
        value: Math.round((byQuantile.p50 / templatesCompared) * 1000) / 10,
        unit: '%',
      },
      {
        metric: 'false verdicts on p95 alone',
        value: Math.round((byQuantile.p95 / templatesCompared) * 1000) / 10,
        unit: '%',
      },
      {
        metric: 'false verdicts on p99 alone (not in the default verdict)',
        value: Math.round((byQuantile.p99 / templatesCompared) * 1000) / 10,
        unit: '%',
      },
      {
        metric: 'median half-width of the p50 ratio interval',
        value: Math.round(median(halfWidths) * 1000) / 1000,
        unit: '×',
      },
      {
        metric: 'median design effect (batch means)',
        value: median(deffs),
        unit: '',
      },
    ],
    notes: `${REPS} repetitions (bench seed and bootstrap seed = repetition number), each two sequential closed-loop runs of ${ROUNDS * 16} statements (4 templates, 4 sessions, one connection); default compare options; ${WARMUP_RUNS} untimed warm-up runs first (one process runs them all). Load average during the runs: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}. Template verdicts are judged beyond the run-level shift when one is applied (a majority of templates moving together at a quantile; docs/comparing-runs.md, "Run-level shift"); the whole-run verdict pools all executions and is not adjusted. Target ≤ 10 %: templates ${rate <= 0.1 ? 'reached' : 'not reached'} (${falseTemplates} of ${templatesCompared}), whole run ${falseOverall / REPS <= 0.1 ? 'reached' : 'not reached'} (${falseOverall} of ${REPS}; ${runShiftReps} repetition(s) had a run-level shift on p50 or p95, which two sequential runs cannot tell from a real uniform change).`,
  }),
);
