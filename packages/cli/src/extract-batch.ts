import type { RawQueryEvent } from '@stb/core';
import { extractResult } from '@stb/extractor';
import { rawAt, type PackedRaw } from './raw-pack';
import type {
  ExtractedResult,
  Extractor,
  PackedResults,
  ResultPacker,
} from '@stb/extractor';

/** A batch extracted by {@link extractBatch}. */
export interface ExtractedBatch {
  /** The statements extracted, packed (with a packer) or as one JSON string of `ExtractedResult[]`. */
  results: string | PackedResults;
  /** The packed batch's buffers, to move rather than copy. */
  transfer: ArrayBuffer[];
  /** Statements extracted: all of them, or those before the failure. */
  count: number;
  failed: boolean;
  /** What the failing statement threw (with `failed`). */
  error?: unknown;
}

/**
 * Extracts `part`, on the parse thread (`log-worker.ts`, events) or an extraction thread
 * (`extract-worker.ts`, a packed raw batch, unpacked a statement at a time): the batch to post,
 * packed (with `packer`: a statement at a time, so its objects die young) or as JSON, and, when a
 * statement failed, the statements before it and the failure: the caller posts those first and
 * raises the failure after them, where one thread raises it.
 */
export function extractBatch(
  ex: Extractor,
  part: readonly RawQueryEvent[] | PackedRaw,
  { packer }: { packer?: ResultPacker | undefined } = {},
): ExtractedBatch {
  const packed = !Array.isArray(part);
  const n = packed ? (part as PackedRaw).count : part.length;
  const at = packed
    ? (i: number) => rawAt(part as PackedRaw, i)
    : (i: number) => (part as readonly RawQueryEvent[])[i] as RawQueryEvent;
  const results: ExtractedResult[] = [];
  packer?.start(n);
  let count = 0;
  let failed = false;
  let error: unknown;
  try {
    for (; count < n; count++) {
      const r = extractResult(ex, at(count), { transfer: true });
      if (packer) packer.add(r);
      else results.push(r);
    }
  } catch (err) {
    failed = true;
    error = err;
  }
  if (!packer)
    return {
      results: JSON.stringify(results),
      transfer: [],
      count,
      failed,
      error,
    };
  const { packed: done, transfer } = packer.finish();
  return { results: done, transfer, count, failed, error };
}
