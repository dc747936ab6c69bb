import { StbError } from '../errors';
import type { TraceHeader, TraceRecord } from '../schema';
import { mergeSorted } from '../streams';
import type { ReadTraceOptions } from './trace-read';
import { readTraceRecords } from './trace-read';

/** Options of {@link mergeTraceFiles}. */
export interface MergeTraceFilesOptions extends Pick<
  ReadTraceOptions,
  'signal'
> {
  /** Names of the inputs for messages (default: the paths). */
  labels?: readonly string[];
  /**
   * Filled as the merge goes: `steppedBack[i]`, the events of input `i` that start before an
   * event above them in that input (see {@link mergeTraceFiles}).
   */
  stats?: MergeTraceStats;
}

/** What {@link mergeTraceFiles} counts. */
export interface MergeTraceStats {
  /** Per input: events that start before an event above them in the same input. */
  steppedBack: number[];
}

const TRAILING_NUMBER = /^(.*?)(\d+)$/;

/**
 * Session ids in their natural order: with one prefix, a trailing number compares as a number
 * (`s3` < `s13`); else by code units. The generator names its sessions `<prefix><index>` and
 * breaks ties of equal start by index, so shards merged by this order give the sequential run.
 */
export function compareSessionIds(a: string, b: string): number {
  if (a === b) return 0;
  const ma = TRAILING_NUMBER.exec(a);
  const mb = TRAILING_NUMBER.exec(b);
  if (ma && mb && ma[1] === mb[1]) {
    const da = ma[2] as string;
    const db = mb[2] as string;
    // compare as numbers without a size limit: fewer digits (leading zeros aside) is smaller
    const na = da.replace(/^0+(?=\d)/, '');
    const nb = db.replace(/^0+(?=\d)/, '');
    if (na.length !== nb.length) return na.length - nb.length;
    if (na !== nb) return na < nb ? -1 : 1;
  }
  return a < b ? -1 : 1;
}

/** A record and the key it is merged by. */
interface Keyed {
  r: TraceRecord;
  key: number;
}

function incompatible(message: string, file: string): StbError {
  return new StbError('STB_TRACE_MERGE_INCOMPATIBLE', `[stb] ${message}`, {
    details: { file },
  });
}

/**
 * Merges traces that are each in start-time order (the shards of `stb generate --shard i/n`, or
 * traces of consecutive log parts) into one trace in start-time order: a k-way merge holding one
 * record per input, so memory does not grow with the traces. The header is the first input's
 * (with the coarsest time resolution of all); a template record comes once, before its first
 * event; events of equal start come in the order of their session ids, a trailing number compared
 * as a number (`s3` before `s13`: the generator's own order for its sessions, whichever shard
 * holds them), then in the order of the inputs. Session ids are kept as they are, so a session
 * that spans two inputs stays one session.
 *
 * Each input's order is kept as it is. An event that starts before an event above it in its input
 * is merged at the latest start seen so far in that input: `stb parse` writes such events for a
 * `log_min_duration_statement` log, whose lines stamp a statement's end (start = end − duration
 * steps back; a statement longer than the reorder window comes out late), and keeps each
 * session's order. They are counted in `options.stats`.
 * @throws StbError `STB_TRACE_MERGE_INCOMPATIBLE` when the dialects differ or an input has no
 * header; the readers' errors (`STB_TRACE_*`) for unreadable inputs.
 * @example
 * await writeTrace('all.stb.jsonl', mergeTraceFiles(['g0.jsonl', 'g1.jsonl', 'g2.jsonl']));
 */
export async function* mergeTraceFiles(
  inputs: readonly string[],
  options: MergeTraceFilesOptions = {},
): AsyncGenerator<TraceRecord> {
  const label = (i: number): string =>
    options.labels?.[i] ?? (inputs[i] as string);
  const headers: TraceHeader[] = [];
  const steppedBack = inputs.map(() => 0);
  if (options.stats) options.stats.steppedBack = steppedBack;
  const sources = inputs.map((file, i) =>
    (async function* (): AsyncGenerator<Keyed> {
      // The merge key: the latest start so far in this input (templates sort before everything,
      // so each comes before its first event).
      let latest = -Infinity;
      for await (const r of readTraceRecords(file, {
        ...(options.signal ? { signal: options.signal } : {}),
      })) {
        if (r.kind === 'header') {
          headers[i] = r;
          continue;
        }
        if (r.kind === 'event') {
          if (r.startUs < latest) steppedBack[i] = (steppedBack[i] ?? 0) + 1;
          else latest = r.startUs;
        }
        yield { r, key: r.kind === 'event' ? latest : -Infinity };
      }
    })(),
  );
  const tie = (a: Keyed, b: Keyed): number =>
    a.r.kind === 'event' && b.r.kind === 'event'
      ? compareSessionIds(a.r.sessionId, b.r.sessionId)
      : 0;
  const seen = new Set<string>();
  let headerSent = false;
  for await (const { r } of mergeSorted(sources, (k) => k.key, tie)) {
    if (!headerSent) {
      const first = headers[0];
      if (!first)
        throw incompatible(`${label(0)} has no header record.`, label(0));
      headers.forEach((h, i) => {
        if (h.dialect !== first.dialect)
          throw incompatible(
            `${label(i)} is a ${h.dialect} trace and ${label(0)} a ${first.dialect} one. Merge traces of one dialect.`,
            label(i),
          );
      });
      yield {
        ...first,
        timeResolutionUs: Math.max(...headers.map((h) => h.timeResolutionUs)),
      };
      headerSent = true;
    }
    if (r.kind === 'template') {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
    }
    yield r;
  }
}
