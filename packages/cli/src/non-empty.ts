import { StbError } from '@stb/core';

/**
 * Returns `events` after checking it yields at least one event, so a command never reports
 * success on nothing (a trace with a header and no events, a log with no statements). Pulls the
 * first event and yields it again: nothing is read twice or held. Also takes a stream of
 * non-empty event arrays (`openTrace`'s `eventBatches`), checked for a first array.
 * @param label The file, for the message.
 * @throws StbError `STB_TRACE_EMPTY`.
 */
export async function requireEvents<T>(
  events: AsyncIterable<T>,
  label: string,
): Promise<AsyncIterable<T>> {
  const it = events[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) {
    throw new StbError(
      'STB_TRACE_EMPTY',
      `[stb] [cli] \`${label}\` has no events: there is nothing to run. Check the step that produced it.`,
      { details: { file: label } },
    );
  }
  async function* rest(): AsyncGenerator<T> {
    try {
      yield first.value;
      for (;;) {
        const r = await it.next();
        if (r.done === true) return;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  }
  return rest();
}
