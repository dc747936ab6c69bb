import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BenchResult, computeTemplateId } from '@stb/core';
import { PG_TRACE_HEADER, runStb } from './helpers';

// `stb bench --statement-timeout` on a third-party plugin without a statement deadline of its own
// (packages/bench/tests/fixtures/hang-plugin.cjs: `HANG` never settles). Until 2026-12-06 the run
// waited for that statement for ever.

const PLUGIN = path.resolve(
  __dirname,
  '../../bench/tests/fixtures/hang-plugin.cjs',
);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'stb-statement-timeout-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('ends a statement the plugin never settles after --statement-timeout, and the run completes', async () => {
  const sel = {
    text: 'SELECT $1::int',
    id: computeTemplateId('postgres', 'SELECT $1::int'),
  };
  const hang = { text: 'HANG', id: computeTemplateId('postgres', 'HANG') };
  const lines = [
    PG_TRACE_HEADER,
    {
      kind: 'template',
      id: sel.id,
      text: sel.text,
      queryType: 'SELECT',
      tables: [],
      slots: [],
    },
    {
      kind: 'template',
      id: hang.id,
      text: hang.text,
      queryType: 'SELECT',
      tables: [],
      slots: [],
    },
    ...[sel, hang, sel].map((t, i) => ({
      kind: 'event',
      startUs: i * 1000,
      sessionId: 's0',
      templateId: t.id,
      params: t === sel ? [{ t: 'int', v: i }] : [],
    })),
  ];
  const trace = path.join(dir, 'trace.jsonl');
  writeFileSync(trace, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const target = path.join(dir, 'hang.json');
  writeFileSync(
    target,
    JSON.stringify({ module: PLUGIN, exportName: 'plugin', options: {} }),
  );
  const out = path.join(dir, 'result.json');
  const r = await runStb(
    [
      'bench',
      '-i',
      trace,
      '--target',
      target,
      '--mode',
      'closed',
      '--statement-timeout',
      '300ms',
      '--no-metrics',
      '--out',
      out,
    ],
    { timeoutMs: 20_000 },
  );
  expect(r.stderr).not.toContain('(killed');
  expect(r.code).toBe(0);
  const result = BenchResult.parse(JSON.parse(readFileSync(out, 'utf8')));
  expect(result.status).toBe('completed');
  expect(result.overall.count).toBe(3);
  expect(result.templates.find((t) => t.templateId === hang.id)).toMatchObject({
    errors: 1,
    errorsByClass: { timeout: 1 },
  });
  expect(result.faults.reconnects).toBe(1);
  expect(r.stderr).toContain('nor to a cancel (the hang-test plugin has none)');
}, 30_000);
