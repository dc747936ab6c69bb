import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BenchComparison, computeTemplateId, createRng } from '@stb/core';
import pg from 'pg';
import type { ScratchDb } from '../../generator/tests/helpers/db';
import { createPgDatabase } from '../../generator/tests/helpers/db';
import { PG_TRACE_HEADER, runStb } from './helpers';

/**
 * `stb compare` on real PostgreSQL runs. Baseline and candidate run at the same time, each against
 * its own scratch database, so both see the same machine load: the comparison then measures the
 * databases, not whatever else the (shared) machine was doing between two sequential runs.
 *
 * The timing tests run closed loop for a fixed `--duration` on a trace longer than either run can
 * finish, so the two runs start and stop together and overlap for their whole measured window.
 * Before, each ran its 4 000 statements to the end (~0.5 s on an idle machine): the faster run
 * finished first and the other ran partly alone, and some templates' p50 moved 10–25 %, beyond
 * the interval (which covers variation within a run, not a change of conditions between runs).
 * The statistics are the default ones (5 % minimum effect). docs/comparing-runs.md, "Two runs
 * under the same conditions", has the measured pass rates of this design and the others tried.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'stb-cli-compare-'));
const dbs: ScratchDb[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
  rmSync(dir, { recursive: true, force: true });
});

const header = PG_TRACE_HEADER;
const tpl = (text: string, queryType: string, tables: string[]) => ({
  kind: 'template',
  id: computeTemplateId('postgres', text),
  text,
  queryType,
  tables,
  slots: [],
});
const T = {
  point: tpl('SELECT v FROM kv WHERE id = $1', 'SELECT', ['kv']),
  probe: tpl('SELECT stb_probe($1)', 'SELECT', []),
  pad: tpl('SELECT stb_pad($1)', 'SELECT', []),
  update: tpl('UPDATE kv SET v = v + 1 WHERE id = $1', 'UPDATE', ['kv']),
  log: tpl('INSERT INTO log (id) VALUES ($1)', 'INSERT', ['log']),
};

/** 4 sessions × `perSession` rounds of the five templates. */
function writeTrace(name: string, perSession: number): string {
  const rng = createRng(11);
  const lines: unknown[] = [header, ...Object.values(T)];
  let t = 1_700_000_000_000_000;
  let logId = 0;
  for (let i = 0; i < perSession; i++)
    for (let s = 0; s < 4; s++) {
      const id = 1 + rng.int(2000);
      const ev = (templateId: string, v: number) => {
        t += 100;
        lines.push({
          kind: 'event',
          startUs: t,
          sessionId: `s${s}`,
          templateId,
          params: [{ t: 'int', v }],
        });
      };
      ev(T.point.id, id);
      ev(T.probe.id, id);
      ev(T.pad.id, id);
      ev(T.update.id, id);
      ev(T.log.id, ++logId);
    }
  const file = path.join(dir, name);
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return file;
}

const SCHEMA = `
CREATE TABLE kv (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO kv SELECT g, g FROM generate_series(1, 2000) g;
CREATE TABLE log (id int PRIMARY KEY);
CREATE FUNCTION stb_probe(x int) RETURNS int LANGUAGE sql AS 'SELECT x';
CREATE FUNCTION stb_pad(x int) RETURNS int LANGUAGE sql AS 'SELECT x';
ANALYZE kv;
`;

async function scratch(extra = ''): Promise<ScratchDb | null> {
  const db = await createPgDatabase();
  if (!db) return null;
  dbs.push(db);
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    await c.query(SCHEMA + extra);
  } finally {
    await c.end();
  }
  return db;
}

/**
 * Timed runs: 4 s measured after 0.5 s of warmup, then stopped (checked: a run that ran out of
 * trace would no longer overlap the other for its whole window). With 2 s measured the same-trace
 * test passed 27 of 30 runs; with 4 s, 30 of 30, at load averages of 3–12 (docs/comparing-runs.md).
 */
const TIMED = ['--duration', '4.5s', '--warmup', '0.5s'];

/** A trace file, and whether it is run for `TIMED` seconds (it must outlast them) or to its end. */
interface Trace {
  file: string;
  timed: boolean;
}

async function bench(trace: Trace, db: ScratchDb, out: string) {
  const { file, timed } = trace;
  const r = await runStb([
    'bench',
    '-i',
    file,
    '--target',
    db.url,
    '--mode',
    'closed',
    '-c',
    '2',
    ...(timed ? TIMED : []),
    '--workers',
    '0',
    '--metrics-port',
    '0',
    '--out',
    out,
  ]);
  if (r.code !== 0) throw new Error(`stb bench failed: ${r.stderr}`);
  const { status } = JSON.parse(readFileSync(out, 'utf8')) as {
    status: string;
  };
  if (status !== (timed ? 'stopped' : 'completed'))
    throw new Error(`stb bench ${out}: status ${status}`);
}

/** Runs the trace on both databases at once (the log table is emptied first), then compares. */
async function runPair(
  name: string,
  trace: Trace,
  pair: { a: ScratchDb; b: ScratchDb; args?: string[] },
) {
  const { a, b, args = [] } = pair;
  for (const db of [a, b]) {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query('TRUNCATE log');
    await c.end();
  }
  const fa = path.join(dir, `${name}-a.json`);
  const fb = path.join(dir, `${name}-b.json`);
  await Promise.all([bench(trace, a, fa), bench(trace, b, fb)]);
  const json = path.join(dir, `${name}-compare.json`);
  const r = await runStb(['compare', fa, fb, '--json-report', json, ...args]);
  const report = BenchComparison.parse(JSON.parse(readFileSync(json, 'utf8')));
  const verdicts = Object.fromEntries(
    report.templates.map((t) => [t.templateId, t.verdict]),
  );
  return { r, report, verdicts };
}

describe('stb compare on PostgreSQL', () => {
  // Statistical judgements of two real runs on a shared 2-core machine: run alone, the two timing
  // tests passed 30 of 30 (docs/comparing-runs.md), but beside the rest of the suite one failed in
  // 3 Dec CI (a template with no change called faster). A second and third attempt, each with two
  // new runs, tell a rare coincidence of load from a wrong verdict, which fails all three.
  jest.retryTimes(2, { logErrorsBeforeRetry: true });
  // short: 1 000 executions per template, run to the end (the rows test counts them); long:
  // 24 000 per template, ~4× the most a run got through in 4.5 s (`bench` checks it stopped)
  let short: Trace;
  let long: Trace;
  let base: ScratchDb | null;
  let same: ScratchDb | null;
  beforeAll(async () => {
    short = { file: writeTrace('short.jsonl', 250), timed: false };
    long = { file: writeTrace('long.jsonl', 6000), timed: true };
    base = await scratch();
    same = await scratch();
  }, 60_000);

  it('finds no significant change on any template between two runs of the same trace', async () => {
    if (!base || !same) return;
    const { r, report, verdicts } = await runPair('same', long, {
      a: base,
      b: same,
      args: [
        '--max-regression',
        'p95=25%',
        '--max-error-rate-increase',
        '0.1%',
      ],
    });
    expect(report.templates).toHaveLength(5);
    expect(verdicts).toEqual({
      [T.point.id]: 'no-significant-change',
      [T.probe.id]: 'no-significant-change',
      [T.pad.id]: 'no-significant-change',
      [T.update.id]: 'no-significant-change',
      [T.log.id]: 'no-significant-change',
    });
    expect(report.summary.errorDivergence).toBe(0);
    expect(report.summary.rowDivergence).toBe(0);
    expect(report.onlyInBaseline).toEqual([]);
    expect(report.onlyInCandidate).toEqual([]);
    expect(r.code).toBe(0);
  }, 300_000);

  it('flags exactly the template whose function sleeps 2 ms as slower (and the one it left faster), and fails --max-regression', async () => {
    // The 2 ms sleep moves from stb_pad (baseline) to stb_probe (candidate): both runs do the same
    // work at the same pace. Adding a sleep to the candidate alone also changed the other
    // templates by 12–19 % at p50: a closed loop that waits in pg_sleep issues fewer statements,
    // and its client and backends wake from idle on a saturated machine (docs/comparing-runs.md).
    const sleep = (fn: string) =>
      `CREATE OR REPLACE FUNCTION ${fn}(x int) RETURNS int LANGUAGE sql AS 'SELECT x FROM pg_sleep(0.002)';`;
    const padded = await scratch(sleep('stb_pad'));
    const slow = await scratch(sleep('stb_probe'));
    if (!padded || !slow) return;
    const { r, report, verdicts } = await runPair('slow', long, {
      a: padded,
      b: slow,
      args: ['--max-regression', 'p50=10%'],
    });
    expect(verdicts).toEqual({
      [T.point.id]: 'no-significant-change',
      [T.probe.id]: 'slower',
      [T.pad.id]: 'faster',
      [T.update.id]: 'no-significant-change',
      [T.log.id]: 'no-significant-change',
    });
    const byId = new Map(report.templates.map((t) => [t.templateId, t]));
    expect(byId.get(T.probe.id)?.latency.p50.low).toBeGreaterThan(1.2);
    expect(byId.get(T.pad.id)?.latency.p50.high).toBeLessThan(0.8);
    expect(r.code).toBe(1);
    const failed = report.thresholds.filter((t) => !t.passed);
    expect(failed.map((t) => t.scope)).toContain(T.probe.id);
    expect(failed.map((t) => t.scope)).not.toContain(T.point.id);
    expect(r.stderr).toContain(`FAILED p50=10% on ${T.probe.id}`);
  }, 300_000);

  it('flags changed rows and a new SQLSTATE with the template', async () => {
    if (!base) return;
    const changed = await scratch(
      `DELETE FROM kv WHERE id > 1000; ALTER TABLE log ADD CONSTRAINT small CHECK (id < 800);`,
    );
    if (!changed) return;
    const { r, report } = await runPair('rows', short, {
      a: base,
      b: changed,
      args: ['--max-error-rate-increase', '0.1%'],
    });
    const byId = new Map(report.templates.map((t) => [t.templateId, t]));
    const log = byId.get(T.log.id);
    expect(log?.errors.new.map((e) => e.code)).toEqual(['23514']);
    expect(log?.errors.new[0]?.candidate).toBe(1000 - 799); // ids 800..1000 break the CHECK
    expect(byId.get(T.point.id)?.rows.changed).toBe(true);
    expect(byId.get(T.update.id)?.rows.changed).toBe(true);
    expect(byId.get(T.probe.id)?.rows.changed).toBe(false);
    expect(byId.get(T.pad.id)?.rows.changed).toBe(false);
    expect(byId.get(T.point.id)?.errors.new).toEqual([]);
    expect(r.stderr).toContain(`${T.log.id}: new error 23514`);
    expect(r.stderr).toContain(`${T.point.id}: rows changed`);
    expect(r.code).toBe(1);
  }, 300_000);
});

describe('stb compare input errors', () => {
  it('exits 3 naming the file that is not a bench result', async () => {
    const bad = path.join(dir, 'not-a-result.json');
    writeFileSync(bad, '{"format":"something-else"}');
    const r = await runStb(['compare', bad, bad]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /^\[stb\] \[compare\] .*not-a-result\.json is not an `stb bench` result/m,
    );
  });

  it('exits 2 for a malformed threshold', async () => {
    const r = await runStb([
      'compare',
      'a.json',
      'b.json',
      '--max-regression',
      'p97=10%',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--max-regression');
  });
});
