import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BenchComparison, computeTemplateId, createRng } from '@stb/core';
import pg from 'pg';
import type { ScratchDb } from '../../generator/tests/helpers/db';
import { createPgDatabase } from '../../generator/tests/helpers/db';
import { runStb } from './helpers';

/**
 * `stb compare` on real PostgreSQL runs. Baseline and candidate run at the same time, each against
 * its own scratch database, so both see the same machine load: the comparison then measures the
 * databases, not whatever else the (shared) machine was doing between two sequential runs.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'stb-cli-compare-'));
const dbs: ScratchDb[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
  rmSync(dir, { recursive: true, force: true });
});

const header = {
  kind: 'header',
  format: 'stb-trace',
  version: 1,
  dialect: 'postgres',
  source: {},
  timeResolutionUs: 1,
  createdAt: '2024-01-01T00:00:00Z',
};
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
  update: tpl('UPDATE kv SET v = v + 1 WHERE id = $1', 'UPDATE', ['kv']),
  log: tpl('INSERT INTO log (id) VALUES ($1)', 'INSERT', ['log']),
};

/** 4 sessions × `perSession` rounds of the four templates. */
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

async function bench(trace: string, db: ScratchDb, out: string) {
  const r = await runStb([
    'bench',
    '-i',
    trace,
    '--target',
    db.url,
    '--mode',
    'closed',
    '-c',
    '2',
    '--workers',
    '0',
    '--metrics-port',
    '0',
    '--out',
    out,
  ]);
  if (r.code !== 0) throw new Error(`stb bench failed: ${r.stderr}`);
}

/** Runs the trace on both databases at once (the log table is emptied first), then compares. */
async function runPair(
  name: string,
  trace: string,
  a: ScratchDb,
  b: ScratchDb,
  extra: string[] = [],
) {
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
  const r = await runStb(['compare', fa, fb, '--json-report', json, ...extra]);
  const report = BenchComparison.parse(JSON.parse(readFileSync(json, 'utf8')));
  const verdicts = Object.fromEntries(
    report.templates.map((t) => [t.templateId, t.verdict]),
  );
  return { r, report, verdicts };
}

describe('stb compare on PostgreSQL', () => {
  let trace: string;
  let base: ScratchDb | null;
  let same: ScratchDb | null;
  beforeAll(async () => {
    trace = writeTrace('trace.jsonl', 250);
    base = await scratch();
    same = await scratch();
  }, 60_000);

  it('finds no significant change on any template between two runs of the same trace', async () => {
    if (!base || !same) return;
    // At the default 5 % this failed in 4 of 6 runs on this 2-core machine: the two concurrent
    // runs (~0.5 s each) overlap incompletely, so one runs partly alone and some templates' p50
    // moves 10–25 % with an interval that clears 5 %. 15 % keeps the test about the statistics,
    // not the machine (issue 17's note records it).
    const { r, report, verdicts } = await runPair('same', trace, base, same, [
      '--min-effect',
      '15%',
      '--max-regression',
      'p95=25%',
      '--max-error-rate-increase',
      '0.1%',
    ]);
    expect(report.templates).toHaveLength(4);
    expect(verdicts).toEqual({
      [T.point.id]: 'no-significant-change',
      [T.probe.id]: 'no-significant-change',
      [T.update.id]: 'no-significant-change',
      [T.log.id]: 'no-significant-change',
    });
    expect(report.summary.errorDivergence).toBe(0);
    expect(report.summary.rowDivergence).toBe(0);
    expect(report.onlyInBaseline).toEqual([]);
    expect(report.onlyInCandidate).toEqual([]);
    expect(r.code).toBe(0);
  }, 300_000);

  it('flags exactly the template whose function sleeps 2 ms as slower, and fails --max-regression', async () => {
    if (!base) return;
    const slow = await scratch(
      `CREATE OR REPLACE FUNCTION stb_probe(x int) RETURNS int LANGUAGE sql AS 'SELECT x FROM pg_sleep(0.002)';`,
    );
    if (!slow) return;
    const { r, report, verdicts } = await runPair('slow', trace, base, slow, [
      '--min-effect',
      '15%',
      '--max-regression',
      'p50=10%',
    ]);
    expect(verdicts).toEqual({
      [T.point.id]: 'no-significant-change',
      [T.probe.id]: 'slower',
      [T.update.id]: 'no-significant-change',
      [T.log.id]: 'no-significant-change',
    });
    const probe = report.templates.find((t) => t.templateId === T.probe.id);
    expect(probe?.latency.p50.low).toBeGreaterThan(1.2);
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
    const { r, report } = await runPair('rows', trace, base, changed, [
      '--max-error-rate-increase',
      '0.1%',
    ]);
    const byId = new Map(report.templates.map((t) => [t.templateId, t]));
    const log = byId.get(T.log.id);
    expect(log?.errors.new.map((e) => e.code)).toEqual(['23514']);
    expect(log?.errors.new[0]?.candidate).toBe(1000 - 799); // ids 800..1000 break the CHECK
    expect(byId.get(T.point.id)?.rows.changed).toBe(true);
    expect(byId.get(T.update.id)?.rows.changed).toBe(true);
    expect(byId.get(T.probe.id)?.rows.changed).toBe(false);
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
