import { createRng, kllWeightedItems, openTrace } from '@stb/core';
import type { ParamValue, QueryTemplate, TraceHeader } from '@stb/core';
import { createWorkloadSampler } from '@stb/models';
import type {
  KllSketchState,
  ModelArtifact,
  ModelRegistry,
  SlotModelState,
} from '@stb/models';

/** Summary of one parameter slot. */
export interface SlotReport {
  slot: number;
  type: string;
  column: string | null;
  /** Values observed. */
  values: number;
  /** Observations per value type. */
  types: Record<string, number>;
  min?: number;
  max?: number;
  /** Distinct values: exact when `distinctExact`, else a lower bound. */
  distinct: number;
  distinctExact: boolean;
  /** Share of values reused from an earlier statement of the session (models only). */
  reuseShare?: number;
}

/** One template in the report. */
export interface TemplateReport {
  id: string;
  queryType: string;
  count: number;
  share: number;
  text: string;
  tables: string[];
  slots: SlotReport[];
}

/** A `from → to` transition within sessions. */
export interface TransitionReport {
  from: string;
  to: string;
  /** P(to | from). */
  probability: number;
  count: number;
}

/** One session class of a model (`stb inspect` of an artifact). */
export interface SessionClassReport {
  id: number;
  label: string;
  /** Source sessions and statements in the class, and their shares. */
  sessions: number;
  statements: number;
  sessionShare: number;
  statementShare: number;
  /** Pooled connections (open for the whole run), initial sessions, arrivals per capture period. */
  pool: number;
  initial: number;
  arrivalsPerPeriod: number;
  /** Mean statements and seconds of the class's ending sessions (null when none end). */
  meanLength: number | null;
  meanLengthS: number | null;
  /**
   * How the pooled connections' transactions arrive (docs/models.md "Dispatched units"):
   * `dispatch` (one class-wide schedule, each unit to the free connection) or `independent`;
   * absent when the fit could not decide.
   */
  units?: 'dispatch' | 'independent';
}

/** What a model artifact keeps of the source's literals (`stb inspect`). */
export interface ArtifactLiterals {
  /** `default`, `strict` or `keep-literals`. */
  mode: string;
  /** k: distinct sessions a literal needs to be stored verbatim. */
  minSessions: number;
  /** Non-numeric values stored verbatim (strings, JSON, UUIDs, dates, email domains, JSON leaves). */
  stored: number;
  /** Of those, values seen in fewer than k sessions (0 unless `keep-literals`). */
  rare: number;
  /** Whether numbers are stored as sketches (of source values) or only as quantile curves. */
  numbers: 'sketches' | 'quantile-curves';
}

const NUMERIC_KEY = /^[ifgbn]/;

function countLiterals(
  slot: SlotModelState,
  k: number,
  acc: { stored: number; rare: number },
): void {
  const tally = (items: SlotModelState['freq']['items']): void => {
    for (const item of items) {
      if (NUMERIC_KEY.test(item.key)) continue;
      acc.stored++;
      if (item.sessions < k) acc.rare++;
    }
  };
  tally(slot.freq.items);
  if (slot.list) countLiterals(slot.list.element, k, acc);
  const f = slot.formats;
  if (f?.email) {
    tally(f.email.domains.items);
    tally(f.email.tlds.items);
  }
  if (f?.json)
    for (const leaf of Object.values(f.json.leaves))
      countLiterals(leaf, k, acc);
}

/** Counts what `artifact` keeps of its source's literals. */
export function artifactLiterals(artifact: ModelArtifact): ArtifactLiterals {
  const p = artifact.privacy;
  const mode = p.mode ?? (p.enabled ? 'strict' : 'keep-literals');
  const acc = { stored: 0, rare: 0 };
  for (const slots of Object.values(artifact.parameters.templates))
    for (const slot of slots) countLiterals(slot, p.minSessions, acc);
  return {
    mode,
    minSessions: p.minSessions,
    ...acc,
    numbers: mode === 'strict' ? 'quantile-curves' : 'sketches',
  };
}

/** What `stb inspect` reports. */
export interface InspectReport {
  file: string;
  kind: 'model' | 'trace';
  dialect: string;
  model?: {
    kind: string;
    createdAt: string;
    options: unknown;
    /** True in strict mode. */
    privacy: boolean;
    /** What the artifact keeps of the source's literals. */
    literals: ArtifactLiterals;
    modelPackage?: string;
  };
  trace?: { source: TraceHeader['source']; createdAt: string };
  events: number;
  sessions: number;
  /** Sessions counted approximately (trace with more open sessions than tracked). */
  sessionsApproximate?: boolean;
  startUs: number | null;
  endUs: number | null;
  sessionsPerSecond: number | null;
  eventsPerSecond: number | null;
  meanSessionLength: number | null;
  queryTypes: Record<string, number>;
  templates: TemplateReport[];
  transitions: TransitionReport[];
  /** How transitions were obtained. */
  transitionsFrom: 'trace' | 'sampled-sessions';
  /** Models: the session classes. */
  sessionClasses?: SessionClassReport[];
  /** Models: mean sessions open at once in the source, and what the model produces at scale 1. */
  concurrency?: { source: number; model: number };
  /**
   * Models: how sessions' think times move together (docs/models.md "Think-time coupling"), or
   * null when they are drawn independently.
   */
  coupling?: { rho2: number; phi: number } | null;
}

function sketchMean(state: KllSketchState): number | null {
  const { values, weights, total } = kllWeightedItems(state);
  if (total <= 0) return null;
  let s = 0;
  for (let i = 0; i < values.length; i++)
    s += (values[i] as number) * (weights[i] as number);
  return s / total;
}

/** Session classes of an artifact and the mean concurrency they produce. */
function sessionClassReports(artifact: ModelArtifact): {
  classes: SessionClassReport[];
  concurrency: { source: number; model: number };
} {
  const m = artifact.sessions;
  const spanUs = Math.max(1, m.captureEndUs - m.captureStartUs);
  let totalSessions = 0;
  let totalStatements = 0;
  for (const c of m.classes) {
    totalSessions += c.sessions;
    totalStatements += c.statements;
  }
  let model = 0;
  const classes = m.classes.map((c): SessionClassReport => {
    const arrivals = c.arrivals.counts.reduce((a, b) => a + b, 0);
    const periodUs = Math.max(
      1,
      c.arrivals.counts.length * c.arrivals.bucketUs,
    );
    const lengthUs = sketchMean(c.lengthUs);
    const poolOffset = sketchMean(c.pool.offsetUs) ?? 0;
    model +=
      c.pool.count * Math.max(0, 1 - poolOffset / spanUs) +
      (c.initial.count + arrivals) * ((lengthUs ?? 0) / periodUs);
    const report: SessionClassReport = {
      id: c.id,
      label: c.label,
      sessions: c.sessions,
      statements: c.statements,
      sessionShare: totalSessions > 0 ? c.sessions / totalSessions : 0,
      statementShare: totalStatements > 0 ? c.statements / totalStatements : 0,
      pool: c.pool.count,
      initial: c.initial.count,
      arrivalsPerPeriod: arrivals,
      meanLength: sketchMean(c.length),
      meanLengthS: lengthUs === null ? null : lengthUs / 1e6,
    };
    if (c.units) report.units = c.units.mode;
    return report;
  });
  return { classes, concurrency: { source: m.meanConcurrency, model } };
}

function topTransitions(
  counts: Map<string, Map<string, number>>,
  top: number,
): TransitionReport[] {
  const out: TransitionReport[] = [];
  for (const [from, nexts] of counts) {
    let total = 0;
    for (const n of nexts.values()) total += n;
    for (const [to, n] of nexts)
      out.push({ from, to, probability: n / total, count: n });
  }
  out.sort(
    (a, b) => b.count - a.count || (a.from + a.to).localeCompare(b.from + b.to),
  );
  return out.slice(0, top);
}

function addTransition(
  counts: Map<string, Map<string, number>>,
  from: string,
  to: string,
): void {
  let m = counts.get(from);
  if (!m) counts.set(from, (m = new Map()));
  m.set(to, (m.get(to) ?? 0) + 1);
}

function slotFromModel(
  t: QueryTemplate,
  i: number,
  m: SlotModelState | undefined,
): SlotReport {
  const slot = t.slots[i];
  const r: SlotReport = {
    slot: i + 1,
    type: slot?.type ?? 'null',
    column: slot?.column ?? null,
    values: m?.n ?? 0,
    types: { ...(m?.types ?? {}) },
    distinct: m?.freq.items.length ?? 0,
    distinctExact: m ? !m.freq.overflow : true,
  };
  const sk = m?.numeric?.sketch;
  if (sk && sk.min !== null && sk.max !== null) {
    r.min = sk.min;
    r.max = sk.max;
  }
  if (m?.reuse && m.n > 0) {
    const reused = m.reuse.sources.reduce((a, s) => a + s.count, 0);
    r.reuseShare = reused / m.n;
  }
  return r;
}

const SAMPLED_SESSIONS = 2000;

/** The report of a model artifact. Transitions are estimated from sampled sessions. */
export function inspectModel(
  file: string,
  artifact: ModelArtifact,
  options: { registry: ModelRegistry; top: number },
): InspectReport {
  const total = artifact.templates.reduce((a, t) => a + (t.count ?? 0), 0);
  const queryTypes: Record<string, number> = {};
  for (const t of artifact.templates)
    queryTypes[t.queryType] = (queryTypes[t.queryType] ?? 0) + (t.count ?? 0);
  const templates = artifact.templates
    .map((t) => ({
      id: t.id,
      queryType: t.queryType,
      count: t.count ?? 0,
      share: total > 0 ? (t.count ?? 0) / total : 0,
      text: t.text,
      tables: t.tables,
      slots: t.slots.map((_, i) =>
        slotFromModel(t, i, artifact.parameters.templates[t.id]?.[i]),
      ),
    }))
    .sort((a, b) => b.count - a.count || a.id.localeCompare(b.id));
  const sampler = createWorkloadSampler(artifact, {
    registry: options.registry,
  });
  const counts = new Map<string, Map<string, number>>();
  const rng = createRng(1);
  for (let s = 0; s < SAMPLED_SESSIONS; s++) {
    let prev: string | undefined;
    let n = 0;
    for (const id of sampler.sequence.nextSession(rng.derive(s))) {
      if (prev !== undefined) addTransition(counts, prev, id);
      prev = id;
      if (++n > 10_000) break;
    }
  }
  const { source } = artifact;
  const spanS = (source.endUs - source.startUs) / 1e6;
  const classes = sessionClassReports(artifact);
  const model: NonNullable<InspectReport['model']> = {
    kind: artifact.kind,
    createdAt: artifact.createdAt,
    options: artifact.sequence.options ?? null,
    privacy: artifact.privacy.enabled,
    literals: artifactLiterals(artifact),
  };
  if (artifact.modelPackage !== undefined)
    model.modelPackage = artifact.modelPackage;
  return {
    file,
    kind: 'model',
    dialect: artifact.dialect,
    model,
    events: source.events,
    sessions: source.sessions,
    startUs: source.startUs,
    endUs: source.endUs,
    sessionsPerSecond: sampler.sessionStarts.meanRatePerSecond,
    eventsPerSecond: spanS > 0 ? source.events / spanS : null,
    meanSessionLength:
      source.sessions > 0 ? source.events / source.sessions : null,
    queryTypes,
    templates,
    transitions: topTransitions(counts, options.top),
    transitionsFrom: 'sampled-sessions',
    sessionClasses: classes.classes,
    concurrency: classes.concurrency,
    coupling: sampler.coupling
      ? { rho2: sampler.coupling.rho2, phi: sampler.coupling.phi }
      : null,
  };
}

const MAX_TRACKED_SESSIONS = 1_000_000;
const MAX_DISTINCT = 10_000;

interface SlotAcc {
  values: number;
  types: Record<string, number>;
  min: number;
  max: number;
  distinct: Set<string>;
  overflow: boolean;
}

function numericOf(v: ParamValue): number | undefined {
  if (v.t === 'int' || v.t === 'float') return v.v;
  if (v.t === 'bigint') return Number(v.v);
  return undefined;
}

/** The report of a trace, streamed (memory: templates, slots, and at most 1 M open sessions). */
export async function inspectTrace(
  file: string,
  options: { top: number; signal: AbortSignal },
): Promise<InspectReport> {
  const { header, catalog, events } = await openTrace(file, {
    signal: options.signal,
  });
  const counts = new Map<string, number>();
  const slots = new Map<string, SlotAcc[]>();
  const last = new Map<string, string>();
  const transitions = new Map<string, Map<string, number>>();
  let sessions = 0;
  let approximate = false;
  let n = 0;
  let startUs = Infinity;
  let endUs = -Infinity;
  for await (const e of events) {
    n++;
    if (e.startUs < startUs) startUs = e.startUs;
    if (e.startUs > endUs) endUs = e.startUs;
    counts.set(e.templateId, (counts.get(e.templateId) ?? 0) + 1);
    const prev = last.get(e.sessionId);
    if (prev === undefined) {
      sessions++;
      if (last.size >= MAX_TRACKED_SESSIONS) {
        approximate = true;
        const oldest = last.keys().next().value as string;
        last.delete(oldest);
      }
    } else {
      addTransition(transitions, prev, e.templateId);
      last.delete(e.sessionId);
    }
    last.set(e.sessionId, e.templateId);
    let acc = slots.get(e.templateId);
    if (!acc) slots.set(e.templateId, (acc = []));
    for (let i = 0; i < e.params.length; i++) {
      const v = e.params[i] as ParamValue;
      let a = acc[i];
      if (!a)
        acc[i] = a = {
          values: 0,
          types: {},
          min: Infinity,
          max: -Infinity,
          distinct: new Set(),
          overflow: false,
        };
      a.values++;
      a.types[v.t] = (a.types[v.t] ?? 0) + 1;
      const num = numericOf(v);
      if (num !== undefined) {
        if (num < a.min) a.min = num;
        if (num > a.max) a.max = num;
      }
      if (!a.overflow) {
        a.distinct.add(`${v.t}:${JSON.stringify(v.v)}`);
        if (a.distinct.size > MAX_DISTINCT) {
          a.overflow = true;
          a.distinct.clear();
        }
      }
    }
  }
  const queryTypes: Record<string, number> = {};
  const templates: TemplateReport[] = [];
  for (const [id, count] of counts) {
    const t = catalog.get(id);
    const qt = t?.queryType ?? 'OTHER';
    queryTypes[qt] = (queryTypes[qt] ?? 0) + count;
    templates.push({
      id,
      queryType: qt,
      count,
      share: n > 0 ? count / n : 0,
      text: t?.text ?? '',
      tables: t?.tables ?? [],
      slots: (slots.get(id) ?? []).map((a, i) => {
        const r: SlotReport = {
          slot: i + 1,
          type: t?.slots[i]?.type ?? 'null',
          column: t?.slots[i]?.column ?? null,
          values: a.values,
          types: a.types,
          distinct: a.overflow ? MAX_DISTINCT : a.distinct.size,
          distinctExact: !a.overflow,
        };
        if (a.min <= a.max) {
          r.min = a.min;
          r.max = a.max;
        }
        return r;
      }),
    });
  }
  templates.sort((a, b) => b.count - a.count || a.id.localeCompare(b.id));
  const spanS = n > 0 ? (endUs - startUs) / 1e6 : 0;
  const report: InspectReport = {
    file,
    kind: 'trace',
    dialect: header.dialect,
    trace: { source: header.source, createdAt: header.createdAt },
    events: n,
    sessions,
    startUs: n > 0 ? startUs : null,
    endUs: n > 0 ? endUs : null,
    sessionsPerSecond: spanS > 0 ? sessions / spanS : null,
    eventsPerSecond: spanS > 0 ? n / spanS : null,
    meanSessionLength: sessions > 0 ? n / sessions : null,
    queryTypes,
    templates,
    transitions: topTransitions(transitions, options.top),
    transitionsFrom: 'trace',
  };
  if (approximate) report.sessionsApproximate = true;
  return report;
}
