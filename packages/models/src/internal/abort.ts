import { StbError } from '@stb/core';

/** Throws `STB_ABORTED` when the signal has fired. */
export function throwIfAborted(
  signal: AbortSignal | undefined,
  where: string,
): void {
  if (signal?.aborted)
    throw new StbError('STB_ABORTED', `[stb] [models] ${where} was aborted.`, {
      cause: signal.reason,
    });
}
