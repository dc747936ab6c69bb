import { connKey, KllSketch, kllWeightedItems } from '@stb/core';
import type { ConnAttributes, Rng } from '@stb/core';
import type { KllSketchState } from '../state-schemas';

/**
 * Per-session summaries recorded when a session closes during the fit's first pass (in close
 * order), and the session classes derived from them once the capture's bounds are known.
 *
 * Memory: 49 bytes per session (five float64, two int32, one byte), in growable typed arrays. This is the one part of
 * the fit that grows with sessions rather than with open sessions; it is what lets pooled
 * connections be told apart from short sessions (censoring needs the capture's end, which is
 * known only after the pass). 1,000,000 sessions take about 49 MB.
 */
export class SessionProfiles {
  size = 0;
  #cap = 1024;
  firstUs = new Float64Array(this.#cap);
  lastStartUs = new Float64Array(this.#cap);
  lastEndUs = new Float64Array(this.#cap);
  events = new Float64Array(this.#cap);
  maxGapUs = new Float64Array(this.#cap);
  /** Template index of the session's most frequent template. */
  dominant = new Int32Array(this.#cap);
  /** The session's connection attributes, as an index into the fit's {@link ConnKeys} (0: none). */
  conn = new Int32Array(this.#cap);
  /** 1 when the session was still open when the capture ended. */
  openAtEnd = new Uint8Array(this.#cap);

  #grow(): void {
    this.#cap *= 2;
    const grow = <T extends Float64Array | Int32Array | Uint8Array>(
      a: T,
      make: (n: number) => T,
    ): T => {
      const b = make(this.#cap);
      b.set(a);
      return b;
    };
    this.firstUs = grow(this.firstUs, (n) => new Float64Array(n));
    this.lastStartUs = grow(this.lastStartUs, (n) => new Float64Array(n));
    this.lastEndUs = grow(this.lastEndUs, (n) => new Float64Array(n));
    this.events = grow(this.events, (n) => new Float64Array(n));
    this.maxGapUs = grow(this.maxGapUs, (n) => new Float64Array(n));
    this.dominant = grow(this.dominant, (n) => new Int32Array(n));
    this.conn = grow(this.conn, (n) => new Int32Array(n));
    this.openAtEnd = grow(this.openAtEnd, (n) => new Uint8Array(n));
  }

  /** Records one closed session; returns its close index. */
  add(s: SessionSummary, openAtEnd: boolean): number {
    if (this.size === this.#cap) this.#grow();
    const i = this.size++;
    this.firstUs[i] = s.firstUs;
    this.lastStartUs[i] = s.lastStartUs;
    this.lastEndUs[i] = s.lastEndUs;
    this.events[i] = s.events;
    this.maxGapUs[i] = s.maxGapUs;
    this.dominant[i] = s.dominant;
    this.conn[i] = s.conn;
    this.openAtEnd[i] = openAtEnd ? 1 : 0;
    return i;
  }
}

/** What the fit tracks per open session for {@link SessionProfiles}. */
export interface SessionSummary {
  firstUs: number;
  lastStartUs: number;
  lastEndUs: number;
  events: number;
  maxGapUs: number;
  dominant: number;
  /** Index of the session's connection attributes in the fit's {@link ConnKeys} (0: none). */
  conn: number;
}

/** At most this many distinct connection attribute sets are told apart; later ones count as none. */
export const MAX_CONN_KEYS = 4096;

/**
 * The distinct connection attributes of a fit's sessions (trace `conn`), interned in order of
 * first appearance: index 0 is "none named". The key is the attributes' JSON in the order user,
 * database, application, so equal attributes give one key whatever their record's key order.
 * Every shard of a sharded fit reads every event in one order, so all shards intern alike.
 */
export class ConnKeys {
  readonly keys: string[] = [''];
  readonly #index = new Map<string, number>([['', 0]]);

  /** The index of `conn` (0 for undefined, or past {@link MAX_CONN_KEYS} distinct sets). */
  intern(conn: ConnAttributes | undefined): number {
    if (conn === undefined) return 0;
    const key = connKey(conn);
    const i = this.#index.get(key);
    if (i !== undefined) return i;
    if (this.keys.length >= MAX_CONN_KEYS) return 0;
    this.#index.set(key, this.keys.length);
    this.keys.push(key);
    return this.keys.length - 1;
  }
}

/** Running per-session template counts, to find the dominant template at close. */
export class TemplateTally {
  #counts = new Map<number, number>();
  #best = -1;
  #bestCount = 0;

  add(template: number): void {
    const c = (this.#counts.get(template) ?? 0) + 1;
    this.#counts.set(template, c);
    if (
      c > this.#bestCount ||
      (c === this.#bestCount && template < this.#best)
    ) {
      this.#best = template;
      this.#bestCount = c;
    }
  }

  get dominant(): number {
    return this.#best;
  }

  /** Calls `f` with every template index and its count. */
  forEach(f: (count: number, template: number) => void): void {
    this.#counts.forEach(f);
  }
}

/**
 * Template counts of all sessions, summed per dominant template: how the sessions that share a
 * dominant template spread over the templates. Memory: dominant templates × templates they use.
 */
export class DominantMixes {
  readonly #mix = new Map<number, Map<number, number>>();

  add(tally: TemplateTally): void {
    let m = this.#mix.get(tally.dominant);
    if (!m) this.#mix.set(tally.dominant, (m = new Map()));
    const into = m;
    tally.forEach((c, t) => into.set(t, (into.get(t) ?? 0) + c));
  }

  /** Total variation distance between the template mixes of two dominant templates (1: unknown). */
  distance(a: number, b: number): number {
    const ma = this.#mix.get(a);
    const mb = this.#mix.get(b);
    if (!ma || !mb) return 1;
    let ta = 0;
    let tb = 0;
    for (const c of ma.values()) ta += c;
    for (const c of mb.values()) tb += c;
    if (ta === 0 || tb === 0) return 1;
    let d = 0;
    for (const [t, c] of ma) d += Math.abs(c / ta - (mb.get(t) ?? 0) / tb);
    for (const [t, c] of mb) if (!ma.has(t)) d += c / tb;
    return d / 2;
  }
}

/** How a session enters a generated trace. */
export const enum SessionRole {
  /** Open at the capture's end and long-lived: a pooled connection, open for the whole run. */
  Pool = 0,
  /** Open at the capture's first statement and ended within it: generated once, at the start. */
  Initial = 1,
  /** Started and ended within the capture: an arrival of the (tiled) arrival process. */
  Arrival = 2,
}

/** One class while it is being built (`TDominant`: a template index in a fit, an id in a merge). */
export interface ClassDraft<TDominant = number> {
  pool: boolean;
  dominant: TDominant;
  sessions: number;
  statements: number;
  /** Close index of the first member session (for deterministic ordering). */
  firstMember: number;
  /** Sessions per connection attributes key ({@link connKey}; '' = none named). */
  conns: Map<string, number>;
}

/** The classes of a fit and each session's class (by close index). */
export interface SessionClassing {
  classes: ClassDraft[];
  /** Class index per session close index. */
  classOf: Int32Array;
  /** Role per session close index. */
  roleOf: Uint8Array;
  captureStartUs: number;
  captureLastStartUs: number;
  captureEndUs: number;
  spanUs: number;
}

/** The capture's bounds: first statement start, last statement start, last statement end (µs). */
export interface CaptureBounds {
  startUs: number;
  lastStartUs: number;
  endUs: number;
}

/** Options of {@link classifySessions}. */
export interface ClassifyOptions {
  /**
   * The capture's bounds when the profiles hold only some of its sessions (a shard of a
   * sharded fit); default: computed from the profiles.
   */
  bounds?: CaptureBounds;
  /**
   * Keep every (pooled, dominant template) group as its own class, with no "other" class and
   * no cap: what a shard records, so that the merge applies the share rule to the whole capture.
   */
  keepAllGroups?: boolean;
  /** Template mixes per dominant template: dominant templates of one mix form one class. */
  mixes?: DominantMixes;
  /**
   * Dominant template → its representative, already decided ({@link mixAliases} over the whole
   * capture: what a shard uses); overrides `mixes`.
   */
  alias?: ReadonlyMap<number, number>;
  /** The fit's connection attribute keys (profile `conn` index → key); default: none named. */
  connKeys?: readonly string[];
}

/** Smallest share (of sessions, or of statements) a behaviour class needs to stay on its own. */
const MIN_CLASS_SHARE = 0.05;
/** At most this many classes. */
const MAX_CLASSES = 16;
/**
 * Sessions whose dominant templates differ but whose template mixes are this close (total
 * variation) behave alike — sysbench's threads, each dominated by the point select of whichever
 * table it happened to hit most — and form one class.
 */
const SAME_MIX_TV = 0.25;
/** A pooled session lived at least this share of the capture. */
const POOL_MIN_LIFETIME_SHARE = 0.25;
/**
 * A long-lived session whose last statement falls in this final share of the capture was stopped
 * with the workload (a benchmark's `-T`, an application shut down with the capture), not by its own
 * end: pgbench -R's clients stop over the last ~12 % of an 8 s run, each well past twice its own
 * largest gap from the capture's end (docs/models.md "Session roles").
 */
const COMMON_STOP_SHARE = 0.15;

/** The classes formed from groups, and the class index of each group key. */
export interface GroupedClasses<TDominant> {
  classes: ClassDraft<TDominant>[];
  classOfGroup: Map<string, number>;
}

/**
 * The class rule, shared by a fit and a merge of shard fits: groups (keyed by pooled or not, the
 * connection attributes and the dominant template) with less than 5 % of the sessions and of the statements go to one
 * "other" class of their kind, as do groups beyond the 14 largest (by statements, ties by first
 * member); classes are ordered by their first member.
 */
export function groupClasses<TDominant>(
  groups: ReadonlyMap<string, ClassDraft<TDominant>>,
  totals: { sessions: number; statements: number; keepAllGroups?: boolean },
): GroupedClasses<TDominant> {
  const small = (g: ClassDraft<TDominant>): boolean =>
    totals.keepAllGroups !== true &&
    g.sessions < MIN_CLASS_SHARE * totals.sessions &&
    g.statements < MIN_CLASS_SHARE * totals.statements;
  const ranked = [...groups.entries()].sort(
    (a, b) =>
      b[1].statements - a[1].statements || a[1].firstMember - b[1].firstMember,
  );
  const target = new Map<string, string>();
  let kept = 0;
  for (const [k, g] of ranked) {
    if (
      !small(g) &&
      (totals.keepAllGroups === true || kept < MAX_CLASSES - 2)
    ) {
      target.set(k, k);
      kept++;
    } else target.set(k, g.pool ? 'p:other' : 's:other');
  }
  const merged = new Map<string, ClassDraft<TDominant>>();
  for (const [k, g] of ranked) {
    const t = target.get(k) as string;
    const m = merged.get(t);
    if (!m) merged.set(t, { ...g, conns: new Map(g.conns) });
    else {
      m.sessions += g.sessions;
      m.statements += g.statements;
      m.firstMember = Math.min(m.firstMember, g.firstMember);
      for (const [k, n] of g.conns) m.conns.set(k, (m.conns.get(k) ?? 0) + n);
    }
  }
  const classes = [...merged.values()].sort(
    (a, b) => a.firstMember - b.firstMember,
  );
  const classOfGroup = new Map<string, number>();
  for (const k of groups.keys())
    classOfGroup.set(
      k,
      classes.indexOf(
        merged.get(target.get(k) as string) as ClassDraft<TDominant>,
      ),
    );
  return { classes, classOfGroup };
}

/**
 * Dominant templates with one template mix share a representative: the one seen first (in the
 * profiles' close order) among those within total variation 0.25 of each other.
 */
export function mixAliases(
  p: SessionProfiles,
  mixes: DominantMixes,
): Map<number, number> {
  const alias = new Map<number, number>();
  const reps: number[] = [];
  for (let i = 0; i < p.size; i++) {
    const d = p.dominant[i] as number;
    if (alias.has(d)) continue;
    const same = reps.find((r) => mixes.distance(r, d) < SAME_MIX_TV);
    if (same === undefined) reps.push(d);
    alias.set(d, same ?? d);
  }
  return alias;
}

/**
 * Decides each session's role (pool / initial / arrival) and groups sessions into classes: by
 * their connection attributes first (user, database, application), then by behaviour: pooled or
 * not, then the dominant template ({@link groupClasses}), where dominant
 * templates whose sessions share a template mix (`options.mixes`, total variation < 0.25) count as
 * one.
 */
export function classifySessions(
  p: SessionProfiles,
  resolutionUs: number,
  options: ClassifyOptions = {},
): SessionClassing {
  let captureStartUs = Infinity;
  let captureLastStartUs = -Infinity;
  let captureEndUs = -Infinity;
  let totalStatements = 0;
  for (let i = 0; i < p.size; i++) {
    captureStartUs = Math.min(captureStartUs, p.firstUs[i] as number);
    captureLastStartUs = Math.max(
      captureLastStartUs,
      p.lastStartUs[i] as number,
    );
    captureEndUs = Math.max(captureEndUs, p.lastEndUs[i] as number);
    totalStatements += p.events[i] as number;
  }
  if (options.bounds) {
    captureStartUs = options.bounds.startUs;
    captureLastStartUs = options.bounds.lastStartUs;
    captureEndUs = options.bounds.endUs;
  }
  const spanUs = Math.max(0, captureLastStartUs - captureStartUs);
  const roleOf = new Uint8Array(p.size);
  for (let i = 0; i < p.size; i++) {
    const n = p.events[i] as number;
    const tolerance = Math.max(2 * (p.maxGapUs[i] as number), resolutionUs);
    const first = p.firstUs[i] as number;
    const last = p.lastStartUs[i] as number;
    const longLived = last - first >= POOL_MIN_LIFETIME_SHARE * spanUs;
    const rightCensored =
      p.openAtEnd[i] === 1 &&
      n >= 2 &&
      captureLastStartUs - last <=
        (longLived
          ? Math.max(tolerance, COMMON_STOP_SHARE * spanUs)
          : tolerance);
    if (rightCensored && longLived && spanUs > 0) roleOf[i] = SessionRole.Pool;
    else if (first - captureStartUs <= tolerance)
      roleOf[i] = SessionRole.Initial;
    else roleOf[i] = SessionRole.Arrival;
  }

  const alias =
    options.alias ??
    (options.mixes ? mixAliases(p, options.mixes) : new Map<number, number>());
  // group by (pool, connection attributes, dominant template)
  const connKeys = options.connKeys ?? [''];
  const key = (i: number): string => {
    const d = p.dominant[i] as number;
    return `${roleOf[i] === SessionRole.Pool ? 'p' : 's'}:${p.conn[i] as number}:${alias.get(d) ?? d}`;
  };
  const groups = new Map<string, ClassDraft>();
  for (let i = 0; i < p.size; i++) {
    const k = key(i);
    let g = groups.get(k);
    if (!g) {
      g = {
        pool: roleOf[i] === SessionRole.Pool,
        dominant:
          alias.get(p.dominant[i] as number) ?? (p.dominant[i] as number),
        sessions: 0,
        statements: 0,
        firstMember: i,
        conns: new Map(),
      };
      groups.set(k, g);
    }
    const ck = connKeys[p.conn[i] as number] ?? '';
    g.conns.set(ck, (g.conns.get(ck) ?? 0) + 1);
    g.sessions++;
    g.statements += p.events[i] as number;
  }
  const { classes, classOfGroup } = groupClasses(groups, {
    sessions: p.size,
    statements: totalStatements,
    keepAllGroups: options.keepAllGroups === true,
  });
  const classOf = new Int32Array(p.size);
  for (let i = 0; i < p.size; i++)
    classOf[i] = classOfGroup.get(key(i)) as number;
  return {
    classes,
    classOf,
    roleOf,
    captureStartUs: Number.isFinite(captureStartUs) ? captureStartUs : 0,
    captureLastStartUs: Number.isFinite(captureLastStartUs)
      ? captureLastStartUs
      : 0,
    captureEndUs: Number.isFinite(captureEndUs) ? captureEndUs : 0,
    spanUs,
  };
}

/** Arrival buckets for a span: at most 1440 buckets, no finer than the time resolution or 1 ms. */
export function arrivalBucketUs(spanUs: number, resolutionUs: number): number {
  return Math.max(resolutionUs, 1000, Math.ceil((spanUs + 1) / 1440));
}

/** Per-class statistics of the session roles, lengths and arrivals. */
export class ClassStats {
  readonly poolOffsets = new KllSketch({ k: 200 });
  poolCount = 0;
  readonly initialOffsets = new KllSketch({ k: 200 });
  initialCount = 0;
  readonly length = new KllSketch({ k: 200 });
  readonly lengthUs = new KllSketch({ k: 200 });
  readonly counts: number[];

  constructor(
    readonly bucketUs: number,
    buckets: number,
  ) {
    this.counts = new Array<number>(Math.max(1, buckets)).fill(0);
  }

  /** Adds session `i` of `p` in its role; offsets count from `at.originUs` (the capture start). */
  add(
    p: SessionProfiles,
    i: number,
    at: { role: SessionRole; originUs: number },
  ): void {
    const { role, originUs } = at;
    const offset = (p.firstUs[i] as number) - originUs;
    if (role === SessionRole.Pool) {
      this.poolCount++;
      this.poolOffsets.update(offset);
      return;
    }
    this.length.update(p.events[i] as number);
    this.lengthUs.update(
      Math.max(0, (p.lastEndUs[i] as number) - (p.firstUs[i] as number)),
    );
    if (role === SessionRole.Initial) {
      this.initialCount++;
      this.initialOffsets.update(offset);
      return;
    }
    const b = Math.min(
      this.counts.length - 1,
      Math.max(0, Math.floor(offset / this.bucketUs)),
    );
    this.counts[b] = (this.counts[b] as number) + 1;
  }
}

/** Draws observed values of a sketch (no interpolation between them): lengths stay whole counts. */
export class DiscreteSampler {
  readonly #values: Float64Array;
  readonly #cumulative: Float64Array;
  readonly #total: number;

  constructor(state: KllSketchState) {
    const { values, weights, total } = kllWeightedItems(state);
    this.#values = values;
    this.#cumulative = new Float64Array(values.length);
    let c = 0;
    for (let i = 0; i < values.length; i++) {
      c += weights[i] as number;
      this.#cumulative[i] = c;
    }
    this.#total = total;
  }

  get empty(): boolean {
    return this.#values.length === 0;
  }

  sample(rng: Rng): number {
    const n = this.#values.length;
    if (n === 0) return 0;
    const u = rng.next() * this.#total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.#cumulative[mid] as number) > u) hi = mid;
      else lo = mid + 1;
    }
    return this.#values[lo] as number;
  }
}

/** One entry of a class's connection attributes: the attributes and how many sessions had them. */
export type ClassConn = ConnAttributes & { sessions: number };

/**
 * A class's connection attributes for its state: most sessions first (ties by key); attributes
 * named by fewer than `minSessions` sessions (strict privacy's k) count as none named. Undefined
 * when the class's sessions name none.
 */
export function classConns(
  conns: ReadonlyMap<string, number>,
  minSessions: number,
): ClassConn[] | undefined {
  const kept = new Map<string, number>();
  for (const [k, n] of conns) {
    const key = n >= minSessions ? k : '';
    kept.set(key, (kept.get(key) ?? 0) + n);
  }
  if ([...kept.keys()].every((k) => k === '')) return undefined;
  return [...kept.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, n]) => ({
      ...(k === '' ? {} : (JSON.parse(k) as ConnAttributes)),
      sessions: n,
    }));
}

/** The part of a class label that names its connection attributes (` of web@shop/app`, or ''). */
export function connLabel(conns: readonly ClassConn[] | undefined): string {
  if (!conns || conns.length === 0) return '';
  if (conns.length > 1) return ` of ${conns.length} connection kinds`;
  const c = conns[0] as ClassConn;
  const who = `${c.user ?? ''}${c.database !== undefined ? `@${c.database}` : ''}`;
  return ` of ${who}${c.application !== undefined ? `/${c.application}` : ''}`;
}
