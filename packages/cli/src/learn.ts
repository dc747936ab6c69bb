import {
  createModelRegistry,
  fitWorkloadModel,
  loadModelPackage,
  readModelArtifact,
} from '@stb/models';
import type { ModelArtifact, ModelRegistry } from '@stb/models';
import { StbError } from '@stb/core';
import type { CliContext } from './context';
import type { FitInput } from './inputs';
import type { LogCliOptions } from './log-options';
import { toFilters, toFormatOptions, toLogFormat } from './log-options';
import { openFitInput } from './inputs';
import { createdAtFromEnv } from './outputs';

/** Model options shared by `stb learn` and `stb generate`. */
export interface ModelCliOptions {
  modelPackage?: string[];
  order?: number;
  states?: number;
  modelOption?: string[];
  /** `--privacy` (true: strict), `--no-privacy` (false: keep literals); absent: the default mode. */
  privacy?: boolean;
  keepLiterals?: boolean;
  privacyK?: number;
}

/** The privacy options of a fit from `--privacy`, `--no-privacy`, `--keep-literals`, `--privacy-k`. */
export function toPrivacyOptions(o: ModelCliOptions): {
  mode: 'default' | 'strict' | 'keep-literals';
  minSessions?: number;
} {
  if (o.privacy === true && o.keepLiterals === true)
    throw new StbError(
      'STB_USAGE',
      '[stb] [cli] `--privacy` and `--keep-literals` contradict each other. Pass one of them.',
    );
  const mode =
    o.privacy === true
      ? 'strict'
      : o.privacy === false || o.keepLiterals === true
        ? 'keep-literals'
        : 'default';
  return {
    mode,
    ...(o.privacyK === undefined ? {} : { minSessions: o.privacyK }),
  };
}

/** A registry with the built-in models plus every `--model-package`. */
export async function createRegistry(
  ctx: CliContext,
  packages: readonly string[] = [],
): Promise<{ registry: ModelRegistry; packageOf: Map<string, string> }> {
  const registry = createModelRegistry();
  const packageOf = new Map<string, string>();
  for (const pkg of packages) {
    const models = await loadModelPackage(registry, pkg, {
      from: ctx.io.cwd ?? process.cwd(),
    });
    for (const m of models) packageOf.set(m.name, pkg);
  }
  return { registry, packageOf };
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The sequence model's options from `--order`, `--states` and `--model-option k=v`. */
export function toModelOptions(
  kind: string,
  o: ModelCliOptions,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of o.modelOption ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0)
      throw new StbError(
        'STB_USAGE',
        `[stb] [cli] \`--model-option ${kv}\` is not \`key=value\`. Write e.g. \`--model-option smoothing=0.5\`.`,
      );
    out[kv.slice(0, eq)] = parseValue(kv.slice(eq + 1));
  }
  if (o.order !== undefined) {
    if (kind !== 'markov')
      throw new StbError(
        'STB_USAGE',
        `[stb] [cli] \`--order\` applies to the \`markov\` model, not \`${kind}\`. Use \`--model-option\` for other models.`,
      );
    out['order'] = o.order;
  }
  if (o.states !== undefined) {
    if (kind !== 'hmm')
      throw new StbError(
        'STB_USAGE',
        `[stb] [cli] \`--states\` applies to the \`hmm\` model, not \`${kind}\`. Use \`--model-option\` for other models.`,
      );
    out['states'] = o.states;
  }
  return out;
}

/**
 * Refuses an option the model does not have (`--model-option ordr=3`), listing the valid ones,
 * instead of ignoring it. Works for any plugin whose options schema is a zod object.
 */
export function checkModelOptionKeys(
  kind: string,
  schema: unknown,
  options: Record<string, unknown>,
): void {
  const shape = (schema as { shape?: unknown } | undefined)?.shape;
  if (typeof shape !== 'object' || shape === null) return;
  const valid = Object.keys(shape);
  const unknown = Object.keys(options).filter((k) => !valid.includes(k));
  if (unknown.length === 0) return;
  throw new StbError(
    'STB_USAGE',
    `[stb] [cli] \`--model-option ${unknown[0] ?? ''}\`: the \`${kind}\` model has no option \`${unknown[0] ?? ''}\`. Valid options: ${valid.map((k) => `\`${k}\``).join(', ') || 'none'}.`,
    { details: { option: unknown[0] ?? '', valid } },
  );
}

/** What {@link learnModel} did. */
export interface LearnResult {
  artifact: ModelArtifact;
  registry: ModelRegistry;
  /** Set when the input was a log. */
  parsed: FitInput['parsed'];
}

/** Fits a model (kind `kind`) on logs or a trace. */
export async function learnModel(
  ctx: CliContext,
  options: {
    inputs: readonly string[];
    kind: string;
    seed: number;
    model: ModelCliOptions;
    log: LogCliOptions;
    /** Fit one shard of the sessions (`--shard i/n`). */
    shard?: { index: number; count: number } | undefined;
    /** `--unit-dispatch` (default auto). */
    unitDispatch?: 'auto' | 'off' | undefined;
  },
): Promise<LearnResult> {
  const { registry, packageOf } = await createRegistry(
    ctx,
    options.model.modelPackage,
  );
  const modelPackage = packageOf.get(options.kind);
  const plugin = registry.get(options.kind);
  const modelOptions = toModelOptions(options.kind, options.model);
  checkModelOptionKeys(options.kind, plugin.options, modelOptions);
  const bar = ctx.progress({ label: 'Reading input', unit: 'events' });
  let input: FitInput;
  try {
    input = await openFitInput(
      options.inputs.map((f) => ctx.resolvePath(f)),
      {
        format: toLogFormat(options.log),
        filters: toFilters(options.log),
        formatOptions: toFormatOptions(options.log),
        maxInvalid: options.log.maxInvalid,
        maxLineLength: options.log.maxLineLength,
        formatPackages: options.log.formatPackage,
        from: ctx.io.cwd,
        onWarning: (w) => ctx.log.warn(w),
        signal: ctx.signal,
        onProgress: (n) => bar.update(n),
      },
    );
  } finally {
    bar.stop();
  }
  const fitBar = ctx.progress({ label: `Fitting ${options.kind}`, unit: '' });
  try {
    const artifact = await fitWorkloadModel(input.events, {
      catalog: input.templates,
      header: input.header,
      model: plugin,
      modelOptions,
      seed: options.seed,
      ...createdAtFromEnv(),
      privacy: toPrivacyOptions(options.model),
      ...(modelPackage === undefined ? {} : { modelPackage }),
      ...(options.shard ? { shard: options.shard } : {}),
      ...(options.unitDispatch ? { unitDispatch: options.unitDispatch } : {}),
      signal: ctx.signal,
      onProgress: (p) => {
        if (p.step !== undefined) fitBar.update(p.step, p.total);
      },
    });
    return { artifact, registry, parsed: input.parsed };
  } finally {
    fitBar.stop();
    await input.cleanup();
  }
}

/** Loads an artifact file, loading its model package when it names one. */
export async function loadArtifact(
  ctx: CliContext,
  file: string,
  packages: readonly string[] = [],
): Promise<{ artifact: ModelArtifact; registry: ModelRegistry }> {
  const { registry } = await createRegistry(ctx, packages);
  const artifact = await readModelArtifact(ctx.resolvePath(file), {
    registry,
    from: ctx.io.cwd ?? process.cwd(),
  });
  return { artifact, registry };
}
