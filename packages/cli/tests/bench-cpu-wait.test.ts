import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  BENCH_RESULT_VERSION,
  BenchResult,
  computeTemplateId,
} from '@stb/core';
import { metricsUrlIn, runStb, startStb, validateBenches } from './helpers';

// The runner's wait for a CPU (result version 4, `client.cpuWaitShare`, and
// `stb_bench_client_cpu_wait_ratio`), made for real: `stb bench` runs a closed loop on the
// in-memory SQLite (a synchronous driver: its thread always wants the CPU) pinned to one core,
// beside a busy loop pinned to the same core. The kernel then shares that core between the two,
// so the runner waits for it about half the time, whatever this machine's speed.
const canPin =
  process.platform === 'linux' &&
  existsSync('/proc/thread-self/schedstat') &&
  spawnSync('taskset', ['-c', '0', 'true']).status === 0;
if (!canPin)
  console.warn(
    '[stb] skipping the CPU-wait tests: they need Linux, /proc/thread-self/schedstat and taskset',
  );

const dir = mkdtempSync(path.join(tmpdir(), 'stb-cpu-wait-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A closed loop's worth of `SELECT $1 + 1` over 4 sessions: more than the runs' 2.5 s even at
 * 200 000 statements/s. 150 000 ran out in about a second on a fast day (2026-12-06): the run
 * then ended before its first client sample and /metrics never showed the gauge.
 */
function writeTrace(n: number): string {
  const text = 'SELECT $1 + 1';
  const id = computeTemplateId('postgres', text);
  const lines = [
    JSON.stringify({
      kind: 'header',
      format: 'stb-trace',
      version: 2,
      dialect: 'postgres',
      source: {},
      timeResolutionUs: 1,
      createdAt: '2024-01-01T00:00:00Z',
    }),
    JSON.stringify({
      kind: 'template',
      id,
      text,
      queryType: 'SELECT',
      tables: [],
      slots: [],
    }),
  ];
  for (let i = 0; i < n; i++)
    lines.push(
      `{"kind":"event","startUs":${1_700_000_000_000_000 + i},"sessionId":"s${i % 4}","templateId":"${id}","params":[{"t":"int","v":${i}}]}`,
    );
  const file = path.join(dir, 'selects.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** A busy loop on core 0 until killed. */
function hog(): ChildProcess {
  return spawn('taskset', ['-c', '0', process.execPath, '-e', 'for (;;) {}'], {
    stdio: 'ignore',
  });
}

/** `stb bench`'s arguments for a closed loop of `trace` on the in-memory SQLite. */
const closedLoop = (trace: string, seconds: number, out: string): string[] => [
  'bench',
  '-i',
  trace,
  '--target',
  'sqlite::memory:',
  '--mode',
  'closed',
  '--duration',
  `${seconds}s`,
  '--out',
  out,
];

/**
 * `stb bench` pinned to core 0 for `run.seconds` (with `run.extra` options), its result written
 * to `<name>.json`; scrapes its `/metrics` once the client gauges have had a full second, and
 * returns the exit code, stderr, the scrape, the result and its path.
 */
async function pinnedBench(
  name: string,
  trace: string,
  run: { seconds: number; extra?: string[] },
): Promise<{
  code: number | null;
  stderr: string;
  scrape: string;
  result: BenchResult;
  out: string;
}> {
  const out = path.join(dir, `${name}.json`);
  const { child, stderr, exited } = startStb(
    [
      ...closedLoop(trace, run.seconds, out),
      '--metrics-port',
      '0',
      ...(run.extra ?? []),
    ],
    { wrapper: ['taskset', '-c', '0'] },
  );
  let scrape = '';
  let done = false;
  void exited.then(() => (done = true));
  try {
    // the client gauges are first set a second into the workload
    for (let i = 0; i < 200 && !done; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const url = metricsUrlIn(stderr());
      if (url === undefined) continue;
      // it may exit between two polls
      const text = await fetch(url)
        .then((r) => r.text())
        .catch(() => '');
      // the CPU counter grows from the same (first) sample that sets the gauge
      const cpu = /^stb_bench_client_cpu_seconds_total ([\d.e+-]+)$/m.exec(
        text,
      );
      if (Number(cpu?.[1] ?? 0) > 0) {
        scrape = text;
        break;
      }
    }
    const code = await exited;
    const result = BenchResult.parse(JSON.parse(readFileSync(out, 'utf8')));
    return { code, stderr: stderr(), scrape, result, out };
  } finally {
    child.kill('SIGKILL');
  }
}

const gauge = (text: string): number =>
  Number(
    /^stb_bench_client_cpu_wait_ratio ([\d.e+-]+)$/m.exec(text)?.[1] ?? NaN,
  );

// written once for every run below (about 76 MB)
const trace = canPin ? writeTrace(600_000) : '';

describe('stb bench: the runner waiting for a CPU', () => {
  it.each([
    ['inline', 'inline', []],
    ['with a worker thread', 'worker', ['--workers', '1']],
  ])(
    'sharing its core with a busy loop (%s): the result, /metrics and the summary show the wait',
    async (_name, file, extra) => {
      if (!canPin) return;
      const h = hog();
      try {
        const r = await pinnedBench(file, trace, { seconds: 2.5, extra });
        expect(r.code).toBe(0);
        const c = r.result.client;
        expect(r.result.version).toBe(BENCH_RESULT_VERSION);
        // two threads that both want one core: each waits for it about half the time
        expect(c?.cpuWaitShare).toBeGreaterThan(0.25);
        expect(c?.cpuWaitShare).toBeLessThanOrEqual(1);
        expect(gauge(r.scrape)).toBeGreaterThan(0.25);
        expect(r.stderr).toMatch(/; waited for a CPU \d+% of the run/);
        expect(r.stderr).toMatch(
          /cpu contention: a runner thread was ready to run but waited for a CPU (\d+)% of the run/,
        );
      } finally {
        h.kill('SIGKILL');
      }
    },
    60_000,
  );
});

describe('stb validate --bench-*: a run its client limited', () => {
  it('is named in a warning, with the signs, beside the performance fidelity', async () => {
    if (!canPin) return;
    const h = hog();
    let starved: string;
    try {
      starved = (await pinnedBench('starved', trace, { seconds: 1.5 })).out;
    } finally {
      h.kill('SIGKILL');
    }
    const plain = path.join(dir, 'plain.json');
    const b = await runStb([...closedLoop(trace, 1.5, plain), '--no-metrics']);
    expect(b.code).toBe(0);
    const v = await validateBenches(trace, plain, starved);
    expect(v.code).toBe(0);
    expect(v.stderr).toContain(
      `[stb] warning: The client limited ${starved} (`,
    );
    expect(v.stderr).toMatch(
      /The client limited \S+starved\.json \([^)]*a runner thread waiting for a CPU \d+% of the run\)/,
    );
  }, 60_000);
});
