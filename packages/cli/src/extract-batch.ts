import type { RawQueryEvent } from '@stb/core';
import { extractResult } from '@stb/extractor';
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
 * Extracts `part` on the parse thread (`log-worker.ts`): the batch to post, packed (with `packer`:
 * a statement at a time, so its objects die young) or as JSON, and, when a statement failed, the
 * statements before it and the failure: the caller posts those first and raises the failure
 * after them, where one thread raises it.
 */
export function extractBatch(
  ex: Extractor,
  part: readonly RawQueryEvent[],
  { packer }: { packer?: ResultPacker | undefined } = {},
): ExtractedBatch {
  const results: ExtractedResult[] = [];
  packer?.start(part.length);
  let count = 0;
  let failed = false;
  let error: unknown;
  try {
    for (; count < part.length; count++) {
      const r = extractResult(ex, part[count] as RawQueryEvent, {
        transfer: true,
      });
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
  const { packed, transfer } = packer.finish();
  return { results: packed, transfer, count, failed, error };
}
