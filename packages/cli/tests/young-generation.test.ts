import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PG_STATEMENT_LOG, runStb } from './helpers';

// `stb parse --workers 2` holds the main thread's young generation at 16 MiB (issue 19, see
// `YoungGenerationHold` in src/heap-growing.ts): that thread only orders and writes packed bytes,
// and V8 would double it to 32 MiB over a long run. A preloaded script samples the main thread's
// `new_space` (every 2 ms, and at exit) in the real binary. `--workers 1`, whose main thread
// extracts and is not held, is the control: on the same log its young generation does grow past
// 16 MiB, so the log is long enough for the held run's figure to mean something.

const DIR = mkdtempSync(path.join(os.tmpdir(), 'stb-young-'));
const LOG = path.join(DIR, 'pgbench.log');
const SAMPLER = path.join(DIR, 'sampler.cjs');
const MiB = 1 << 20;

/** The sample log 48 times over (about 50 MB), each copy a day after the one before. */
function writeLongLog(): void {
  const text = gunzipSync(readFileSync(PG_STATEMENT_LOG)).toString('utf8');
  const day = /^(\d{4}-\d{2}-\d{2}) /.exec(text)?.[1] as string;
  const first = Date.parse(`${day}T00:00:00Z`);
  const fd = openSync(LOG, 'w');
  try {
    for (let i = 0; i < 48; i++) {
      const d = new Date(first + i * 86_400_000).toISOString().slice(0, 10);
      writeSync(fd, text.replaceAll(`${day} `, `${d} `));
    }
  } finally {
    closeSync(fd);
  }
}

beforeAll(() => {
  writeLongLog();
  writeFileSync(
    SAMPLER,
    `'use strict';
const { isMainThread } = require('node:worker_threads');
if (isMainThread) {
  const v8 = require('node:v8');
  let most = 0;
  const sample = () => {
    for (const s of v8.getHeapSpaceStatistics())
      if (s.space_name === 'new_space') most = Math.max(most, s.space_size);
  };
  setInterval(sample, 2).unref();
  process.on('exit', () => {
    sample();
    require('node:fs').writeFileSync(process.env.STB_TEST_NEW_SPACE, String(most));
  });
}
`,
  );
});

afterAll(() => rmSync(DIR, { recursive: true, force: true }));

/** `stb parse --workers <workers>` of the long log: the main thread's largest young generation. */
async function mainYoungGeneration(workers: number): Promise<number> {
  const out = path.join(DIR, `w${workers}.txt`);
  const run = await runStb(
    [
      'parse',
      '--json',
      '--workers',
      String(workers),
      '-i',
      LOG,
      '-o',
      path.join(DIR, `w${workers}.jsonl`),
    ],
    {
      env: { NODE_OPTIONS: `--require ${SAMPLER}`, STB_TEST_NEW_SPACE: out },
      timeoutMs: 120_000,
    },
  );
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const summary = JSON.parse(run.stdout.toString('utf8')) as {
    statements: number;
  };
  expect(summary.statements).toBe(48 * 8405);
  return Number(readFileSync(out, 'utf8'));
}

test('--workers 2 holds the main thread young generation at 16 MiB', async () => {
  expect(await mainYoungGeneration(2)).toBeLessThanOrEqual(16 * MiB);
}, 150_000);

test('the control: --workers 1 (its main thread extracts) grows past 16 MiB on that log', async () => {
  expect(await mainYoungGeneration(1)).toBeGreaterThan(16 * MiB);
}, 150_000);
