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
// `new_space` (every 2 ms, and at exit) in the real binary. The control is the same run with the
// hold undone: there the script sets V8's growth factor back to 2 at every sample, and the young
// generation grows past 16 MiB, so the log is long enough for the held run's figure to mean
// something.

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
  const undo = process.env.STB_TEST_UNDO_HOLD === '1';
  let most = 0;
  const sample = () => {
    if (undo) v8.setFlagsFromString('--semi-space-growth-factor=2');
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

/**
 * `stb parse --workers 2` of the long log (`undo`: with the hold undone): the main thread's
 * largest young generation, in bytes.
 */
async function mainYoungGeneration(undo: boolean): Promise<number> {
  const out = path.join(DIR, `${String(undo)}.txt`);
  const run = await runStb(
    [
      'parse',
      '--json',
      '--workers',
      '2',
      '-i',
      LOG,
      '-o',
      path.join(DIR, `${String(undo)}.jsonl`),
    ],
    {
      env: {
        NODE_OPTIONS: `--require "${SAMPLER}"`,
        STB_TEST_NEW_SPACE: out,
        STB_TEST_UNDO_HOLD: undo ? '1' : '0',
      },
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

test('--workers 2 holds the main thread young generation at 16 MiB; undone, it grows past', async () => {
  // It reached its size (the hold engages there), and stayed.
  expect(await mainYoungGeneration(false)).toBe(16 * MiB);
  expect(await mainYoungGeneration(true)).toBeGreaterThan(16 * MiB);
}, 300_000);
