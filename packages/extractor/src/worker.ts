import type { RawQueryEvent } from '@stb/core';
import { extractResult } from './extract-trace';
import {
  createExtractor,
  type Extracted,
  type Extractor,
  type ExtractorOptions,
} from './extractor';

/** A batch of raw events for a pool worker. */
export interface WorkerTask {
  options: ExtractorOptions;
  events: RawQueryEvent[];
}

/** What a worker returns per event: the template only the first time this worker meets it. */
export type WorkerResult = Omit<Extracted, 'template'> & {
  template?: Extracted['template'];
};

let extractor: Promise<Extractor> | undefined;

/** Piscina task: extracts a batch in order. One extractor (and shape cache) per worker thread. */
export default async function extractBatch(
  task: WorkerTask,
): Promise<WorkerResult[]> {
  extractor ??= createExtractor(task.options);
  const ex = await extractor;
  return task.events.map((raw) => extractResult(ex, raw, { transfer: true }));
}
