import { connKey, KllSketch, StbError, hash32 } from '@stb/core';
import type { ModelArtifact } from './artifact';
import { mergeCoupling } from './internal/coupling';
import type { PrivacySettings } from './internal/param-counters';
import type { ClassDraft } from './internal/session-classes';
import {
  classConns,
  connLabel,
  groupClasses,
} from './internal/session-classes';
import type { AnySequenceModel } from './sequence-model';
import type {
  ArrivalModelState,
  EmailFormatState,
  FrequencyState,
  JsonFormatState,
  KllSketchState,
  LikeFormatState,
  NumericState,
  ReuseState,
  SessionClassState,
  SessionModelState,
  SlotModelState,
  StringFormatsState,
  StringShapeState,
  UuidFormatState,
} from './state-schemas';
import type { FitWorkloadModelOptions } from './workload-types';

/** Which shard of a sharded fit. */
interface Shard {
  index: number;
  count: number;
}

const REUSE_SOURCES_CAP = 16;

function unsupported(kind: string): StbError {
  return new StbError(
    'STB_MODEL_MERGE_UNSUPPORTED',
    `[stb] [models] \`${kind}\` models do not merge: their training re-estimates every parameter from all sessions at once (Baum-Welch, gradient descent), so states fitted on shards are not parts of one fit. Fit shards with \`-m markov\`, whose counts add up exactly.`,
    { details: { kind } },
  );
}

/**
 * Validates a fit's `shard` option against the model and privacy mode (a shard must be mergeable).
 * @internal
 */
export function checkShard(
  options: Pick<FitWorkloadModelOptions, 'shard'>,
  ctx: { model: AnySequenceModel; privacy: PrivacySettings },
): Shard | undefined {
  const shard = options.shard;
  if (!shard) return undefined;
  const { index, count } = shard;
  if (
    !Number.isInteger(index) ||
    !Number.isInteger(count) ||
    count < 1 ||
    index < 0 ||
    index >= count
  )
    throw new StbError(
      'STB_OPTIONS_INVALID',
      `[stb] [models] \`shard\` must be i/n with 0 ≤ i < n, got ${String(index)}/${String(count)}. Example: --shard 0/4.`,
    );
  if (typeof ctx.model.merge !== 'function') throw unsupported(ctx.model.name);
  if (ctx.privacy.mode === 'strict')
    throw new StbError(
      'STB_MODEL_MERGE_UNSUPPORTED',
      '[stb] [models] Strict privacy replaces numeric sketches by quantile curves, which do not merge. Fit shards with the default privacy mode, or fit the whole trace on one machine.',
    );
  return { index, count };
}

/**
 * The sessions a shard owns: FNV-1a hash of the session id mod `count` equals `index` (the same
 * rule as `stb bench --shard`). A session's pieces (idle or length splits) share its id, so one
 * session never spans two shards.
 * @internal
 */
export function shardOwner(shard: Shard): (sessionId: string) => boolean {
  return (id) => hash32(id) % shard.count === shard.index;
}

/** Options of {@link mergeModelArtifacts}. */
export interface MergeModelArtifactsOptions {
  /** The sequence model the artifacts were fitted with (it must implement `merge`). */
  model: AnySequenceModel;
  /** Names of the artifacts (file paths) for messages, in the order of `artifacts`. */
  labels?: readonly string[];
}

function incompatible(
  message: string,
  details?: Record<string, string>,
): StbError {
  return new StbError(
    'STB_MODEL_MERGE_INCOMPATIBLE',
    `[stb] [models] ${message}`,
    {
      ...(details ? { details } : {}),
    },
  );
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Merges the artifacts of the n shards of one sharded fit (`fitWorkloadModel` with `shard`, or
 * `stb learn --shard i/n`) into the artifact one fit of the whole trace gives: template, transition,
 * session, class and arrival counts add up exactly (classes are re-formed with the share rule over
 * the whole capture); quantile sketches merge within their rank error. See docs/scaling.md for
 * what is not exact (under default privacy, literals kept by no single shard are synthesised).
 * @throws StbError `STB_MODEL_MERGE_INCOMPATIBLE` when the artifacts are not the n shards of one
 * fit (another kind, options, privacy, capture, or a shard missing or repeated);
 * `STB_MODEL_MERGE_UNSUPPORTED` for models without `merge` (hmm, lstm) and strict privacy.
 * @example
 * const shards = await Promise.all(files.map((f) => readModelArtifact(f, { registry })));
 * const model = mergeModelArtifacts(shards, { model: registry.get('markov') });
 * await writeModelArtifact('model.json', model);
 */
export function mergeModelArtifacts(
  artifacts: readonly ModelArtifact[],
  options: MergeModelArtifactsOptions,
): ModelArtifact {
  const label = (i: number): string =>
    options.labels?.[i] ?? `artifact ${i + 1}`;
  const ordered = checkMergeable(artifacts, options, label);
  const first = ordered[0] as ModelArtifact;
  const model = options.model;
  const merge = model.merge?.bind(model) as (a: unknown, b: unknown) => unknown;
  const mergeStates = (states: unknown[]): unknown => {
    // the states were validated when the artifacts were read (readModelArtifact, parseModelArtifact)
    try {
      return states.reduce((a, b) => merge(a, b));
    } catch (err) {
      throw new StbError(
        'STB_MODEL_MERGE_INCOMPATIBLE',
        `[stb] [model:${model.name}] ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  };
  const cap = first.privacy.minSessions;

  const templates = new Map<string, ModelArtifact['templates'][number]>();
  for (const a of ordered)
    for (const t of a.templates) {
      const m = templates.get(t.id);
      if (m) m.count = (m.count ?? 0) + (t.count ?? 0);
      else templates.set(t.id, { ...t });
    }

  const parameters: ModelArtifact['parameters'] = {
    stateVersion: 1,
    templates: {},
  };
  for (const a of ordered)
    for (const [id, slots] of Object.entries(a.parameters.templates)) {
      const m = parameters.templates[id];
      parameters.templates[id] = m
        ? mergeSlotLists(m, slots, cap)
        : slots.map((s) => structuredClone(s));
    }

  const out: ModelArtifact = {
    format: 'stb-model',
    formatVersion: first.formatVersion,
    kind: first.kind,
    createdAt: ordered
      .map((a) => a.createdAt)
      .sort()
      .at(-1) as string,
    dialect: first.dialect,
    source: {
      events: sum(ordered, (a) => a.source.events),
      sessions: sum(ordered, (a) => a.source.sessions),
      templates: templates.size,
      startUs: Math.min(...ordered.map((a) => a.source.startUs)),
      endUs: Math.max(...ordered.map((a) => a.source.endUs)),
    },
    templates: [...templates.values()],
    sequence: {
      options: first.sequence.options,
      state: mergeStates(ordered.map((a) => a.sequence.state)),
    },
    parameters,
    arrival: mergeArrivals(ordered.map((a) => a.arrival)),
    sessions: mergeSessions(
      ordered.map((a) => a.sessions),
      mergeStates,
    ),
    privacy: { ...first.privacy },
  };
  if (first.modelPackage !== undefined) out.modelPackage = first.modelPackage;
  if (first.source.files) out.source.files = [...first.source.files];
  return out;
}

/** Checks that `artifacts` are the n shards of one fit; returns them in shard order. */
function checkMergeable(
  artifacts: readonly ModelArtifact[],
  options: MergeModelArtifactsOptions,
  label: (i: number) => string,
): ModelArtifact[] {
  const first = artifacts[0];
  if (!first)
    throw new StbError(
      'STB_USAGE',
      '[stb] [models] Nothing to merge. Pass the artifacts of every shard.',
    );
  if (first.kind !== options.model.name)
    throw incompatible(
      `${label(0)} is a \`${first.kind}\` model, but the merge was given the \`${options.model.name}\` plugin.`,
    );
  if (typeof options.model.merge !== 'function') throw unsupported(first.kind);
  if (
    first.privacy.mode === 'strict' ||
    (first.privacy.mode === undefined && first.privacy.enabled)
  )
    throw new StbError(
      'STB_MODEL_MERGE_UNSUPPORTED',
      `[stb] [models] ${label(0)} was fitted with strict privacy, whose numeric quantile curves do not merge. Fit shards with the default privacy mode.`,
    );
  const byIndex: (ModelArtifact | undefined)[] = [];
  artifacts.forEach((a, i) => {
    if (!a.shard)
      throw incompatible(
        `${label(i)} is not a shard artifact (it has no \`shard\` record). Fit each part with \`stb learn --shard i/n\`.`,
        { file: label(i) },
      );
    const checks: [string, unknown, unknown][] = [
      ['model kind', a.kind, first.kind],
      ['model package', a.modelPackage, first.modelPackage],
      ['format version', a.formatVersion, first.formatVersion],
      ['dialect', a.dialect, first.dialect],
      ['model options', a.sequence.options, first.sequence.options],
      ['privacy settings', a.privacy, first.privacy],
      ['shard count', a.shard.count, first.shard?.count],
      ['fit options', a.shard.fit, first.shard?.fit],
      [
        'capture (first and last statement)',
        [
          a.sessions.captureStartUs,
          a.sessions.captureEndUs,
          a.sessions.timeResolutionUs,
          a.arrival.originUs,
        ],
        [
          first.sessions.captureStartUs,
          first.sessions.captureEndUs,
          first.sessions.timeResolutionUs,
          first.arrival.originUs,
        ],
      ],
    ];
    for (const [what, got, want] of checks)
      if (!sameJson(got, want))
        throw incompatible(
          `${label(i)} differs from ${label(0)} in its ${what} (${JSON.stringify(got) ?? 'none'} vs ${JSON.stringify(want) ?? 'none'}). Merge only the shards of one \`stb learn --shard i/n\` run over the same trace with the same options.`,
          { file: label(i), field: what },
        );
    if (byIndex[a.shard.index])
      throw incompatible(
        `${label(i)} repeats shard ${a.shard.index}/${a.shard.count}. Pass each shard once.`,
        { file: label(i) },
      );
    byIndex[a.shard.index] = a;
  });
  const count = first.shard?.count ?? 0;
  const missing: number[] = [];
  for (let i = 0; i < count; i++) if (!byIndex[i]) missing.push(i);
  if (missing.length > 0)
    throw incompatible(
      `Shard${missing.length > 1 ? 's' : ''} ${missing.map((m) => `${m}/${count}`).join(', ')} missing: a merge needs all ${count} shards (a partial merge would lose those sessions).`,
    );
  return byIndex as ModelArtifact[];
}

function sum<T>(list: readonly T[], f: (x: T) => number): number {
  let s = 0;
  for (const x of list) s += f(x);
  return s;
}

/** Merged KLL sketches (in the given order, so the result is deterministic). */
export function mergeKll(states: readonly KllSketchState[]): KllSketchState {
  const [head, ...rest] = states;
  if (!head) throw new RangeError('[stb] [models] No sketch to merge.');
  const s = KllSketch.fromState(head);
  for (const r of rest) s.merge(r);
  return s.toState();
}

function both<T>(
  a: T | undefined,
  b: T | undefined,
  f: (x: T, y: T) => T,
): T | undefined {
  if (a !== undefined && b !== undefined) return f(a, b);
  const one = a ?? b;
  return one === undefined ? undefined : structuredClone(one);
}

function sumRecord<TKey extends string>(
  a: Partial<Record<TKey, number>>,
  b: Partial<Record<TKey, number>>,
): Partial<Record<TKey, number>> {
  const out: Partial<Record<TKey, number>> = { ...a };
  for (const [k, v] of Object.entries(b) as [TKey, number][])
    out[k] = (out[k] ?? 0) + v;
  return out;
}

function sumArrays(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(Math.max(a.length, b.length)).fill(0);
  for (let i = 0; i < out.length; i++) out[i] = (a[i] ?? 0) + (b[i] ?? 0);
  return out;
}

/**
 * Merged frequent-value tables (mergeable SpaceSaving): counts and errors add; a key missing from
 * a table that overflowed may have had up to that table's smallest count there, which is added to
 * its count and error. Exact while neither overflowed and the union fits in 2 × capacity.
 */
export function mergeFrequency(
  a: FrequencyState,
  b: FrequencyState,
  sessionCap: number,
): FrequencyState {
  const floor = (f: FrequencyState): number =>
    f.overflow && f.items.length > 0
      ? Math.min(...f.items.map((x) => x.count))
      : 0;
  const fa = floor(a);
  const fb = floor(b);
  const items = new Map<string, FrequencyState['items'][number]>();
  for (const x of a.items) items.set(x.key, { ...x });
  const inA = new Set(a.items.map((x) => x.key));
  const inB = new Set<string>();
  for (const y of b.items) {
    inB.add(y.key);
    const x = items.get(y.key);
    if (x) {
      x.count += y.count;
      x.error += y.error;
      x.sessions = Math.min(sessionCap, x.sessions + y.sessions);
    } else items.set(y.key, { ...y, count: y.count + fa, error: y.error + fa });
  }
  if (fb > 0)
    for (const x of items.values())
      if (!inB.has(x.key) && inA.has(x.key)) {
        x.count += fb;
        x.error += fb;
      }
  let list = [...items.values()].sort(
    (x, y) => y.count - x.count || (x.key < y.key ? -1 : 1),
  );
  const overflow = a.overflow || b.overflow || list.length > 2 * a.capacity;
  if (overflow) list = list.slice(0, a.capacity);
  return { capacity: a.capacity, n: a.n + b.n, overflow, items: list };
}

function mergeShape(
  a: StringShapeState,
  b: StringShapeState,
): StringShapeState {
  const positions: number[][] = [];
  for (let i = 0; i < Math.max(a.positions.length, b.positions.length); i++)
    positions.push(sumArrays(a.positions[i] ?? [], b.positions[i] ?? []));
  const others: Record<string, number> = { ...a.others };
  for (const [k, v] of Object.entries(b.others))
    others[k] = (others[k] ?? 0) + v;
  return {
    n: a.n + b.n,
    length: mergeKll([a.length, b.length]),
    positions,
    classes: sumArrays(a.classes, b.classes),
    others,
  };
}

function mergeNumeric(a: NumericState, b: NumericState): NumericState {
  if (a.quantiles || b.quantiles)
    throw new StbError(
      'STB_MODEL_MERGE_UNSUPPORTED',
      '[stb] [models] Strict-privacy quantile curves do not merge. Fit shards with the default privacy mode.',
    );
  return {
    integer: a.integer && b.integer,
    sketch: mergeKll([a.sketch, b.sketch]),
  };
}

function mergeReuse(a: ReuseState, b: ReuseState): ReuseState {
  const counts = new Map<string, ReuseState['sources'][number]>();
  for (const s of [...a.sources, ...b.sources]) {
    const key = `${s.templateId}#${s.slot}`;
    const m = counts.get(key);
    if (m) m.count += s.count;
    else counts.set(key, { ...s });
  }
  const sources = [...counts.entries()]
    .sort((x, y) => y[1].count - x[1].count || (x[0] < y[0] ? -1 : 1))
    .slice(0, REUSE_SOURCES_CAP)
    .map(([, s]) => s);
  return { sources };
}

function mergeFormats(
  a: StringFormatsState,
  b: StringFormatsState,
  cap: number,
): StringFormatsState {
  const kinds: Record<string, Record<string, number>> = {};
  for (const k of new Set([...Object.keys(a.kinds), ...Object.keys(b.kinds)]))
    kinds[k] = sumRecord(a.kinds[k] ?? {}, b.kinds[k] ?? {}) as Record<
      string,
      number
    >;
  const out: StringFormatsState = { kinds };
  const email = both<EmailFormatState>(a.email, b.email, (x, y) => ({
    n: x.n + y.n,
    maxLength: Math.max(x.maxLength, y.maxLength),
    local: mergeShape(x.local, y.local),
    domains: mergeFrequency(x.domains, y.domains, cap),
    tlds: mergeFrequency(x.tlds, y.tlds, cap),
  }));
  if (email) out.email = email;
  const uuid = both<UuidFormatState>(a.uuid, b.uuid, (x, y) => ({
    n: x.n + y.n,
    versions: sumRecord(x.versions, y.versions) as Record<string, number>,
    upper: x.upper + y.upper,
  }));
  if (uuid) out.uuid = uuid;
  const like = both<LikeFormatState>(a.like, b.like, (x, y) => ({
    n: x.n + y.n,
    leading: x.leading + y.leading,
    trailing: x.trailing + y.trailing,
    core: mergeShape(x.core, y.core),
  }));
  if (like) out.like = like;
  const json = both<JsonFormatState>(a.json, b.json, (x, y) => {
    const leaves: Record<string, SlotModelState> = {};
    for (const k of new Set([
      ...Object.keys(x.leaves),
      ...Object.keys(y.leaves),
    ])) {
      const m = both(x.leaves[k], y.leaves[k], (p, q) => mergeSlot(p, q, cap));
      if (m) leaves[k] = m;
    }
    return {
      n: x.n + y.n,
      skeletons: mergeFrequency(x.skeletons, y.skeletons, cap),
      leaves,
    };
  });
  if (json) out.json = json;
  const plain = both(a.plain, b.plain, mergeShape);
  if (plain) out.plain = plain;
  return out;
}

/** One parameter slot's merged model (the states of two disjoint sets of sessions). */
function mergeSlot(
  a: SlotModelState,
  b: SlotModelState,
  cap: number,
): SlotModelState {
  const out: SlotModelState = {
    n: a.n + b.n,
    types: sumRecord(a.types, b.types),
    freq: mergeFrequency(a.freq, b.freq, cap),
  };
  const numeric = both(a.numeric, b.numeric, mergeNumeric);
  if (numeric) out.numeric = numeric;
  const strings = both(a.strings, b.strings, mergeShape);
  if (strings) out.strings = strings;
  const timestamp = both(a.timestamp, b.timestamp, (x, y) => {
    if (x.quantiles || y.quantiles) throw unsupported('strict-privacy');
    return {
      offsetUs: mergeKll([x.offsetUs, y.offsetUs]),
      formats: sumRecord(x.formats, y.formats) as Record<string, number>,
    };
  });
  if (timestamp) out.timestamp = timestamp;
  const date = both(a.date, b.date, mergeNumeric);
  if (date) out.date = date;
  const list = both(a.list, b.list, (x, y) => ({
    length: mergeNumeric(x.length, y.length),
    element: mergeSlot(x.element, y.element, cap),
  }));
  if (list) out.list = list;
  const reuse = both(a.reuse, b.reuse, mergeReuse);
  if (reuse) out.reuse = reuse;
  const formats = both(a.formats, b.formats, (x, y) => mergeFormats(x, y, cap));
  if (formats) out.formats = formats;
  return out;
}

function mergeSlotLists(
  a: readonly SlotModelState[],
  b: readonly SlotModelState[],
  cap: number,
): SlotModelState[] {
  const out: SlotModelState[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++)
    out.push(
      both(a[i], b[i], (x, y) => mergeSlot(x, y, cap)) as SlotModelState,
    );
  return out;
}

/** Session starts of `s` re-binned to `bucketUs` (a power-of-two multiple of its own width). */
function rebin(s: ArrivalModelState, bucketUs: number): number[] {
  const factor = bucketUs / s.bucketUs;
  if (!Number.isInteger(factor))
    throw incompatible(
      `Arrival buckets of ${s.bucketUs} µs and ${bucketUs} µs do not nest. Fit every shard with the same --bucket option.`,
    );
  const out: number[] = [];
  s.sessionStarts.forEach((c, i) => {
    const j = Math.floor(i / factor);
    out[j] = (out[j] ?? 0) + c;
  });
  return out;
}

function mergeKllRecords(
  records: readonly Record<string, KllSketchState>[],
): Record<string, KllSketchState> {
  const groups = new Map<string, KllSketchState[]>();
  for (const r of records)
    for (const [k, v] of Object.entries(r)) {
      const g = groups.get(k);
      if (g) g.push(v);
      else groups.set(k, [v]);
    }
  const out: Record<string, KllSketchState> = {};
  for (const k of [...groups.keys()].sort())
    out[k] = mergeKll(groups.get(k) as KllSketchState[]);
  return out;
}

/**
 * Merged arrival states of shards that share an origin (the capture's first session start):
 * session starts add up on the widest bucket grid (bucket widths double from one base, so this
 * is exact), sketches merge.
 */
function mergeArrivals(
  states: readonly ArrivalModelState[],
): ArrivalModelState {
  const first = states[0] as ArrivalModelState;
  const bucketUs = Math.max(...states.map((s) => s.bucketUs));
  const spanUs = Math.max(...states.map((s) => s.spanUs));
  let starts: number[] = [];
  for (const s of states) starts = sumArrays(starts, rebin(s, bucketUs));
  const buckets = Math.max(
    starts.length,
    Math.ceil((spanUs + 1) / bucketUs),
    1,
  );
  return {
    stateVersion: 1,
    originUs: first.originUs,
    bucketUs,
    sessionStarts: Array.from({ length: buckets }, (_, i) => starts[i] ?? 0),
    spanUs,
    sessionLength: mergeKll(states.map((s) => s.sessionLength)),
    thinkTime: {
      all: mergeKll(states.map((s) => s.thinkTime.all)),
      byPrev: mergeKllRecords(states.map((s) => s.thinkTime.byPrev)),
      byTransition: mergeKllRecords(
        states.map((s) => s.thinkTime.byTransition),
      ),
    },
    minConditionalCount: first.minConditionalCount,
    duration: mergeKllRecords(states.map((s) => s.duration)),
  };
}

/**
 * Merged session models: every shard keeps each (pooled, dominant template) group as its own
 * class, so the merge re-forms the classes with the share rule over the whole capture, as one fit
 * does, then adds the groups' counts and merges their sketches and sequence states.
 */
function mergeSessions(
  states: readonly SessionModelState[],
  mergeStates: (states: unknown[]) => unknown,
): SessionModelState {
  const first = states[0] as SessionModelState;
  const groups = new Map<string, ClassDraft<string>>();
  const members = new Map<string, SessionClassState[]>();
  for (const s of states)
    for (const c of s.classes) {
      if (c.firstClose === undefined)
        throw incompatible(
          'A shard artifact has a session class without `firstClose`. Refit the shards with this version.',
        );
      const pool = c.pool.count > 0;
      // a shard keeps every group apart: its class names one set of connection attributes
      const head = c.conns?.[0];
      const ck = head ? connKey(head) : '';
      const key = `${pool ? 'p' : 's'}:${ck}:${c.dominantTemplate}`;
      const g = groups.get(key);
      if (g) {
        g.sessions += c.sessions;
        g.statements += c.statements;
        g.firstMember = Math.min(g.firstMember, c.firstClose);
        g.conns.set(ck, (g.conns.get(ck) ?? 0) + c.sessions);
        members.get(key)?.push(c);
      } else {
        groups.set(key, {
          pool,
          dominant: c.dominantTemplate,
          sessions: c.sessions,
          statements: c.statements,
          firstMember: c.firstClose,
          conns: new Map([[ck, c.sessions]]),
        });
        members.set(key, [c]);
      }
    }
  let sessions = 0;
  let statements = 0;
  for (const g of groups.values()) {
    sessions += g.sessions;
    statements += g.statements;
  }
  const { classes, classOfGroup } = groupClasses(groups, {
    sessions,
    statements,
  });
  const parts: SessionClassState[][] = classes.map(() => []);
  for (const [key, i] of classOfGroup)
    parts[i]?.push(...(members.get(key) as SessionClassState[]));
  const merged = classes.map((draft, i): SessionClassState => {
    const list = parts[i] as SessionClassState[];
    const head = list[0] as SessionClassState;
    let counts: number[] = [];
    for (const c of list) counts = sumArrays(counts, c.arrivals.counts);
    const length = mergeKll(list.map((c) => c.length));
    const timing = mergeArrivals(list.map((c) => c.timing));
    const kind = draft.pool ? 'pooled connections' : 'sessions';
    // the class's units were learned (over all its connections) by the shard that owns its first
    // session, and reported on that session's group (CaptureSessions in the fit)
    const units = list.find((c) => c.firstClose === draft.firstMember)?.units;
    const conns = classConns(draft.conns, 1);
    return {
      id: i,
      label: `${kind}${connLabel(conns)}, mostly ${draft.dominant.slice(0, 8)}`,
      dominantTemplate: draft.dominant,
      sessions: draft.sessions,
      statements: draft.statements,
      ...(conns ? { conns } : {}),
      pool: {
        count: sum(list, (c) => c.pool.count),
        offsetUs: mergeKll(list.map((c) => c.pool.offsetUs)),
      },
      initial: {
        count: sum(list, (c) => c.initial.count),
        offsetUs: mergeKll(list.map((c) => c.initial.offsetUs)),
      },
      arrivals: { bucketUs: head.arrivals.bucketUs, counts },
      ...(units ? { units: structuredClone(units) } : {}),
      length,
      lengthUs: mergeKll(list.map((c) => c.lengthUs)),
      sequence: mergeStates(list.map((c) => c.sequence)),
      timing: { ...timing, sessionStarts: counts, sessionLength: length },
    };
  });
  const out: SessionModelState = {
    stateVersion: 1,
    captureStartUs: first.captureStartUs,
    captureEndUs: first.captureEndUs,
    timeResolutionUs: first.timeResolutionUs,
    meanConcurrency: sum(states, (s) => s.meanConcurrency),
    classes: merged,
  };
  const coupling = mergeCoupling(states.map((s) => s.coupling));
  if (coupling) out.coupling = coupling;
  return out;
}
