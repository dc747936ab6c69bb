/**
 * What a generation run needs, prepared once from the artifact and the options: the checked
 * options, the sampler, and the template table with each template's transaction boundary.
 */
import { StbError, computeTemplateId, templateFacts } from '@stb/core';
import type { QueryTemplate, TxnBoundary } from '@stb/core';
import { createModelRegistry, createWorkloadSampler } from '@stb/models';
import type { ModelArtifact, WorkloadSampler } from '@stb/models';
import type { GenerateTraceOptions } from '../generate-trace';
import type { CompiledTemplate, RenderSqlOptions } from '../render-sql';
import { compileTemplate } from '../render-sql';

/** Events generated when no stop condition is given. */
const DEFAULT_COUNT = 1000;

/** Transaction boundary of a template: core's `'begin'`/`'end'`, or undefined for neither. */
export type Boundary = TxnBoundary | undefined;

/** Transaction boundary of a template: its recorded fact, or core's fallback from the text. */
function boundaryOf(t: QueryTemplate): Boundary {
  return templateFacts(t).boundary ?? undefined;
}

/** The generator's error for an option it cannot honour. */
export function invalid(message: string): StbError {
  return new StbError('STB_OPTIONS_INVALID', `[stb] [generator] ${message}`);
}

/** Largest `scale`: one arrival stream per unit of scale is held in memory. */
export const MAX_SCALE = 10_000;
/** Bounds of `timeScale`: beyond them every gap rounds to 0 µs or to centuries. */
export const TIME_SCALE_BOUNDS = [1e-6, 1e6] as const;

/** Throws `STB_OPTIONS_INVALID` for options out of range. */
function checkOptions(o: GenerateTraceOptions): void {
  if (!Number.isFinite(o.seed))
    throw invalid('`seed` must be a finite number.');
  const positiveInt = (v: number | undefined, name: string): void => {
    if (v !== undefined && (!Number.isSafeInteger(v) || v <= 0))
      throw invalid(`\`${name}\` must be a positive integer, got ${v}.`);
  };
  positiveInt(o.count, 'count');
  positiveInt(o.sessions, 'sessions');
  positiveInt(o.durationUs, 'durationUs');
  for (const [name, v] of [
    ['scale', o.scale],
    ['timeScale', o.timeScale],
  ] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v > 0))
      throw invalid(`\`${name}\` must be a number above zero, got ${v}.`);
  }
  if (o.scale !== undefined && o.scale > MAX_SCALE)
    throw invalid(
      `\`scale\` ${o.scale} is above ${MAX_SCALE}: memory holds one arrival stream per unit of scale. Generate shards (\`shard\`) or several runs instead.`,
    );
  const [minTs, maxTs] = TIME_SCALE_BOUNDS;
  if (o.timeScale !== undefined && (o.timeScale < minTs || o.timeScale > maxTs))
    throw invalid(
      `\`timeScale\` ${o.timeScale} is outside ${minTs}..${maxTs}: gaps would round to 0 µs (every session at once) or to centuries.`,
    );
  if (o.startUs !== undefined && !Number.isSafeInteger(o.startUs))
    throw invalid('`startUs` must be an integer (epoch µs).');
  if (o.shard) {
    const { index, count } = o.shard;
    if (
      !Number.isSafeInteger(count) ||
      count < 1 ||
      !Number.isSafeInteger(index) ||
      index < 0 ||
      index >= count
    )
      throw invalid(
        `\`shard\` must be { index, count } with 0 ≤ index < count, got ${index}/${count}.`,
      );
  }
}

export interface TemplateInfo {
  template: QueryTemplate;
  boundary: Boundary;
  compiled: CompiledTemplate | undefined;
  /** True for the COMMIT made up when the model has no closing template (no parameters). */
  synthetic: boolean;
  /** Already used by an emitted event. */
  used: boolean;
}

/** What the event loop needs, prepared once. */
export interface Plan {
  sampler: WorkloadSampler;
  info: Map<string, TemplateInfo>;
  closer: TemplateInfo;
  render: RenderSqlOptions | undefined;
  startUs: number;
  count: number | undefined;
  sessions: number | undefined;
  endUs: number | undefined;
  scale: number;
  timeScale: number;
  closeTransactions: boolean;
  appendClosers: boolean;
  shard: { index: number; count: number } | undefined;
  prefix: string;
  seed: number;
}

/** The closing COMMIT: the model's own (no parameters, not a rollback), or a made-up one. */
function closerTemplate(
  artifact: ModelArtifact,
  info: Map<string, TemplateInfo>,
): TemplateInfo {
  let best: TemplateInfo | undefined;
  for (const i of info.values()) {
    if (i.boundary !== 'end' || i.template.slots.length > 0) continue;
    const text = i.template.text.trim().toUpperCase();
    if (text.startsWith('ROLLBACK') || text.startsWith('ABORT')) continue;
    if (!best || text.startsWith('COMMIT')) best = i;
  }
  if (best) return best;
  const template: QueryTemplate = {
    kind: 'template',
    id: computeTemplateId(artifact.dialect, 'COMMIT'),
    text: 'COMMIT',
    queryType: 'TCL',
    tables: [],
    slots: [],
  };
  return {
    template,
    boundary: 'end',
    compiled: undefined,
    synthetic: true,
    used: false,
  };
}

/** Checks the options and prepares the plan of a run. */
export function makePlan(
  artifact: ModelArtifact,
  options: GenerateTraceOptions,
): Plan {
  checkOptions(options);
  const registry = options.registry ?? createModelRegistry();
  const sampler = createWorkloadSampler(artifact, { registry });
  const render =
    options.render === true
      ? { dialect: artifact.dialect }
      : options.render === false || options.render === undefined
        ? undefined
        : options.render;
  const info = new Map<string, TemplateInfo>();
  for (const { count: _sourceCount, ...t } of artifact.templates)
    // The source's counts are not this trace's: template records go out without `count`.
    info.set(t.id, {
      template: t,
      boundary: boundaryOf(t),
      compiled: render ? compileTemplate(t.text, render.dialect) : undefined,
      synthetic: false,
      used: false,
    });
  const closer = closerTemplate(artifact, info);
  if (render && !closer.compiled)
    closer.compiled = compileTemplate(closer.template.text, render.dialect);
  const noStop =
    options.count === undefined &&
    options.sessions === undefined &&
    options.durationUs === undefined;
  const startUs = options.startUs ?? artifact.source.startUs;
  return {
    sampler,
    info,
    closer,
    render,
    startUs,
    count: noStop ? DEFAULT_COUNT : options.count,
    sessions: options.sessions,
    endUs:
      options.durationUs === undefined
        ? undefined
        : startUs + options.durationUs,
    scale: options.scale ?? 1,
    timeScale: options.timeScale ?? 1,
    closeTransactions: options.closeTransactions ?? true,
    appendClosers: options.appendClosers ?? false,
    shard: options.shard,
    prefix: options.sessionIdPrefix ?? 's',
    seed: options.seed,
  };
}
