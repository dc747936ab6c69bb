import type { InputLine, RawQueryEvent } from '@stb/core';

/**
 * The synchronous core of a line-based format: lines in, completed events out (pushed to
 * {@link LineParser.out}, which the caller takes and clears), shared by a format's per-line
 * `parse` and its batched `parseBatches` ({@link parseLines}, {@link parseLineBatches}).
 * @internal
 */
export interface LineParser {
  /** Completed events, in log order. */
  readonly out: RawQueryEvent[];
  /**
   * One line; `unterminated` on the input's last line when it has no line end (see
   * `InputLine.unterminated`): the record it belongs to may be cut, and a format whose records
   * end with a line end reports that record `truncated` instead of reading it.
   */
  line(text: string, line: number, unterminated?: boolean): void;
  /** The input ended: completes what is still open. */
  finish(): void;
}

/** A format's `parse` over a {@link LineParser}: one line and one event at a time. @internal */
export async function* parseLines(
  lines: AsyncIterable<InputLine>,
  p: LineParser,
): AsyncGenerator<RawQueryEvent> {
  const out = p.out;
  for await (const { text, line, unterminated } of lines) {
    p.line(text, line, unterminated === true);
    if (out.length > 0) {
      for (const ev of out) yield ev;
      out.length = 0;
    }
  }
  p.finish();
  for (const ev of out) yield ev;
  out.length = 0;
}

/**
 * A format's `parseBatches` over a {@link LineParser}: lines in arrays, events in arrays (the
 * events of each array of lines), one `await` per array. Same events, same order as
 * {@link parseLines}. @internal
 */
export async function* parseLineBatches(
  batches: AsyncIterable<InputLine[]>,
  p: LineParser,
): AsyncGenerator<RawQueryEvent[]> {
  const take = (): RawQueryEvent[] => {
    const evs = p.out.slice();
    p.out.length = 0;
    return evs;
  };
  for await (const b of batches) {
    for (let i = 0; i < b.length; i++) {
      const l = b[i] as InputLine;
      p.line(l.text, l.line, l.unterminated === true);
    }
    if (p.out.length > 0) yield take();
  }
  p.finish();
  if (p.out.length > 0) yield take();
}
