import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BenchResult } from '@stb/core';
import {
  runStb,
  validateBenches,
  writePgTrace,
  writePluginTarget,
} from './helpers';

// `stb bench` on third-party DB plugins that fail in the ways only a plugin can (the fixtures in
// packages/bench/tests/fixtures/):
// - `--statement-timeout` on one without a statement deadline of its own (hang-plugin.cjs: `HANG`
//   never settles). Until 2026-12-06 the run waited for that statement for ever.
// - A worker thread crashed by a statement (crash-plugin.cjs: `CRASH throw`). The other worker
//   goes on and the run completes, but the crashed worker's sessions are aborted: the result holds
//   less load than the trace's, and the run must not exit 0 (it did until 2026-12-07).

const FIXTURES = path.resolve(__dirname, '../../bench/tests/fixtures');
const PLUGIN = path.join(FIXTURES, 'hang-plugin.cjs');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'stb-plugin-faults-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `stb bench` in closed loop on `trace` against the plugin `target`, without metrics. */
function closedBench(
  trace: string,
  o: { target: string; out: string; extra: readonly string[] },
): ReturnType<typeof runStb> {
  const { target, out, extra } = o;
  return runStb(
    [
      'bench',
      '-i',
      trace,
      '--target',
      target,
      '--mode',
      'closed',
      ...extra,
      '--no-metrics',
      '--out',
      out,
    ],
    { timeoutMs: 20_000 },
  );
}

it('ends a statement the plugin never settles after --statement-timeout, and the run completes', async () => {
  const trace = path.join(dir, 'trace.jsonl');
  const ids: string[] = [];
  writePgTrace(trace, ['SELECT $1::int', 'HANG'], ([sel, hang]) => {
    ids.push(sel ?? '', hang ?? '');
    return [sel, hang, sel].map((id, i) => ({
      kind: 'event',
      startUs: i * 1000,
      sessionId: 's0',
      templateId: id,
      params: id === sel ? [{ t: 'int', v: i }] : [],
    }));
  });
  const hangId = ids[1];
  const out = path.join(dir, 'result.json');
  const r = await closedBench(trace, {
    target: writePluginTarget(path.join(dir, 'hang.json'), PLUGIN),
    out,
    extra: ['--statement-timeout', '300ms'],
  });
  expect(r.stderr).not.toContain('(killed');
  expect(r.code).toBe(0);
  const result = BenchResult.parse(JSON.parse(readFileSync(out, 'utf8')));
  expect(result.status).toBe('completed');
  expect(result.overall.count).toBe(3);
  expect(result.templates.find((t) => t.templateId === hangId)).toMatchObject({
    errors: 1,
    errorsByClass: { timeout: 1 },
  });
  expect(result.faults.reconnects).toBe(1);
  expect(r.stderr).toContain('nor to a cancel (the hang-test plugin has none)');
}, 30_000);

it('a crashed worker thread: the result is written, one line says so, exit 70', async () => {
  const trace = path.join(dir, 'crash-trace.jsonl');
  // every session crashes its worker at its sixth statement, whichever worker runs it
  writePgTrace(trace, ['SELECT $1::int', 'CRASH throw'], ([work, crash]) =>
    Array.from({ length: 80 }, (_, k) => {
      const i = Math.floor(k / 4);
      return {
        kind: 'event',
        startUs: i * 1000 + (k % 4),
        sessionId: `s${String(k % 4)}`,
        templateId: i === 5 ? crash : work,
        params: i === 5 ? [] : [{ t: 'int', v: i }],
      };
    }),
  );
  const out = path.join(dir, 'crash-result.json');
  const r = await closedBench(trace, {
    target: writePluginTarget(
      path.join(dir, 'crash.json'),
      path.join(FIXTURES, 'crash-plugin.cjs'),
    ),
    out,
    extra: ['-c', '4', '--workers', '2'],
  });
  expect(r.stderr).toMatch(
    /^\[stb\] \[bench\] [12] worker threads? crashed while the run went on \(\d of 4 sessions aborted, \d+ events not run in all\), so the result \(in .*crash-result\.json\) holds less load than the trace's\. Worker \d crashed \(crash-test: uncaught exception in the worker\); its \d sessions are counted as aborted\. A crash is a bug, in the DB plugin or in stb: rerun with --debug and report it\.$/m,
  );
  expect(r.code).toBe(70);
  const result = BenchResult.parse(JSON.parse(readFileSync(out, 'utf8')));
  expect(result.faults.workerCrashes).toBeGreaterThan(0);
  expect(result.sessions.aborted).toBeGreaterThan(0);
  // the same trace inline: the plugin crashes only worker threads, so every statement runs
  const whole = path.join(dir, 'whole-result.json');
  const w = await closedBench(trace, {
    target: path.join(dir, 'crash.json'),
    out: whole,
    extra: ['-c', '4', '--workers', '0'],
  });
  expect(w.code).toBe(0);
  // a gate reading the crashed run is told it drove less load than its trace
  const v = await validateBenches(trace, whole, out);
  expect(v.code).toBe(0);
  expect(v.stderr).toMatch(
    /^\[stb\] warning: \S+crash-result\.json ran less load than its trace: \d of 4 sessions were aborted \(\d worker crashes\) and \d+ events not run\.$/m,
  );
  expect(v.stderr).not.toMatch(/whole-result\.json ran less load/);
}, 40_000);
