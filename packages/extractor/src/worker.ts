import type { RawQueryEvent } from '@stb/core';
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
  const out: WorkerResult[] = new Array<WorkerResult>(task.events.length);
  for (let i = 0; i < task.events.length; i++) {
    const r = ex.extract(task.events[i] as RawQueryEvent);
    const w: WorkerResult = { event: r.event, isNew: r.isNew };
    if (r.isNew) w.template = r.template;
    if (r.boundary) w.boundary = r.boundary;
    if (r.invalidUtf8) w.invalidUtf8 = r.invalidUtf8;
    out[i] = w;
  }
  return out;
}
