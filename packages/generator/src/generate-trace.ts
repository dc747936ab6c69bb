import { createHash } from 'node:crypto';
import {
  StbError,
  computeTemplateId,
  createRng,
  createTraceHeader,
  withTemplateRecords,
  templateFacts,
} from '@stb/core';
import type {
  ParamValue,
  QueryTemplate,
  Rng,
  TraceEvent,
  TraceHeader,
  TraceRecord,
} from '@stb/core';
import { createModelRegistry, createWorkloadSampler } from '@stb/models';
import type {
  ModelArtifact,
  ModelRegistry,
  SessionClassSampler,
  SessionParamState,
  WorkloadSampler,
} from '@stb/models';
import type { SessionStart } from './internal/arrivals';
import { ArrivalSchedule, SessionKind } from './internal/arrivals';
import { TimedHeap } from './internal/heap';
import type { CompiledTemplate, RenderSqlOptions } from './render-sql';
import { compileTemplate, renderCompiled } from './render-sql';

/** Progress of a generation, reported about every 16 k events and at the end. */
export interface GenerateProgress {
  /** Events emitted so far. */
  events: number;
  /** Sessions started so far. */
  sessions: number;
  /** Simulated time covered so far, µs from the first event. */
  simulatedUs: number;
  /** Fraction done in [0, 1], when the stop condition makes it known. */
  fraction?: number;
}

/** Options of {@link generateTrace}. */
export interface GenerateTraceOptions {
  /** Seed of every random draw; same artifact + options + seed → byte-identical output. */
  seed: number;
  /** Stop after this many events (default 1000 when no stop condition is given). */
  count?: number;
  /** Start this many sessions, then let them finish. */
  sessions?: number;
  /** Stop at this much simulated time after the first event, µs. */
  durationUs?: number;
  /**
   * Session multiplier (default 1): `scale: 10` starts ten times as many concurrent sessions,
   * each with the original rhythm. It does not speed time up.
   */
  scale?: number;
  /**
   * Time multiplier (default 1) for session inter-arrival gaps and think times: 0.5 halves them (a
   * denser workload of the same sessions), 2 stretches them. Statement durations are not scaled
   * (they describe the server).
   */
  timeScale?: number;
  /** Epoch µs of the first event (default: the source trace's first event). */
  startUs?: number;
  /** Add executable SQL (`sql`) to every event: true for the artifact's dialect, or options. */
  render?: boolean | RenderSqlOptions;
  /**
   * Leave no transaction open (default true): a session that ends inside a transaction gets a
   * closing COMMIT, and a `count` stop ends the open transactions *before* the count is reached
   * (no new transaction starts when the remaining budget is needed to close the open ones), so the
   * trace has exactly `count` events.
   */
  closeTransactions?: boolean;
  /**
   * With `closeTransactions`: stop at `count` model events and append the closing COMMITs after
   * them, beyond `count` (the behaviour before the session model; default false).
   */
  appendClosers?: boolean;
  /** Generate only sessions whose index ≡ `index` (mod `count`); shards merge to a full run. */
  shard?: { index: number; count: number };
  /** Prefix of generated session ids (default `s`): ids are `<prefix><session index>`. */
  sessionIdPrefix?: string;
  /** Registry holding the artifact's model kind (default: the built-in models). */
  registry?: ModelRegistry;
  /** `createdAt` of the header (default: the artifact's `createdAt`, for reproducible files). */
  createdAt?: string;
  signal?: AbortSignal;
  onProgress?: (p: GenerateProgress) => void;
}

/** What a generation produced (final once the records are exhausted). */
export interface GenerateSummary {
  /** Events emitted, closing COMMITs included. */
  events: number;
  /** Closing COMMITs appended for transactions open when the run stopped or a session ended. */
  closingEvents: number;
  /** Sessions started (in this shard). */
  sessions: number;
  /** Distinct templates used. */
  templates: number;
  /** Epoch µs of the first and last event start (undefined when no event). */
  firstStartUs: number | undefined;
  lastStartUs: number | undefined;
  /** Why the run ended. */
  stoppedBy: 'count' | 'sessions' | 'duration' | 'exhausted';
}

/** The record stream of {@link generateTrace}, with its summary. */
export interface GeneratedTrace extends AsyncGenerator<TraceRecord> {
  /** The header the stream starts with. */
  readonly header: TraceHeader;
  /** Counts so far (final after the stream ended). */
  summary(): GenerateSummary;
}

const DEFAULT_COUNT = 1000;
const MAX_SESSION_EVENTS = 1_000_000;
const PROGRESS_EVERY = 16384;
const ABORT_CHECK_EVERY = 1024;

type Boundary = 0 | 1 | 2; // none, begin, end
const B_NONE: Boundary = 0;
const B_BEGIN: Boundary = 1;
const B_END: Boundary = 2;

/** Transaction boundary of a template: its recorded fact, or core's fallback from the text. */
function boundaryOf(t: QueryTemplate): Boundary {
  const b = templateFacts(t).boundary;
  return b === 'begin' ? B_BEGIN : b === 'end' ? B_END : B_NONE;
}

function invalid(message: string): StbError {
  return new StbError('STB_OPTIONS_INVALID', `[stb] [generator] ${message}`);
}

/** Largest `scale`: one arrival stream per unit of scale is held in memory. */
export const MAX_SCALE = 10_000;
/** Bounds of `timeScale`: beyond them every gap rounds to 0 µs or to centuries. */
export const TIME_SCALE_BOUNDS = [1e-6, 1e6] as const;
/** Most sessions open at once; memory is bounded by them, so more is refused, not swapped. */
export const MAX_OPEN_SESSIONS = 1_000_000;

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

/** SHA-256 (first 16 hex digits) of the artifact's JSON: identifies the model a trace came from. */
export function artifactHash(artifact: ModelArtifact): string {
  return createHash('sha256')
    .update(JSON.stringify(artifact))
    .digest('hex')
    .slice(0, 16);
}

/** One open session, keyed in the heap by its next event's start. */
interface OpenSession {
  /** Absolute start (epoch µs) of the next event. */
  timeUs: number;
  /** Session index (global, in arrival order). */
  index: number;
  id: string;
  cls: SessionClassSampler;
  kind: SessionKind;
  seq: Iterator<string>;
  seqRng: Rng;
  paramRng: Rng;
  timeRng: Rng;
  params: SessionParamState;
  nextTemplate: string;
  /** End (start + duration) of the previous event, epoch µs. */
  prevEndUs: number;
  /** Statements still to draw before the session may end (Infinity for pooled connections). */
  remaining: number;
  /** Statements drawn past `remaining` while waiting for the open transaction to end. */
  overrun: number;
  /** A pooled connection ends once its statements reach this time (epoch µs; Infinity: never). */
  untilUs: number;
  inTxn: boolean;
  txnIndex: number;
  /** The next event is the appended closing COMMIT; the session ends after it. */
  closing: boolean;
  /**
   * Another shard's pooled connection of a dispatched class: simulated (its timing takes part in
   * the class's dispatch) but not emitted, so shards still merge into the sequential run.
   */
  ghost: boolean;
}

interface TemplateInfo {
  template: QueryTemplate;
  boundary: Boundary;
  compiled: CompiledTemplate | undefined;
  /** True for the COMMIT made up when the model has no closing template (no parameters). */
  synthetic: boolean;
  /** Already used by an emitted event. */
  used: boolean;
}

/** What the event loop needs, prepared once. */
interface Plan {
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

function closerTemplate(
  artifact: ModelArtifact,
  info: Map<string, TemplateInfo>,
): TemplateInfo {
  let best: TemplateInfo | undefined;
  for (const i of info.values()) {
    if (i.boundary !== B_END || i.template.slots.length > 0) continue;
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
    boundary: B_END,
    compiled: undefined,
    synthetic: true,
    used: false,
  };
}

function makePlan(
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

/** Live counters shared by the event loop and `summary()`. */
type Counters = GenerateSummary;

/** Called by the event loop: every {@link ABORT_CHECK_EVERY} events, and once when it ends. */
interface RunHooks {
  every(emitted: number): void;
  done(): void;
}

/** Strata of a dispatched class's gap draws (one block of draws visits each once). */
const GAP_STRATA = 256;

/** A random permutation of 0 … n − 1 (Fisher–Yates). */
function permutation(n: number, rng: Rng): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
  return a;
}

/**
 * A profiled class's schedule clock: the capture offset, µs, by which `x` source units have
 * started, interpolating linearly within each bucket of the profile; past the capture's last
 * unit, one more unit every mean gap.
 */
function rateWarp(p: {
  bucketUs: number;
  counts: readonly number[];
  meanGapUs: number;
}): { meanGapUs: number; at: (x: number) => number } {
  const cum = [0];
  for (const c of p.counts) cum.push((cum[cum.length - 1] as number) + c);
  const total = cum[cum.length - 1] as number;
  let last = p.counts.length;
  while (last > 0 && p.counts[last - 1] === 0) last--;
  const endUs = last * p.bucketUs;
  return {
    meanGapUs: p.meanGapUs > 0 ? p.meanGapUs : 1,
    at(x) {
      if (x >= total || total === 0) return endUs + (x - total) * p.meanGapUs;
      let lo = 0;
      let hi = p.counts.length;
      // last bucket boundary with cum <= x
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if ((cum[mid] as number) <= x) lo = mid;
        else hi = mid;
      }
      // skip empty buckets: the first one that holds units after boundary lo
      while ((p.counts[lo] as number) === 0) lo++;
      const inBucket = (x - (cum[lo] as number)) / (p.counts[lo] as number);
      return (lo + inBucket) * p.bucketUs;
    },
  };
}

/** Chain sessions drawn per class to learn the length distribution the chain makes by itself. */
const LENGTH_PROBES = 2000;
/** Budget of chain steps for those probes (classes of very long sessions keep drawn lengths). */
const LENGTH_PROBE_STEPS = 400_000;
/** Chain sessions tried per generated session before falling back to a drawn length. */
const LENGTH_TRIES = 64;

/** Length bucket: exact to 64 statements, then 8 per doubling. */
function lengthBucket(n: number): number {
  if (n <= 64) return n;
  return 64 + Math.floor(8 * Math.log2(n / 64)) + 1;
}

/**
 * Length conditioning of a class's chain sessions (docs/models.md "Session lengths"): the weight
 * of a chain session of each length bucket, ∝ (the class's length distribution) ÷ (the chain's
 * own), so accepting chain sessions with that probability keeps the chain's paths — a browse
 * visit ends after its last page — and the class's lengths. Undefined when the chain's sessions
 * are too long to probe or cover too little of the class's lengths.
 */
function lengthAcceptance(
  cls: WorkloadSampler['classes'][number],
  rng: Rng,
): Map<number, number> | undefined {
  const chain = new Map<number, number>();
  let steps = 0;
  for (let i = 0; i < LENGTH_PROBES; i++) {
    let n = 0;
    const it = cls.sequence.nextSession(rng)[Symbol.iterator]();
    while (!it.next().done) {
      n++;
      if (++steps > LENGTH_PROBE_STEPS) return undefined;
    }
    const b = lengthBucket(n);
    chain.set(b, (chain.get(b) ?? 0) + 1);
  }
  const target = new Map<number, number>();
  for (let i = 0; i < LENGTH_PROBES; i++) {
    const b = lengthBucket(cls.sessionLength(rng));
    target.set(b, (target.get(b) ?? 0) + 1);
  }
  // the chain must reach most of the class's lengths for conditioning to mean anything
  let covered = 0;
  for (const [b, c] of target) if (chain.has(b)) covered += c;
  if (covered < 0.9 * LENGTH_PROBES) return undefined;
  const weights = new Map<number, number>();
  let max = 0;
  for (const [b, c] of chain) {
    const w = (target.get(b) ?? 0) / c;
    weights.set(b, w);
    if (w > max) max = w;
  }
  if (max <= 0) return undefined;
  for (const [b, w] of weights) weights.set(b, w / max);
  return weights;
}

/** Longest a session may run past its drawn length to reach the end of its transaction. */
const MAX_OVERRUN = 1000;

/**
 * The event loop: merges session starts (pooled connections, initial sessions and arrivals of
 * every session class) and the open sessions' next events by time with heaps, so memory is
 * bounded by the open sessions.
 */
// Long function: a generator whose steps (dispatch, startSession, emit, budget, drop, skip) are
// closures over the run's shared state (heaps, counters, RNG streams); the loop itself is short.
// Moving that state into a class is how to split it; not done yet.
function* runEvents(
  plan: Plan,
  counters: Counters,
  hooks: RunHooks,
): Generator<TraceEvent> {
  const { sampler, info, timeScale } = plan;
  const root = createRng(plan.seed);
  const sessionRoot = root.derive('sessions');
  const schedule = new ArrivalSchedule(sampler.classes, {
    scale: plan.scale,
    rng: root.derive('arrivals'),
  });
  const toAbs = (offsetUs: number): number =>
    plan.startUs + Math.round(offsetUs * timeScale);
  const exact = plan.closeTransactions && !plan.appendClosers;
  const unbounded = plan.count === undefined && plan.endUs === undefined;
  const captureSpanUs = Math.max(
    1,
    sampler.artifact.sessions.captureEndUs -
      sampler.artifact.sessions.captureStartUs,
  );

  const open = new TimedHeap<OpenSession>();
  /** Open sessions that emit events (not ghosts). */
  let ownOpen = 0;
  /**
   * Dispatched classes (docs/models.md "Dispatched units"): the last unit slot handed out, epoch
   * µs, and the class's own RNG (independent of sessions and shards).
   */
  const dispatchRoot = root.derive('units');
  const lengthRoot = root.derive('lengths');
  // probed on a class's first ending session (a class of pooled connections never needs it)
  const acceptance = new Map<number, Map<number, number> | undefined>();
  const acceptanceOf = (ci: number): Map<number, number> | undefined => {
    if (!acceptance.has(ci))
      acceptance.set(
        ci,
        lengthAcceptance(
          sampler.classes[ci] as WorkloadSampler['classes'][number],
          lengthRoot.derive(ci),
        ),
      );
    return acceptance.get(ci);
  };
  const slots = sampler.classes.map((c, i) =>
    c.unitGapUs
      ? {
          lastUs: NaN,
          rng: dispatchRoot.derive(i),
          strata: [] as number[],
          /** Units of the source scheduled so far (a profiled class's clock). */
          units: 0,
          warp: c.unitProfile ? rateWarp(c.unitProfile) : undefined,
        }
      : undefined,
  );
  /**
   * Advances class `ci`'s unit schedule by one slot (`fromUs`: where an empty schedule starts) and
   * returns the slot's time.
   */
  const nextSlot = (ci: number, fromUs: number): number => {
    const slot = slots[ci] as NonNullable<(typeof slots)[number]>;
    const gap = (sampler.classes[ci] as SessionClassSampler)
      .unitGapUs as NonNullable<SessionClassSampler['unitGapUs']>;
    // Stratified draws: each block of GAP_STRATA gaps takes one from every equal-probability
    // stratum, in random order, so the schedule keeps the capture's mean rate (a plain draw's
    // count wanders by ±1/√n: ±5 % over a 10 s capture at 45 transactions/s) while gaps stay random.
    if (slot.strata.length === 0)
      slot.strata = permutation(GAP_STRATA, slot.rng);
    const u = ((slot.strata.pop() as number) + slot.rng.next()) / GAP_STRATA;
    if (slot.warp) {
      // a profiled class: count source units (a slot is 1/scale of one) and place the next at
      // the capture time its rate profile gives (after its end: at the gaps' own rate)
      slot.units += gap(u) / slot.warp.meanGapUs / plan.scale;
      slot.lastUs = toAbs(slot.warp.at(slot.units));
    } else {
      const from = Number.isNaN(slot.lastUs) ? fromUs : slot.lastUs;
      slot.lastUs = from + Math.round((gap(u) * timeScale) / plan.scale);
    }
    return slot.lastUs;
  };
  /**
   * Counts a unit that ran at `atUs` outside the schedule (a pooled connection's first) as one of
   * its slots: a schedule behind it restarts there, one ahead of it loses a slot.
   */
  const takeSlot = (ci: number, atUs: number): void => {
    const slot = slots[ci] as NonNullable<(typeof slots)[number]>;
    if (slot.warp) slot.units += 1 / plan.scale;
    else if (Number.isNaN(slot.lastUs) || slot.lastUs < atUs)
      slot.lastUs = atUs;
    else nextSlot(ci, atUs);
  };
  /** The start of the next unit of pooled connection `s`, ready at `readyUs`. */
  const dispatch = (s: OpenSession, readyUs: number): number => {
    if (!slots[s.cls.id] || !s.cls.unitGapUs) return readyUs;
    // A late slot (every connection was busy) starts as soon as the connection is free, as pgbench's
    // schedule lag does.
    return Math.max(readyUs, nextSlot(s.cls.id, readyUs));
  };
  let nextSessionIndex = 0;
  let arrivalsDone = false;
  /** Open sessions inside a transaction (each needs one more event to close it). */
  let inTxnCount = 0;

  /** Boundary of a template id (the closer's too), from the prepared template table. */
  const boundaryOfId = (id: string): Boundary =>
    info.get(id)?.boundary ?? (id === plan.closer.template.id ? B_END : B_NONE);

  /** The next template of the session's chain, restarting it when it ended (undefined: none). */
  const chainNext = (s: OpenSession): string | undefined => {
    let r = s.seq.next();
    if (r.done) {
      s.seq = s.cls.sequence.nextSession(s.seqRng)[Symbol.iterator]();
      r = s.seq.next();
    }
    return r.done ? undefined : r.value;
  };

  /** Moves `s` to its next statement; false when the session is over. */
  const prepareNext = (s: OpenSession): boolean => {
    if (s.closing) return false;
    if (s.timeUs >= s.untilUs) s.remaining = Math.min(s.remaining, 0);
    let next: string | undefined;
    if (s.remaining > 0) next = chainNext(s);
    else if (s.inTxn && s.overrun < MAX_OVERRUN) {
      // past its length: finish the open transaction the way the chain does
      next = chainNext(s);
      s.overrun++;
    }
    if (next === undefined || (s.remaining <= 0 && !s.inTxn)) {
      if (!(s.inTxn && plan.closeTransactions)) return false;
      next = plan.closer.template.id;
      s.closing = true;
    }
    s.remaining--;
    const think = s.cls.thinkTimeUs(s.nextTemplate, next, s.timeRng);
    s.nextTemplate = next;
    s.timeUs =
      s.kind === SessionKind.Pool && !s.inTxn && !s.closing && s.cls.unitGapUs
        ? dispatch(s, s.prevEndUs)
        : s.prevEndUs + Math.round(think * timeScale);
    return true;
  };

  const startSession = (start: SessionStart): void => {
    const index = nextSessionIndex++;
    const cls = sampler.classes[start.classIndex] as SessionClassSampler;
    const ghost =
      plan.shard !== undefined && index % plan.shard.count !== plan.shard.index;
    // A pooled connection of a dispatched class opens with a unit of its own: that unit is one of
    // the schedule's (the learned gaps and rate profile count it), so it takes a slot — otherwise
    // every connection opening during a ramp adds a unit on top of the schedule's rate.
    if (start.kind === SessionKind.Pool && slots[start.classIndex])
      takeSlot(start.classIndex, toAbs(start.offsetUs));
    if (ghost && !(start.kind === SessionKind.Pool && cls.unitGapUs)) return;
    if (plan.sessions !== undefined && counters.sessions >= plan.sessions)
      return;
    const rng = sessionRoot.derive(index);
    const seqRng = rng.derive(1);
    const arrivalUs = toAbs(start.offsetUs);
    const s: OpenSession = {
      timeUs: arrivalUs,
      index,
      id: `${plan.prefix}${index}`,
      cls,
      kind: start.kind,
      seq: cls.sequence.nextSession(seqRng)[Symbol.iterator](),
      seqRng,
      paramRng: rng.derive(2),
      timeRng: rng.derive(3),
      params: sampler.newSession(rng.derive(4)),
      nextTemplate: '',
      prevEndUs: arrivalUs,
      remaining: 0,
      overrun: 0,
      untilUs: Infinity,
      inTxn: false,
      txnIndex: 0,
      closing: false,
      ghost,
    };
    s.remaining =
      start.kind === SessionKind.Pool
        ? Infinity
        : Math.min(MAX_SESSION_EVENTS, cls.sessionLength(s.timeRng));
    const accept =
      start.kind === SessionKind.Pool
        ? undefined
        : acceptanceOf(start.classIndex);
    if (accept) {
      // a chain session whose length the class's distribution accepts: its own path and END
      const pick = rng.derive(5);
      for (let t = 0; t < LENGTH_TRIES; t++) {
        const path: string[] = [];
        for (const id of cls.sequence.nextSession(seqRng)) {
          path.push(id);
          if (path.length >= MAX_SESSION_EVENTS) break;
        }
        const w = accept.get(lengthBucket(path.length)) ?? 0;
        if (path.length > 0 && pick.next() < w) {
          s.seq = path[Symbol.iterator]();
          s.remaining = path.length;
          break;
        }
      }
    }
    // Without a count or duration stop (`sessions` only), pooled connections live as long as
    // the capture did; otherwise they stay open until the run stops.
    if (start.kind === SessionKind.Pool && unbounded)
      s.untilUs = toAbs(captureSpanUs);
    const first = s.seq.next();
    if (first.done) return;
    s.nextTemplate = first.value;
    s.remaining--;
    if (!ghost) {
      counters.sessions++;
      ownOpen++;
    }
    open.push(s);
    if (open.size > MAX_OPEN_SESSIONS)
      throw invalid(
        `More than ${MAX_OPEN_SESSIONS} sessions would be open at once (scale × the source's concurrency, or a time scale that packs sessions together). Lower \`scale\`, raise \`timeScale\`, or generate shards.`,
      );
  };

  /**
   * In exact-count mode, whether `s` may emit its next event with `left` events of budget, or
   * must close its transaction (COMMIT instead) or end now.
   */
  const budget = (s: OpenSession, left: number): 'emit' | 'close' | 'end' => {
    const b = boundaryOfId(s.nextTemplate);
    if (s.inTxn) {
      if (b === B_END) return 'emit';
      return left - 1 >= inTxnCount ? 'emit' : 'close';
    }
    // outside a transaction: a BEGIN adds one more transaction to close
    const need = b === B_BEGIN ? inTxnCount + 2 : inTxnCount + 1;
    return left >= need ? 'emit' : 'end';
  };

  /** Emits the event `s` is positioned at. */
  const emit = (s: OpenSession): TraceEvent => {
    const id = s.nextTemplate;
    const ti =
      info.get(id) ??
      (id === plan.closer.template.id ? plan.closer : undefined);
    const startUs = s.timeUs;
    const params: ParamValue[] =
      ti?.synthetic === true
        ? []
        : sampler.params(id, s.params, s.paramRng, startUs);
    const drawnUs = s.cls.durationUs(id, s.timeRng);
    const durationUs =
      drawnUs === undefined ? undefined : Math.max(0, Math.round(drawnUs));
    const boundary = ti?.boundary ?? B_NONE;
    if (boundary === B_BEGIN && !s.inTxn) {
      s.inTxn = true;
      inTxnCount++;
    }
    const txn = s.inTxn ? s.txnIndex : undefined;
    if (boundary === B_END && s.inTxn) {
      s.inTxn = false;
      inTxnCount--;
      s.txnIndex++;
    }
    // One object literal per combination of optional fields (keys in the order the writers
    // expect): events of a run share a few stable shapes instead of growing one field by field.
    const sessionId = s.id;
    let event: TraceEvent;
    if (durationUs !== undefined)
      event =
        txn !== undefined
          ? {
              kind: 'event',
              startUs,
              sessionId,
              templateId: id,
              params,
              durationUs,
              txn,
            }
          : {
              kind: 'event',
              startUs,
              sessionId,
              templateId: id,
              params,
              durationUs,
            };
    else
      event =
        txn !== undefined
          ? { kind: 'event', startUs, sessionId, templateId: id, params, txn }
          : { kind: 'event', startUs, sessionId, templateId: id, params };
    if (plan.render && ti?.compiled)
      event.sql = renderCompiled(ti.compiled, params, plan.render);
    s.prevEndUs = startUs + (durationUs ?? 0);
    counters.events++;
    if (s.closing) counters.closingEvents++;
    if (ti && !ti.used) {
      ti.used = true;
      counters.templates++;
    }
    counters.firstStartUs ??= startUs;
    counters.lastStartUs = startUs;
    return event;
  };

  /** Ends `s` early (exact-count mode, outside a transaction). */
  const drop = (s: OpenSession): void => {
    open.pop();
    ownOpen--;
    if (s.inTxn) inTxnCount--;
  };

  /** Advances a ghost past its statement as `emit` would, without an event. */
  const skip = (s: OpenSession): void => {
    const id = s.nextTemplate;
    const drawnUs = s.cls.durationUs(id, s.timeRng);
    const boundary = boundaryOfId(id);
    if (boundary === B_BEGIN && !s.inTxn) s.inTxn = true;
    if (boundary === B_END && s.inTxn) {
      s.inTxn = false;
      s.txnIndex++;
    }
    s.prevEndUs =
      s.timeUs + (drawnUs === undefined ? 0 : Math.max(0, Math.round(drawnUs)));
  };

  let modelEvents = 0;
  let emitted = 0;
  let exhausted = false;
  /** An exact count's end is near: sessions end instead of starting work that cannot finish. */
  let draining = false;
  for (;;) {
    // Open every session arriving no later than the earliest pending event.
    const top = open.peek();
    while (!arrivalsDone) {
      const offset = schedule.peekOffsetUs();
      if (offset === undefined) {
        arrivalsDone = true;
        break;
      }
      const at = toAbs(offset);
      if (top && at > top.timeUs) break;
      if (plan.endUs !== undefined && at >= plan.endUs) {
        arrivalsDone = true;
        break;
      }
      if (plan.sessions !== undefined && counters.sessions >= plan.sessions) {
        arrivalsDone = true;
        break;
      }
      if (exact && plan.count !== undefined && emitted >= plan.count) {
        arrivalsDone = true;
        break;
      }
      startSession(schedule.take() as SessionStart);
      if (open.peek() !== top) break;
    }
    const s = open.peek();
    if (!s || (ownOpen === 0 && arrivalsDone)) {
      counters.stoppedBy = draining
        ? 'count'
        : plan.sessions !== undefined && counters.sessions >= plan.sessions
          ? 'sessions'
          : plan.endUs !== undefined
            ? 'duration'
            : 'exhausted';
      exhausted = true;
      break;
    }
    if (plan.endUs !== undefined && s.timeUs >= plan.endUs) {
      counters.stoppedBy = 'duration';
      break;
    }
    if (s.ghost) {
      skip(s);
      if (prepareNext(s)) open.fixTop();
      else open.pop();
      continue;
    }
    if (exact && plan.count !== undefined) {
      const left = plan.count - emitted;
      if (left <= 0) {
        counters.stoppedBy = 'count';
        break;
      }
      if (!s.closing) {
        const verdict = budget(s, left);
        if (verdict === 'end') {
          // The budget left is for closing open transactions: no new session could use it.
          drop(s);
          draining = true;
          arrivalsDone = true;
          continue;
        }
        if (verdict === 'close') {
          s.nextTemplate = plan.closer.template.id;
          s.closing = true;
        }
      }
    }
    const wasClosing = s.closing;
    yield emit(s);
    emitted++;
    if ((emitted & (ABORT_CHECK_EVERY - 1)) === 0) hooks.every(emitted);
    if (!wasClosing) modelEvents++;
    if (prepareNext(s)) open.fixTop();
    else {
      open.pop();
      ownOpen--;
      if (s.inTxn) inTxnCount--;
    }
    const counted = exact ? emitted : modelEvents;
    if (plan.count !== undefined && counted >= plan.count) {
      counters.stoppedBy = 'count';
      break;
    }
  }
  // Stopped early: close the transactions still open, in time order.
  if (!exhausted && plan.closeTransactions) {
    const pending = open
      .drain()
      .filter((x) => x.inTxn && !x.closing && !x.ghost)
      .map((x) => {
        // At the time its next statement was due (≥ every emitted event, and the same in every
        // shard, since it depends on the session alone).
        x.closing = true;
        x.nextTemplate = plan.closer.template.id;
        return x;
      })
      .sort((a, b) => a.timeUs - b.timeUs || a.index - b.index);
    for (const x of pending) {
      yield emit(x);
      if ((++emitted & (ABORT_CHECK_EVERY - 1)) === 0) hooks.every(emitted);
    }
  }
  hooks.done();
}

/** The event stream of {@link generateEvents}, with what a writer needs around it. */
export interface GeneratedEvents extends Iterable<TraceEvent> {
  /** The header of the trace (its `source.generator` records kind, seed, options, artifact hash). */
  readonly header: TraceHeader;
  /** The template of an id used by the events (without the source's `count`). */
  template(id: string): QueryTemplate | undefined;
  /** Counts so far (final after the events are exhausted). */
  summary(): GenerateSummary;
}

/**
 * The synchronous core of {@link generateTrace}: the events alone, as a plain iterable (no async
 * hop per event), for in-process consumers that want the highest throughput. Iterate it once.
 * @example
 * const run = generateEvents(artifact, { seed: 7, count: 1_000_000 });
 * for (const e of run) histogram.add(e.templateId);
 * @throws StbError as {@link generateTrace}.
 */
export function generateEvents(
  artifact: ModelArtifact,
  options: GenerateTraceOptions,
): GeneratedEvents {
  const plan = makePlan(artifact, options);
  const generator: Record<string, unknown> = {
    kind: artifact.kind,
    seed: options.seed,
    artifactHash: artifactHash(artifact),
    options: {
      count: plan.count,
      sessions: plan.sessions,
      durationUs: options.durationUs,
      scale: plan.scale,
      timeScale: plan.timeScale,
      startUs: plan.startUs,
      render: plan.render,
      closeTransactions: plan.closeTransactions,
      appendClosers: plan.appendClosers,
      shard: plan.shard,
    },
  };
  if (artifact.modelPackage !== undefined)
    generator['modelPackage'] = artifact.modelPackage;
  const header = createTraceHeader({
    dialect: artifact.dialect,
    source: {
      tool: 'generate',
      ...(artifact.source.files ? { files: artifact.source.files } : {}),
      generator,
    },
    timeResolutionUs: 1,
    createdAt: options.createdAt ?? artifact.createdAt,
  });
  const counters: Counters = {
    events: 0,
    closingEvents: 0,
    sessions: 0,
    templates: 0,
    firstStartUs: undefined,
    lastStartUs: undefined,
    stoppedBy: 'exhausted',
  };
  const { signal, onProgress } = options;
  const progress = (): void => {
    if (!onProgress) return;
    const p: GenerateProgress = {
      events: counters.events,
      sessions: counters.sessions,
      simulatedUs:
        counters.lastStartUs === undefined
          ? 0
          : counters.lastStartUs - plan.startUs,
    };
    if (plan.count !== undefined)
      p.fraction = Math.min(1, counters.events / plan.count);
    else if (plan.sessions !== undefined)
      p.fraction = Math.min(1, counters.sessions / plan.sessions);
    else if (plan.endUs !== undefined)
      p.fraction = Math.min(1, p.simulatedUs / (plan.endUs - plan.startUs));
    onProgress(p);
  };
  const hooks: RunHooks = {
    every(n) {
      if (signal?.aborted)
        throw new StbError(
          'STB_ABORTED',
          '[stb] [generator] Generation was aborted.',
        );
      if (n % PROGRESS_EVERY === 0) progress();
    },
    done: progress,
  };
  const events = (): Generator<TraceEvent> => runEvents(plan, counters, hooks);
  return {
    header,
    [Symbol.iterator]: events,
    template: (id) =>
      plan.info.get(id)?.template ??
      (id === plan.closer.template.id ? plan.closer.template : undefined),
    summary: () => ({ ...counters }),
  };
}

/**
 * Generates a synthetic trace from a fitted model artifact: the header (its `source.generator`
 * records the model kind, seed, options and artifact hash), each template record before its first
 * use, then events in global `startUs` order. Sessions arrive by the learned arrival process; each
 * walks the sequence model with its own RNG derived from `(seed, session index)`, so `count`
 * prefixes, shards and parallel runs agree with a sequential run. Stops at `count` events,
 * `sessions` sessions or `durationUs` of simulated time (default 1000 events).
 * @example
 * const artifact = await readModelArtifact('model.json', { registry });
 * await writeTrace('synthetic.jsonl', generateTrace(artifact, { seed: 7, count: 100_000 }));
 * @throws StbError `STB_OPTIONS_INVALID` for bad options, `STB_PLUGIN_NOT_FOUND` when the
 * artifact's model kind is not in the registry, `STB_ABORTED` when `signal` aborts.
 */
export function generateTrace(
  artifact: ModelArtifact,
  options: GenerateTraceOptions,
): GeneratedTrace {
  const run = generateEvents(artifact, options);
  const records = withTemplateRecords(run.header, run, (id) =>
    run.template(id),
  );
  return Object.assign(records, {
    header: run.header,
    summary: () => run.summary(),
  });
}
