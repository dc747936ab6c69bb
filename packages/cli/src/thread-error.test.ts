import { Worker } from 'node:worker_threads';
import { StbError } from '@stb/core';
import { exitCodeFor } from './exit-codes';
import { threadError } from './thread-error';

// A thread that runs out of memory is said as such (exit 3), not as a bug (exit 70): the error is
// the one Node gives for a real worker that fills a small heap.

/** The `error` of a worker whose old generation (4 MB) fills up. */
function outOfMemory(): Promise<Error> {
  const source =
    'const keep = []; for (;;) keep.push(new Array(1e5).fill({ a: keep.length }));';
  const w = new Worker(source, {
    eval: true,
    resourceLimits: { maxOldGenerationSizeMb: 4, maxYoungGenerationSizeMb: 1 },
  });
  return new Promise((resolve) => w.once('error', resolve));
}

it('a thread out of memory: STB_OUT_OF_MEMORY naming the thread, exit 3', async () => {
  const err = threadError(await outOfMemory(), 'extraction');
  expect(err).toBeInstanceOf(StbError);
  expect((err as StbError).code).toBe('STB_OUT_OF_MEMORY');
  expect(err.message).toMatch(
    /^\[stb\] \[cli\] The extraction thread ran out of memory \(.+\)\. Rerun without `--workers`/,
  );
  expect(exitCodeFor(err)).toBe(3);
}, 20_000);

it('any other thread error is passed on as it is', () => {
  const boom = new Error('boom');
  expect(threadError(boom, 'parse')).toBe(boom);
});
