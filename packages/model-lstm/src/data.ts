import type { Rng } from '@stb/core';
import { StbError } from '@stb/core';
import type { SessionSequence } from '@stb/models';
import { BOUNDARY } from './network';

/** Sessions read for training, as token indices (template `vocabulary[i]` is token `i + 1`). */
export interface TrainingData {
  vocabulary: string[];
  sessions: Int32Array[];
  /** Longest session read (before down-sampling). */
  maxLength: number;
  /** Sessions and templates read (before down-sampling). */
  sessionsRead: number;
  tokensRead: number;
}

/**
 * Reads every session once. When more than `maxTokens` tokens are held, the kept sessions are
 * thinned by half and later sessions kept with half the probability (seeded), so memory stays
 * bounded and the kept sessions remain a uniform sample.
 */
export async function readTrainingData(
  source: AsyncIterable<SessionSequence>,
  options: { rng: Rng; maxTokens: number; signal?: AbortSignal | undefined },
): Promise<TrainingData> {
  const index = new Map<string, number>();
  const vocabulary: string[] = [];
  let sessions: Int32Array[] = [];
  let held = 0;
  let keep = 1;
  let maxLength = 0;
  let sessionsRead = 0;
  let tokensRead = 0;
  for await (const s of source) {
    throwIfAborted(options.signal);
    sessionsRead++;
    tokensRead += s.templates.length;
    if (s.templates.length > maxLength) maxLength = s.templates.length;
    // A single session longer than the budget is cut (it would not fit on its own).
    const n = Math.min(s.templates.length, options.maxTokens);
    const tokens = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const id = s.templates[i] as string;
      let t = index.get(id);
      if (t === undefined) {
        vocabulary.push(id);
        t = vocabulary.length;
        index.set(id, t);
      }
      tokens[i] = t;
    }
    if (keep < 1 && options.rng.next() >= keep) continue;
    sessions.push(tokens);
    held += n + 1;
    while (held > options.maxTokens && sessions.length > 1) {
      keep /= 2;
      sessions = sessions.filter(() => options.rng.next() < 0.5);
      held = sessions.reduce((a, t) => a + t.length + 1, 0);
    }
  }
  return { vocabulary, sessions, maxLength, sessionsRead, tokensRead };
}

/** Throws `STB_ABORTED` when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new StbError(
      'STB_ABORTED',
      '[stb] [model:lstm] Fitting was aborted.',
      {
        cause: signal.reason,
      },
    );
}

/** Fisher–Yates shuffle in place with the given rng. */
export function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = items[i] as T;
    items[i] = items[j] as T;
    items[j] = t;
  }
  return items;
}

/**
 * Splits sessions into training and validation sets: `round(n × share)` sessions drawn by `rng`
 * go to validation, unless that leaves either side empty (then there is no validation set).
 */
export function splitSessions(
  sessions: readonly Int32Array[],
  share: number,
  rng: Rng,
): { train: Int32Array[]; validation: Int32Array[] } {
  const nVal = Math.round(sessions.length * share);
  if (nVal < 1 || nVal >= sessions.length)
    return { train: [...sessions], validation: [] };
  const order = shuffle(
    sessions.map((_, i) => i),
    rng,
  );
  const isVal = new Uint8Array(sessions.length);
  for (let i = 0; i < nVal; i++) isVal[order[i] as number] = 1;
  return {
    train: sessions.filter((_, i) => isVal[i] === 0),
    validation: sessions.filter((_, i) => isVal[i] === 1),
  };
}

/**
 * Concatenates sessions into one token stream `0 s1… 0 s2… 0`: token 0 is START as an input
 * and END as the target of the token before it.
 */
export function toStream(sessions: readonly Int32Array[]): Int32Array {
  let n = 1;
  for (const s of sessions) n += s.length + 1;
  const out = new Int32Array(n);
  let p = 0;
  for (const s of sessions) {
    out[p++] = BOUNDARY;
    out.set(s, p);
    p += s.length;
  }
  out[p] = BOUNDARY;
  return out;
}

/** One training step's tokens: `inputs` and `targets` are [rows, steps] row-major. */
export interface StreamBatch {
  rows: number;
  steps: number;
  inputs: Int32Array;
  targets: Int32Array;
}

/**
 * Cuts a stream into `rows` parallel contiguous parts and yields consecutive windows of up to
 * `window` steps across all rows, so the recurrent state of window k carries into window k + 1.
 * Drops at most `rows - 1` tokens at the end of the stream.
 */
export function* streamBatches(
  stream: Int32Array,
  options: { rows: number; window: number },
): Generator<StreamBatch> {
  const pairs = stream.length - 1;
  if (pairs < 1) return;
  const rows = Math.max(1, Math.min(options.rows, pairs));
  const len = Math.floor(pairs / rows);
  for (let start = 0; start < len; start += options.window) {
    const steps = Math.min(options.window, len - start);
    const inputs = new Int32Array(rows * steps);
    const targets = new Int32Array(rows * steps);
    for (let r = 0; r < rows; r++) {
      const base = r * len + start;
      inputs.set(stream.subarray(base, base + steps), r * steps);
      targets.set(stream.subarray(base + 1, base + 1 + steps), r * steps);
    }
    yield { rows, steps, inputs, targets };
  }
}
