import { closeSync, fstatSync, openSync } from 'node:fs';
import { extractResult, ResultPacker } from '@stb/extractor';
import type { ExtractedResult, Extractor, PackedResults } from '@stb/extractor';
import {
  findPgRangeStart,
  parsePgRange,
  pgRangeInputChanged,
} from '@stb/parser';
import type {
  ParseLogsOptions,
  PgBoundaryState,
  PgRangeEnd,
  PgRangePlan,
} from '@stb/parser';

/** Statements per packed batch (as the parse thread's hand-offs, `log-worker.ts`). */
const HAND_OFF_EVENTS = 2048;

/** One range to parse: its nominal bytes, and the state to start from when it is parsed again. */
export interface RangeTask {
  index: number;
  from: number;
  to: number;
  seed?: {
    seed: PgBoundaryState;
    firstLine: number;
    lastStartUs: number | undefined;
  };
}

/**
 * Where task `t`'s bytes start and end: the entry starts nearest its nominal offsets (read from
 * `plan.readFrom` when set). A file now shorter than planned is an error, never ranges cut short.
 */
function bounds(plan: PgRangePlan, t: RangeTask): [number, number] {
  const { file, size, prefix } = plan;
  let fd: number;
  try {
    fd = openSync(plan.readFrom ?? file, 'r');
  } catch (err) {
    throw pgRangeInputChanged(
      file,
      `it could not be read again (${(err as Error).message})`,
      err,
    );
  }
  try {
    const now = fstatSync(fd).size;
    if (now < size)
      throw pgRangeInputChanged(
        file,
        `it has ${now} bytes where ${size} were planned (was it truncated?)`,
      );
    const start = findPgRangeStart(fd, { pos: t.from, size }, prefix);
    const end =
      t.to >= size ? size : findPgRangeStart(fd, { pos: t.to, size }, prefix);
    return [start, Math.max(start, end)];
  } finally {
    closeSync(fd);
  }
}

/**
 * Parses and extracts one byte range (`parsePgRange`; alone, or from `t.seed`), with `ex` reset
 * first (each range's events are extracted as if alone: templates new again). Gives its
 * statements in batches, packed (`ResultPacker`, with the buffers to transfer) or, with
 * `objects`, as extracted results; returns the range's end and its size in bytes. A failure gives
 * what was extracted before it, then throws.
 */
export async function* parseRange(
  plan: PgRangePlan,
  t: RangeTask,
  work: { options: ParseLogsOptions; ex: Extractor; objects?: boolean },
): AsyncGenerator<
  | { packed: PackedResults; transfer: ArrayBuffer[] }
  | { results: ExtractedResult[] },
  { end: PgRangeEnd; bytes: number }
> {
  const { ex, options } = work;
  ex.resetRun();
  const [start, end] = bounds(plan, t);
  const range = parsePgRange(
    plan,
    { index: t.index, start, end, ...t.seed },
    options,
  );
  const packer = work.objects === true ? undefined : new ResultPacker();
  let results: ExtractedResult[] = [];
  const take = ():
    | { packed: PackedResults; transfer: ArrayBuffer[] }
    | { results: ExtractedResult[] } => {
    const batch = results;
    results = [];
    return packer ? packer.pack(batch) : { results: batch };
  };
  // An extraction that names its statement's line (invalid UTF-8) names it by the range's count.
  let namesLine = false;
  try {
    for await (const raws of range.batches) {
      for (const raw of raws) {
        const r = extractResult(ex, raw, { transfer: packer !== undefined });
        if (r.invalidUtf8 !== undefined) namesLine = true;
        results.push(r);
      }
      if (packer === undefined || results.length >= HAND_OFF_EVENTS)
        yield take();
    }
  } finally {
    if (results.length > 0) yield take();
  }
  const done = range.end();
  if (namesLine) done.lineBound = true;
  return { end: done, bytes: end - start };
}
