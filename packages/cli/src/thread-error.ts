import { StbError } from '@stb/core';

/**
 * A thread's `error` as `stb` says it: a thread that ran out of memory (its heap at V8's limit,
 * `ERR_WORKER_OUT_OF_MEMORY`) is this input and this machine, not a bug (exit 3, not 70); any
 * other error is passed on as it is.
 */
export function threadError(err: Error, thread: string): Error {
  if ((err as NodeJS.ErrnoException).code !== 'ERR_WORKER_OUT_OF_MEMORY')
    return err;
  return new StbError(
    'STB_OUT_OF_MEMORY',
    `[stb] [cli] The ${thread} thread ran out of memory (${err.message}). Rerun without \`--workers\` (one thread holds less), or give Node's heap more room: NODE_OPTIONS=--max-old-space-size=<MB>.`,
  );
}
