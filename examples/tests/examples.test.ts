import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchResult, ValidationReport, openTrace } from '@stb/core';
import {
  CLI,
  EXAMPLES_DIST,
  LOG,
  ROOT,
  postgresReachable,
  runNode,
} from './helpers';

// Each example runs as the program a user would copy, from its build in examples/dist.
const example = (name: string): string =>
  path.join(EXAMPLES_DIST, name, 'main.js');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'stb-examples-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('examples', () => {
  let trace: string;
  let generated: string;

  beforeAll(async () => {
    const r = await runNode(example('01-compose-library'), [
      LOG,
      path.join(dir, 'ex1'),
      '2000',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    trace = path.join(dir, 'ex1/trace.jsonl');
    generated = path.join(dir, 'ex1/generated.jsonl');
  });

  it('01 composes parser → extractor → model → generator as a library', async () => {
    const t = await openTrace(trace);
    let n = 0;
    for await (const _ of t.events) n++;
    expect(n).toBe(8405);
    const g = await openTrace(generated);
    let events = 0;
    let withSql = 0;
    for await (const e of g.events) {
      events++;
      if (e.sql !== undefined && !e.sql.includes('$')) withSql++;
    }
    expect(events).toBeGreaterThanOrEqual(2000);
    expect(withSql).toBe(events); // render: true gives every event executable SQL
  });

  it('02 gates on the score: exit 0 above the threshold, 1 below, 2 on bad input', async () => {
    const pass = await runNode(example('02-validate-gate'), [
      trace,
      generated,
      '0.5',
      path.join(dir, 'ex2'),
    ]);
    expect(pass.code).toBe(0);
    expect(pass.stdout).toMatch(/fidelity 0\.\d+ \(minimum 0\.5\): PASS/);
    const report = ValidationReport.parse(
      JSON.parse(readFileSync(path.join(dir, 'ex2/report.json'), 'utf8')),
    );
    expect(report.passed).toBe(true);
    expect(report.score).toBeGreaterThan(0.5);

    const fail = await runNode(example('02-validate-gate'), [
      trace,
      generated,
      '0.999',
      path.join(dir, 'ex2-strict'),
    ]);
    expect(fail.code).toBe(1);
    expect(fail.stdout).toContain('FAIL');

    const bad = await runNode(example('02-validate-gate'), [
      path.join(dir, 'missing.jsonl'),
      generated,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('STB_INPUT_NOT_FOUND');
  });

  it('03 benchmarks PostgreSQL through a custom DB plugin', async () => {
    if (!(await postgresReachable('example 03'))) return;
    const out = path.join(dir, 'ex3.json');
    const r = await runNode(example('03-bench-custom-plugin'), [
      generated,
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // The plugin's connection settings reached the server.
    expect(r.stdout).toContain(
      'statement_timeout=2s, application_name=stb-example',
    );
    const result = BenchResult.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(result.status).toBe('completed');
    expect(result.context.target.plugin).toBe('tagged-postgres');
    expect(result.overall.errors).toBe(0);
    expect(result.overall.count).toBeGreaterThanOrEqual(2000);
    // Every INSERT counted as ok is a row on the server.
    const m = /pgbench_history rows: (\d+) \(INSERTs ok: (\d+)\)/.exec(
      r.stdout,
    );
    expect(m).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThan(0);
    expect(m?.[1]).toBe(m?.[2]);
  });
});

describe('custom model package (examples/custom-model)', () => {
  const stb = (args: string[]) => runNode(CLI, args, { cwd: ROOT });

  it('is learned with `stb learn -m unigram --model-package` and generates from its artifact', async () => {
    const model = path.join(dir, 'unigram.json');
    const learn = await stb([
      'learn',
      '-i',
      LOG,
      '-m',
      'unigram',
      '--model-package',
      'stb-plugin-model-unigram',
      '-o',
      model,
    ]);
    expect(learn.stderr).toContain('Learned a unigram model');
    expect(learn.code).toBe(0);
    const artifact = JSON.parse(readFileSync(model, 'utf8')) as {
      kind: string;
      modelPackage?: string;
      sequence: {
        state: { ids: string[]; counts: number[]; sessions: number };
      };
    };
    expect(artifact.kind).toBe('unigram');
    const state = artifact.sequence.state;
    expect(state.sessions).toBe(5);
    expect(state.counts.reduce((a, b) => a + b, 0)).toBe(8405);

    const out = path.join(dir, 'unigram.jsonl');
    const gen = await stb([
      'generate',
      '-m',
      model,
      '--model-package',
      'stb-plugin-model-unigram',
      '-n',
      '20000',
      '-o',
      out,
    ]);
    expect(gen.code).toBe(0);

    // Frequencies survive, order does not: the template mix matches the log closely, while
    // transitions (which a unigram model cannot learn) are far off — unlike a Markov model.
    const report = path.join(dir, 'unigram-report.json');
    const val = await stb([
      'validate',
      '--original',
      LOG,
      '--generated',
      out,
      '--json-report',
      report,
    ]);
    expect(val.code).toBe(0);
    const r = ValidationReport.parse(JSON.parse(readFileSync(report, 'utf8')));
    const score = new Map(r.properties.map((p) => [p.id, p.score]));
    expect(score.get('templates')).toBeGreaterThan(0.97);
    expect(score.get('transitions')).toBeLessThan(0.5);
  });

  it('a missing model package is a clear bad-input error', async () => {
    const r = await stb([
      'learn',
      '-i',
      LOG,
      '-m',
      'nope',
      '--model-package',
      'stb-plugin-model-does-not-exist',
      '-o',
      path.join(dir, 'nope.json'),
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('npm install stb-plugin-model-does-not-exist');
  });
});
