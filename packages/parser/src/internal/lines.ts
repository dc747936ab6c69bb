import type { InputLine } from '@stb/core';

/**
 * Reads up to `n` lines from an iterator, for detection, and gives back an iterable that replays
 * them followed by the rest.
 * @internal
 */
export async function peekLines(
  lines: AsyncIterable<InputLine>,
  n: number,
  onLine?: (line: number) => void,
): Promise<{ head: InputLine[]; all: AsyncIterable<InputLine> }> {
  const it = lines[Symbol.asyncIterator]();
  const head: InputLine[] = [];
  let done = false;
  while (head.length < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    head.push(r.value);
    onLine?.(r.value.line);
  }
  const counted = (r: IteratorResult<InputLine>): IteratorResult<InputLine> => {
    if (!r.done) onLine?.(r.value.line);
    return r;
  };
  const all: AsyncIterable<InputLine> = {
    [Symbol.asyncIterator]: () => {
      let i = 0;
      return {
        next: (): Promise<IteratorResult<InputLine>> => {
          if (i < head.length)
            return Promise.resolve({
              done: false,
              value: head[i++] as InputLine,
            });
          if (done) return Promise.resolve({ done: true, value: undefined });
          return onLine ? it.next().then(counted) : it.next();
        },
        return: async (): Promise<IteratorResult<InputLine>> => {
          await it.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
  return { head, all };
}

/** True when a line holds a NUL or a UTF-8 decoding failure (binary data). */
export function looksBinary(text: string): boolean {
  return text.includes('\u0000') || text.includes('\uFFFD');
}

/**
 * Why a record is reported `truncated`: the input's last line has no line end (see
 * `InputLine.unterminated`), and the servers whose logs these formats read end every line.
 */
export const CUT_REASON =
  'the last line has no line end: the log was cut there';
