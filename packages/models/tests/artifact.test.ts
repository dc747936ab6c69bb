import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { TraceEvent } from '@stb/core';
import { createRng, isStbError } from '@stb/core';
import { z } from 'zod';
import type { FitWorkloadModelOptions, ModelArtifact } from '../src/index';
import {
  MODEL_ARTIFACT_FORMAT_VERSION,
  createModelRegistry,
  createWorkloadSampler,
  defineSequenceModel,
  fitWorkloadModel,
  readModelArtifact,
  writeModelArtifact,
} from '../src/index';
import type { LoadedTrace } from './helpers/real-log';
import { loadSampleTrace } from './helpers/real-log';

let trace: LoadedTrace;
const registry = createModelRegistry();
let dir: string;
let artifact: ModelArtifact;

/** Fits the pgbench trace (or `events`) with markov order 2 unless overridden. */
function fitTrace(
  overrides: Partial<FitWorkloadModelOptions> = {},
  events: TraceEvent[] = trace.events,
): Promise<ModelArtifact> {
  return fitWorkloadModel(
    async function* () {
      yield* events;
    },
    {
      catalog: trace.templates,
      header: trace.header,
      model: registry.get('markov'),
      modelOptions: { order: 2 },
      seed: 7,
      createdAt: '2026-01-01T00:00:00.000Z',
      ...overrides,
    },
  );
}

async function expectCode(
  p: Promise<unknown>,
  code: string,
  pattern?: RegExp,
): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect(isStbError(err)).toBe(true);
    expect((err as { code: string }).code).toBe(code);
    if (pattern) expect((err as Error).message).toMatch(pattern);
    return;
  }
  throw new Error(`expected ${code}`);
}

beforeAll(async () => {
  trace = await loadSampleTrace(
    'pg-tpcb-simple-logstatement',
    'postgresql.log.gz',
  );
  dir = mkdtempSync(join(tmpdir(), 'stb-models-'));
  artifact = await fitTrace();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('model artifacts', () => {
  it('round-trip as JSON and gzip, and sample identically after reload', async () => {
    for (const name of ['m.json', 'm.json.gz']) {
      const path = join(dir, name);
      await writeModelArtifact(path, artifact);
      const bytes = readFileSync(path);
      expect(bytes[0] === 0x1f && bytes[1] === 0x8b).toBe(name.endsWith('.gz'));
      const back = await readModelArtifact(path, { registry });
      expect(back).toEqual(JSON.parse(JSON.stringify(artifact)));
      const draw = (a: ModelArtifact): unknown[] => {
        const s = createWorkloadSampler(a, { registry });
        const rng = createRng(1);
        const st = s.newSession(rng);
        return [...s.sequence.nextSession(rng)]
          .slice(0, 30)
          .map((id) => [id, s.params(id, st, rng, 0)]);
      };
      expect(draw(back)).toEqual(draw(artifact));
    }
  });

  it('is deterministic for a seed', async () => {
    const again = await fitTrace();
    expect(JSON.stringify(again)).toBe(JSON.stringify(artifact));
  });

  it('refuses corrupted, truncated and invalid files with the file and the path', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"format":"stb-model",');
    await expectCode(
      readModelArtifact(bad, { registry }),
      'STB_MODEL_ARTIFACT_INVALID',
      /bad\.json is not valid JSON/,
    );
    const gz = join(dir, 'bad.json.gz');
    writeFileSync(gz, gzipSync(JSON.stringify(artifact)).subarray(0, 200));
    await expectCode(
      readModelArtifact(gz, { registry }),
      'STB_GZIP_CORRUPT',
      /bad\.json\.gz/,
    );
    const wrong = join(dir, 'wrong.json');
    writeFileSync(
      wrong,
      JSON.stringify({
        ...artifact,
        arrival: { ...artifact.arrival, bucketUs: -1 },
      }),
    );
    await expectCode(
      readModelArtifact(wrong, { registry }),
      'STB_MODEL_ARTIFACT_INVALID',
      /wrong\.json .*`arrival\.bucketUs`/,
    );
    const state = join(dir, 'state.json');
    writeFileSync(
      state,
      JSON.stringify({
        ...artifact,
        sequence: { state: { stateVersion: 1, order: 9 } },
      }),
    );
    await expectCode(
      readModelArtifact(state, { registry }),
      'STB_MODEL_ARTIFACT_INVALID',
      /invalid `markov` sequence state/,
    );
    const other = join(dir, 'trace.json');
    writeFileSync(
      other,
      JSON.stringify({ kind: 'header', format: 'stb-trace' }),
    );
    await expectCode(
      readModelArtifact(other),
      'STB_MODEL_ARTIFACT_INVALID',
      /not a model artifact/,
    );
    await expectCode(
      readModelArtifact(join(dir, 'missing.json')),
      'STB_INPUT_NOT_FOUND',
    );
  });

  it('refuses old and newer format versions naming the version needed', async () => {
    const newer = join(dir, 'newer.json');
    writeFileSync(newer, JSON.stringify({ ...artifact, formatVersion: 3 }));
    await expectCode(
      readModelArtifact(newer),
      'STB_MODEL_ARTIFACT_VERSION',
      /format version 3.*Upgrade @stb\/models to a release that reads format version 3/,
    );
    const old = join(dir, 'old.json');
    writeFileSync(old, JSON.stringify({ ...artifact, formatVersion: 0 }));
    await expectCode(
      readModelArtifact(old),
      'STB_MODEL_ARTIFACT_VERSION',
      new RegExp(
        `Refit the model .* format version ${MODEL_ARTIFACT_FORMAT_VERSION}`,
      ),
    );
  });

  it('stores typed arrays of third-party states losslessly', async () => {
    const typed = defineSequenceModel({
      kind: 'model',
      name: 'typed',
      apiVersion: 1,
      options: z.object({}),
      async fit() {
        return { stateVersion: 1, weights: Float32Array.of(0.5, -1.25, 3) };
      },
      createSampler: () => ({ *nextSession() {} }),
    });
    const reg = createModelRegistry([typed]);
    const a = await fitWorkloadModel(
      async function* () {
        yield* trace.events.slice(0, 50);
      },
      { catalog: trace.templates, header: trace.header, model: typed },
    );
    const path = join(dir, 'typed.json');
    await writeModelArtifact(path, a);
    const back = await readModelArtifact(path, { registry: reg });
    expect((back.sequence.state as { weights: Float32Array }).weights).toEqual(
      Float32Array.of(0.5, -1.25, 3),
    );
  });

  it('refuses empty input and events of unknown templates', async () => {
    const fit = (events: TraceEvent[]): Promise<unknown> =>
      fitTrace({}, events);
    await expectCode(fit([]), 'STB_MODEL_EMPTY_INPUT');
    await expectCode(
      fit([
        { ...(trace.events[0] as TraceEvent), templateId: '0123456789abcdef' },
      ]),
      'STB_TRACE_UNKNOWN_TEMPLATE',
    );
    await expectCode(
      fitTrace({ modelOptions: { order: 7 } }),
      'STB_PLUGIN_OPTIONS_INVALID',
    );
  });

  it('honours an abort signal', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    await expectCode(fitTrace({ signal: ctrl.signal }), 'STB_ABORTED');
  });
});
