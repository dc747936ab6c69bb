/**
 * Example 1: the whole pipeline as a library, no CLI.
 *
 *   log ─parseLogs─▶ raw events ─traceFromLog─▶ trace file ─fitWorkloadModel─▶ model
 *   model ─generateTrace─▶ synthetic trace file (+ executable SQL)
 *
 * Every stage streams (AsyncIterables end to end), so a 10 GB log flows in bounded memory.
 *
 * Usage: node dist/01-compose-library/main.js [log] [out-dir] [count]
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTrace, writeTrace } from '@stb/core';
import type { TraceRecord } from '@stb/core';
import { traceFromLog } from '@stb/extractor';
import { generateTrace } from '@stb/generator';
import {
  createModelRegistry,
  fitWorkloadModel,
  writeModelArtifact,
} from '@stb/models';
import { parseLogs } from '@stb/parser';

const here = path.dirname(fileURLToPath(import.meta.url));
const [
  log = path.resolve(here, '../../data/pgbench-simple.log.gz'),
  outDir = 'example-01-out',
  count = '2000',
] = process.argv.slice(2);

async function main(): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const traceFile = path.join(outDir, 'trace.jsonl');
  const modelFile = path.join(outDir, 'model.json');
  const generatedFile = path.join(outDir, 'generated.jsonl');

  // 1. Parse the log (format detected from its first lines) and extract templates + typed
  //    parameters. writeTrace consumes the stream: a header record first, then templates and
  //    events as the extractor yields them.
  const raw = parseLogs([log], { onInvalid: 'collect' });
  const extracted = traceFromLog(raw, { files: [log], tool: 'example-01' });
  const written = await writeTrace(traceFile, extracted);
  console.log(
    `parsed ${raw.summary().files[0]?.format ?? '?'}: ${written.events} statements, ${written.templates} templates → ${traceFile}`,
  );
  const header = extracted.header(); // the header yielded first
  if (header === undefined) throw new Error('No statement in the log.');

  // 2. Fit a Markov model. The fit reads the events more than once, so it takes a function that
  //    streams the trace file anew for each pass (never an array of events).
  const artifact = await fitWorkloadModel(
    async function* events() {
      yield* (await openTrace(traceFile)).events;
    },
    {
      catalog: extracted.catalog, // every template the extractor met
      header,
      model: createModelRegistry().get('markov'),
      modelOptions: { order: 1 },
      seed: 1,
    },
  );
  await writeModelArtifact(modelFile, artifact);
  console.log(`learned a ${artifact.kind} model → ${modelFile}`);

  // 3. Generate a synthetic trace (deterministic under the seed) with executable SQL.
  const generated = generateTrace(artifact, {
    seed: 7,
    count: Number(count),
    render: true,
  });
  let shown = 0;
  async function* showFirst(): AsyncGenerator<TraceRecord> {
    for await (const r of generated) {
      if (r.kind === 'event' && shown < 3 && r.sql !== undefined) {
        console.log(`  ${r.sessionId}: ${r.sql}`);
        shown++;
      }
      yield r;
    }
  }
  const out = await writeTrace(generatedFile, showFirst());
  const g = generated.summary();
  console.log(
    `generated ${out.events} statements in ${g.sessions} sessions → ${generatedFile}`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
