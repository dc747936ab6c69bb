import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BenchResult, computeTemplateId } from '@stb/core';
import { runStb } from './helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'stb-cli-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const header = {
  kind: 'header',
  format: 'stb-trace',
  version: 1,
  dialect: 'postgres',
  source: {},
  timeResolutionUs: 1,
  createdAt: '2024-01-01T00:00:00Z',
};
const tpl = (text: string, queryType: string) => ({
  kind: 'template',
  id: computeTemplateId('postgres', text),
  text,
  queryType,
  tables: ['kv'],
  slots: [],
});
const ins = tpl('INSERT INTO kv (id, v) VALUES ($1, $2)', 'INSERT');
const sel = tpl('SELECT v FROM kv WHERE id = $1', 'SELECT');

function writeTrace(
  name: string,
  sessions: number,
  perSession: number,
): string {
  const lines: unknown[] = [header, ins, sel];
  let t = 1_700_000_000_000_000;
  for (let i = 0; i < perSession; i++)
    for (let s = 0; s < sessions; s++) {
      const id = s * 10_000 + i;
      t += 100;
      lines.push({
        kind: 'event',
        startUs: t,
        sessionId: `s${s}`,
        templateId: ins.id,
        params: [
          { t: 'int', v: id },
          { t: 'int', v: i },
        ],
      });
      lines.push({
        kind: 'event',
        startUs: t + 50,
        sessionId: `s${s}`,
        templateId: sel.id,
        params: [{ t: 'int', v: id }],
      });
    }
  const file = path.join(dir, name);
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return file;
}

describe('stb bench', () => {
  it('runs a trace on SQLite with a setup script and writes the result', async () => {
    const trace = writeTrace('t1.jsonl', 3, 50);
    const db = path.join(dir, 'db1.sqlite');
    const setup = path.join(dir, 'schema.sql');
    writeFileSync(
      setup,
      '-- schema\nCREATE TABLE kv (id int PRIMARY KEY, v int);\n',
    );
    const out = path.join(dir, 'result.json');
    const r = await runStb([
      'bench',
      '-i',
      trace,
      '--target',
      `sqlite:${db}`,
      '--setup',
      setup,
      '--mode',
      'closed',
      '--metrics-port',
      '0',
      '--out',
      out,
    ]);
    expect(r.stderr).toContain('total');
    expect(r.code).toBe(0);
    const result = BenchResult.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(result.overall.count).toBe(300);
    expect(result.overall.errors).toBe(0);
    expect(result.templates.map((t) => [t.templateId, t.count]).sort()).toEqual(
      [
        [ins.id, 150],
        [sel.id, 150],
      ].sort(),
    );
    expect(result.context.trace.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(result.context.target.plugin).toBe('sqlite');
  }, 60_000);

  it('exits 1 under --fail-fast when a query fails', async () => {
    const trace = writeTrace('t2.jsonl', 1, 20);
    const db = path.join(dir, 'db2.sqlite');
    // no setup: the table is missing, every statement fails
    const r = await runStb([
      'bench',
      '-i',
      trace,
      '--target',
      `sqlite:${db}`,
      '--mode',
      'closed',
      '--no-metrics',
      '--fail-fast',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout.toString('utf8')) as { status: string };
    expect(summary.status).toBe('failed');
  }, 60_000);

  it('rejects an unknown target scheme as a usage error', async () => {
    const trace = writeTrace('t3.jsonl', 1, 1);
    const r = await runStb([
      'bench',
      '-i',
      trace,
      '--target',
      'oracle://x',
      '--no-metrics',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[stb\] \[bench\] Invalid target `oracle:\/\/x`/);
  }, 60_000);

  it('rejects an invalid trace with file and line (exit 3)', async () => {
    const file = path.join(dir, 'bad.jsonl');
    writeFileSync(
      file,
      JSON.stringify(header) + '\n{"kind":"event","startUs":"x"}\n',
    );
    const r = await runStb([
      'bench',
      '-i',
      file,
      '--target',
      'sqlite::memory:',
      '--no-metrics',
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('bad.jsonl');
  }, 60_000);

  it('reports an unreachable database before the run', async () => {
    const trace = writeTrace('t4.jsonl', 1, 1);
    const r = await runStb([
      'bench',
      '-i',
      trace,
      '--target',
      'postgres://postgres@127.0.0.1:1/x',
      '--no-metrics',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /Cannot connect to postgres:\/\/postgres@127\.0\.0\.1:1\/x/,
    );
  }, 60_000);
});
