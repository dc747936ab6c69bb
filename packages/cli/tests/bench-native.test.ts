import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { BenchResult, computeTemplateId } from '@stb/core';
import { PG_TRACE_HEADER, runStb } from './helpers';

// `stb bench --target postgres+native://…` as a real process (issue 16): the pg-native plugin
// (libpq on native loop threads, @stb/bench's closed-loop batches) runs a trace with transactions
// against a scratch database; every statement's effect is in the database and in the result.
const dir = mkdtempSync(path.join(tmpdir(), 'stb-cli-bench-native-'));
const dbName = `stb_test_${Math.random().toString(36).slice(2, 10)}`;
const admin = 'postgres://postgres@127.0.0.1:5432/postgres';
const url = `postgres://postgres@127.0.0.1:5432/${dbName}`;
const native = url.replace('postgres:', 'postgres+native:');
let reachable = true;

const tpl = (text: string, queryType: string, boundary?: string) => ({
  kind: 'template',
  id: computeTemplateId('postgres', text),
  text,
  queryType,
  tables: ['kv'],
  slots: [],
  ...(boundary === undefined ? {} : { boundary }),
});
const begin = tpl('BEGIN', 'TCL', 'begin');
const ins = tpl('INSERT INTO kv (id, v) VALUES ($1, $2)', 'INSERT');
const upd = tpl('UPDATE kv SET v = v + 1 WHERE id = $1', 'UPDATE');
const commit = tpl('COMMIT', 'TCL', 'end');
const dup = tpl('INSERT INTO kv (id, v) VALUES ($1, 0)', 'INSERT');

/** 12 sessions × 40 transactions (insert, update) on their own keys; every 10th session a duplicate key. */
function writeTrace(file: string): void {
  const lines: unknown[] = [PG_TRACE_HEADER, begin, ins, upd, commit, dup];
  let t = 1_700_000_000_000_000;
  for (let i = 0; i < 40; i++)
    for (let s = 0; s < 12; s++) {
      const id = s * 1000 + i;
      const ev = (templateId: string, params: unknown[] = []) => ({
        kind: 'event',
        startUs: (t += 10),
        sessionId: `s${s}`,
        templateId,
        params,
      });
      lines.push(
        ev(begin.id),
        ev(ins.id, [
          { t: 'int', v: id },
          { t: 'int', v: i },
        ]),
        ev(upd.id, [{ t: 'int', v: id }]),
        ev(commit.id),
      );
      if (i === 20 && s % 10 === 0)
        lines.push(ev(dup.id, [{ t: 'int', v: id }]));
    }
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

async function query<T>(target: string, text: string): Promise<T[]> {
  const c = new Client({
    connectionString: target,
    connectionTimeoutMillis: 5000,
  });
  await c.connect();
  try {
    return (await c.query(text)).rows as T[];
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  writeTrace(path.join(dir, 'trace.jsonl'));
  try {
    await query(admin, `CREATE DATABASE ${dbName}`);
  } catch (err) {
    if (process.env['STB_REQUIRE_DB'] === '1') throw err;
    reachable = false;
    console.warn(
      `PostgreSQL unreachable on 127.0.0.1:5432; skipping: ${String(err)}`,
    );
    return;
  }
  await query(url, 'CREATE TABLE kv (id int PRIMARY KEY, v int)');
}, 60_000);

afterAll(async () => {
  if (reachable)
    await query(admin, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  rmSync(dir, { recursive: true, force: true });
});

describe('stb bench on postgres+native://', () => {
  it('runs a closed loop with transactions: every statement counted and in the database', async () => {
    if (!reachable) return;
    const out = path.join(dir, 'result.json');
    const r = await runStb([
      'bench',
      '-q',
      '-i',
      path.join(dir, 'trace.jsonl'),
      '-t',
      native,
      '--mode',
      'closed',
      '-c',
      '4',
      '--no-metrics',
      '-o',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = BenchResult.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(res.status).toBe('completed');
    expect(res.overall.count).toBe(12 * 40 * 4 + 2);
    expect(res.overall.errors).toBe(2);
    const count = (id: string) =>
      res.templates.find((t) => t.templateId === id)?.count;
    expect([begin, ins, upd, commit, dup].map((t) => count(t.id))).toEqual([
      480, 480, 480, 480, 2,
    ]);
    const [row] = await query<{ n: string; s: string }>(
      url,
      'SELECT count(*) AS n, sum(v) AS s FROM kv',
    );
    // each row inserted with v = i and updated once
    expect(Number(row?.n)).toBe(480);
    expect(Number(row?.s)).toBe(12 * ((39 * 40) / 2) + 480);
  }, 60_000);

  it('reports an unreachable database before the run (exit 3, one line)', async () => {
    const out = path.join(dir, 'unreachable.json');
    const target = 'postgres+native://postgres@127.0.0.1:1/x';
    const r = await runStb([
      'bench',
      '-i',
      path.join(dir, 'trace.jsonl'),
      '-t',
      target,
      '--no-metrics',
      '-o',
      out,
    ]);
    expect(r.code).toBe(3);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\[stb\] \[db:pg-native\] Cannot connect to postgres(\+native)?:\/\/postgres@127\.0\.0\.1:1\/x: .*refused/,
    );
  }, 60_000);
});
