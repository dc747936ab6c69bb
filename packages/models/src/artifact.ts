import { readFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Dialect, QueryTemplate, StbError, writeFileAtomic } from '@stb/core';
import { z } from 'zod';
import type { ModelRegistry } from './registry';
import { loadModelPackage } from './registry';
import {
  ArrivalModelState,
  ParameterModelState,
  SessionModelState,
} from './state-schemas';

/** Version of the model artifact format this package writes and reads. */
export const MODEL_ARTIFACT_FORMAT_VERSION = 2 as const;

/** Summary of the trace a model was fitted on. */
export const ModelSourceSummary = z.object({
  events: z.number().int().nonnegative(),
  sessions: z.number().int().nonnegative(),
  templates: z.number().int().nonnegative(),
  /** Epoch µs of the first and last event start. */
  startUs: z.number().int(),
  endUs: z.number().int(),
  files: z.array(z.string()).optional(),
});
export type ModelSourceSummary = z.infer<typeof ModelSourceSummary>;

/**
 * A fitted workload model, as saved to disk (DESIGN.md "Model artifact"): the sequence model's
 * state, the parameter and arrival models, the templates, and where it came from.
 */
export const ModelArtifact = z.object({
  format: z.literal('stb-model'),
  formatVersion: z.literal(MODEL_ARTIFACT_FORMAT_VERSION),
  /** The sequence model's registered name (`markov`, `hmm`, `lstm`…). */
  kind: z.string().min(1),
  /** The npm package that provides `kind` when it is not built in (e.g. `@stb/model-lstm`). */
  modelPackage: z.string().optional(),
  /** ISO-8601 time of the fit. */
  createdAt: z.string(),
  dialect: Dialect,
  source: ModelSourceSummary,
  templates: z.array(QueryTemplate),
  sequence: z.object({
    /** The validated options the sequence model was fitted with. */
    options: z.unknown().optional(),
    /** The plugin's state; validated by the plugin's `parseState` on load. */
    state: z.unknown(),
  }),
  parameters: ParameterModelState,
  arrival: ArrivalModelState,
  /** Session classes, lengths, pools and arrivals (format 2). */
  sessions: SessionModelState,
  privacy: z.object({
    /** True in `strict` mode. */
    enabled: z.boolean(),
    /** Distinct sessions a literal must be seen in before it may be emitted verbatim. */
    minSessions: z.number().int().positive(),
    /**
     * `default`, `strict` or `keep-literals` (see `PrivacyOptions`). Absent in artifacts written
     * before it existed: then `enabled` means `strict`, else `keep-literals`.
     */
    mode: z.enum(['default', 'strict', 'keep-literals']).optional(),
  }),
  /**
   * Present on the artifact of one shard of a sharded fit (`stb learn --shard i/n`): which shard,
   * and the fit options every shard must share. `mergeModelArtifacts` combines the n shards.
   */
  shard: z
    .object({
      index: z.number().int().nonnegative(),
      count: z.number().int().positive(),
      fit: z.object({
        sessionIdleUs: z.number(),
        maxSessionEvents: z.number(),
        bucketUs: z.number().nullable(),
        seed: z.number(),
        /** `stb learn --unit-dispatch` (absent in shard artifacts written before it was recorded). */
        unitDispatch: z.enum(['auto', 'off']).optional(),
      }),
    })
    .optional(),
});
export type ModelArtifact = z.infer<typeof ModelArtifact>;

/** Options of {@link readModelArtifact}. */
export interface ReadModelArtifactOptions {
  /**
   * Registry used to validate the sequence state with the plugin's `parseState`. When the kind is
   * not registered and the artifact names a `modelPackage`, the package is loaded into it.
   */
  registry?: ModelRegistry;
  /** Directory to resolve `modelPackage` from (default `process.cwd()`). */
  from?: string;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

function artifactError(
  code: 'STB_MODEL_ARTIFACT_INVALID' | 'STB_MODEL_ARTIFACT_VERSION',
  message: string,
  options: { file: string; cause?: unknown; details?: Record<string, string> },
): StbError {
  return new StbError(code, message, {
    cause: options.cause,
    details: { file: options.file, ...options.details },
  });
}

/**
 * Validates a parsed artifact object: format, version, schema, then (with a registry) the
 * sequence state through the plugin's `parseState`.
 * @param label names the artifact in messages (a file path or `<memory>`).
 * @throws StbError `STB_MODEL_ARTIFACT_VERSION` for other format versions, `STB_MODEL_ARTIFACT_INVALID` otherwise.
 */
export function parseModelArtifact(
  value: unknown,
  options: { label?: string; registry?: ModelRegistry } = {},
): ModelArtifact {
  const file = options.label ?? '<memory>';
  if (
    typeof value !== 'object' ||
    value === null ||
    (value as { format?: unknown }).format !== 'stb-model'
  ) {
    throw artifactError(
      'STB_MODEL_ARTIFACT_INVALID',
      `[stb] [models] ${file} is not a model artifact (no \`"format": "stb-model"\`). Pass a file written by \`stb fit\`.`,
      { file },
    );
  }
  const version = (value as { formatVersion?: unknown }).formatVersion;
  if (version !== MODEL_ARTIFACT_FORMAT_VERSION) {
    const newer =
      typeof version === 'number' && version > MODEL_ARTIFACT_FORMAT_VERSION;
    throw artifactError(
      'STB_MODEL_ARTIFACT_VERSION',
      `[stb] [models] ${file} has model format version ${JSON.stringify(version ?? null)}, but this version of @stb/models reads format version ${MODEL_ARTIFACT_FORMAT_VERSION}. ${
        newer
          ? `Upgrade @stb/models to a release that reads format version ${String(version)}.`
          : `Refit the model from its trace to get format version ${MODEL_ARTIFACT_FORMAT_VERSION}.`
      }`,
      {
        file,
        details: {
          found: JSON.stringify(version ?? null),
          needed: String(MODEL_ARTIFACT_FORMAT_VERSION),
        },
      },
    );
  }
  const r = ModelArtifact.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path =
      issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    throw artifactError(
      'STB_MODEL_ARTIFACT_INVALID',
      `[stb] [models] ${file} is not a valid model artifact: at \`${path}\`: ${issue?.message ?? 'invalid'}. Refit the model or restore the file.`,
      { file, cause: r.error, details: { path } },
    );
  }
  const artifact = r.data;
  const plugin = options.registry?.find(artifact.kind);
  const parseState = plugin?.parseState?.bind(plugin);
  if (parseState) {
    const check = (state: unknown, path: string): unknown => {
      try {
        return parseState(state);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw artifactError(
          'STB_MODEL_ARTIFACT_INVALID',
          `[stb] [models] ${file} holds an invalid \`${artifact.kind}\` sequence state at \`${path}\`: ${reason} Refit the model or restore the file.`,
          { file, cause: err, details: { path } },
        );
      }
    };
    artifact.sequence.state = check(artifact.sequence.state, 'sequence.state');
    for (const c of artifact.sessions.classes)
      c.sequence = check(c.sequence, `sessions.classes.${c.id}.sequence`);
  }
  return artifact;
}

/**
 * Reads a model artifact (JSON, gzip detected by its magic bytes) and validates it.
 * @throws StbError `STB_INPUT_NOT_FOUND`, `STB_GZIP_CORRUPT`, `STB_MODEL_ARTIFACT_INVALID` (naming the file and the path of the first problem) or `STB_MODEL_ARTIFACT_VERSION` (naming the version needed).
 * @example
 * const artifact = await readModelArtifact('pgbench.model.json.gz', { registry: createModelRegistry() });
 */
export async function readModelArtifact(
  path: string,
  options: ReadModelArtifactOptions = {},
): Promise<ModelArtifact> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new StbError(
      code === 'ENOENT' ? 'STB_INPUT_NOT_FOUND' : 'STB_INPUT_UNREADABLE',
      `[stb] [models] Cannot read model artifact ${path} (${code ?? 'error'}). Check the path.`,
      { cause: err, details: { file: path } },
    );
  }
  if (bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new StbError(
        'STB_GZIP_CORRUPT',
        `[stb] [models] ${path} is a corrupt or truncated gzip file. Restore the file or refit the model.`,
        { cause: err, details: { file: path } },
      );
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'), typedArrayReviver);
  } catch (err) {
    throw artifactError(
      'STB_MODEL_ARTIFACT_INVALID',
      `[stb] [models] ${path} is not valid JSON (${(err as Error).message}). Restore the file or refit the model.`,
      { file: path, cause: err },
    );
  }
  const kind = (value as { kind?: unknown } | null)?.kind;
  const pkg = (value as { modelPackage?: unknown } | null)?.modelPackage;
  const { registry } = options;
  if (
    registry &&
    typeof kind === 'string' &&
    typeof pkg === 'string' &&
    !registry.find(kind)
  ) {
    await loadModelPackage(registry, pkg, { from: options.from });
  }
  return parseModelArtifact(value, { label: path, registry });
}

/** Options of {@link writeModelArtifact}. */
export interface WriteModelArtifactOptions {
  /** Gzip the JSON (default: when the path ends in `.gz`). */
  gzip?: boolean;
  /** Indent the JSON (default false: compact). */
  pretty?: boolean;
}

/**
 * Writes an artifact atomically (temporary file in the same directory, then rename), so a reader
 * never sees a half-written model.
 * @throws StbError `STB_OUTPUT_WRITE_FAILED`.
 */
export async function writeModelArtifact(
  path: string,
  artifact: ModelArtifact,
  options: WriteModelArtifactOptions = {},
): Promise<void> {
  const gzip = options.gzip ?? path.endsWith('.gz');
  const json = JSON.stringify(
    artifact,
    typedArrayReplacer,
    options.pretty ? 2 : undefined,
  );
  const data = gzip ? gzipSync(json) : Buffer.from(json, 'utf8');
  await writeFileAtomic(path, data);
}

const TYPED_ARRAYS = {
  Float32Array,
  Float64Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint16Array,
  Uint32Array,
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;

/**
 * JSON encoding of typed arrays in sequence states (structured-clone-safe states may hold them):
 * `{ "$typed": "Float32Array", "base64": "…" }` (little-endian bytes).
 */
function typedArrayReplacer(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const name = value.constructor.name;
    if (name in TYPED_ARRAYS)
      return {
        $typed: name,
        base64: Buffer.from(
          value.buffer,
          value.byteOffset,
          value.byteLength,
        ).toString('base64'),
      };
  }
  return value;
}

function typedArrayReviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && '$typed' in value) {
    const v = value as { $typed: unknown; base64: unknown };
    if (
      typeof v.base64 === 'string' &&
      typeof v.$typed === 'string' &&
      v.$typed in TYPED_ARRAYS
    ) {
      const ctor = TYPED_ARRAYS[v.$typed as TypedArrayName];
      const bytes = Buffer.from(v.base64, 'base64');
      const copy = new Uint8Array(bytes.byteLength);
      copy.set(bytes);
      return new ctor(copy.buffer);
    }
  }
  return value;
}
