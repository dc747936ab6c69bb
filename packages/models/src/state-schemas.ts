import { KllSketchState, ParamType } from '@stb/core';
import { z } from 'zod';

/**
 * zod schemas of the parameter and arrival model states stored in a model artifact. They are
 * plain JSON data: counts and mergeable sketches, so states fitted on shards can be merged.
 */

/**
 * A KLL quantile sketch (`levels[h]` holds items of weight 2^h; exact while `n <= k`): the
 * serialised state of `@stb/core`'s `KllSketch`, re-exported here because artifacts embed it.
 */
export { KllSketchState };

/** A typed value as a string key: `<type>:<JSON of the value>`. */
const ValueKey = z.string();

/**
 * Frequent values of a slot (SpaceSaving): exact while `overflow` is false, else the heavy hitters
 * with their count, overestimation `error` and the number of distinct sessions they were seen in
 * (capped at the privacy threshold).
 */
export const FrequencyState = z.object({
  capacity: z.number().int().positive(),
  n: z.number().int().nonnegative(),
  overflow: z.boolean(),
  items: z.array(
    z.object({
      key: ValueKey,
      count: z.number().int().positive(),
      error: z.number().int().nonnegative(),
      sessions: z.number().int().nonnegative(),
    }),
  ),
});
export type FrequencyState = z.infer<typeof FrequencyState>;

/** Length and character-class model of high-cardinality strings. */
export const StringShapeState = z.object({
  n: z.number().int().nonnegative(),
  length: KllSketchState,
  /** Per position (first N positions): counts per character class `[lower, upper, digit, space, other]`. */
  positions: z.array(z.array(z.number().nonnegative())),
  /** Counts per class over all positions. */
  classes: z.array(z.number().nonnegative()),
  /** Counts of the `other` characters seen (punctuation and non-ASCII), capped in size. */
  others: z.record(z.string(), z.number().nonnegative()),
});
export type StringShapeState = z.infer<typeof StringShapeState>;

/**
 * Emails: the local part's shape, and the domains (and top-level domains) seen in at least k
 * sessions (every domain when literals are kept).
 */
export const EmailFormatState = z.object({
  n: z.number().int().nonnegative(),
  /** Longest email seen, in characters (code points): generated emails never exceed it. */
  maxLength: z.number().int().nonnegative(),
  local: StringShapeState,
  domains: FrequencyState,
  tlds: FrequencyState,
});
export type EmailFormatState = z.infer<typeof EmailFormatState>;

/** UUIDs: counts per version digit, and how many were written in upper case. */
export const UuidFormatState = z.object({
  n: z.number().int().nonnegative(),
  versions: z.record(z.string(), z.number().int().nonnegative()),
  upper: z.number().int().nonnegative(),
});
export type UuidFormatState = z.infer<typeof UuidFormatState>;

/** LIKE patterns (a `%` at either end): how often each end has one, and the shape of the rest. */
export const LikeFormatState = z.object({
  n: z.number().int().nonnegative(),
  leading: z.number().int().nonnegative(),
  trailing: z.number().int().nonnegative(),
  core: StringShapeState,
});
export type LikeFormatState = z.infer<typeof LikeFormatState>;

/** Numeric values (int, float, bigint). */
export const NumericState = z.object({
  /** True while every value was an integer. */
  integer: z.boolean(),
  sketch: KllSketchState,
  /** Under privacy: an interpolation curve of quantiles replaces the sketch's items. */
  quantiles: z.array(z.number()).optional(),
});
export type NumericState = z.infer<typeof NumericState>;

/** Timestamps as offsets from the event's start time, plus their text format. */
export const TimestampState = z.object({
  offsetUs: KllSketchState,
  /** Format descriptors with counts (see `formatTimestamp`). */
  formats: z.record(z.string(), z.number().int().nonnegative()),
  /** Under privacy: quantile curve of the offsets. */
  quantiles: z.array(z.number()).optional(),
});
export type TimestampState = z.infer<typeof TimestampState>;

/** Within-session reuse: how often a slot took a value that an earlier slot of the session held. */
export const ReuseState = z.object({
  sources: z.array(
    z.object({
      templateId: z.string(),
      slot: z.number().int().nonnegative(),
      count: z.number().int().positive(),
    }),
  ),
});
export type ReuseState = z.infer<typeof ReuseState>;

/**
 * JSON documents: skeletons (the document with every leaf replaced by an empty value of its type,
 * so keys, nesting and array lengths stay; keys seen in fewer than k sessions are dropped) and a
 * model per leaf path (`a.b`, `tags[]`), which applies the same rules as a slot.
 */
export interface JsonFormatState {
  n: number;
  skeletons: FrequencyState;
  leaves: Record<string, SlotModelState>;
}

/**
 * Format-preserving synthesis of text values (strings, JSON, UUIDs): how many values of each
 * type were of each format, and a model per format.
 */
export interface StringFormatsState {
  /** Per value type (`string`, `json`, `uuid`): counts per format (`email`, `uuid`, `json`, `like`, `plain`). */
  kinds: Record<string, Record<string, number>>;
  email?: EmailFormatState | undefined;
  uuid?: UuidFormatState | undefined;
  like?: LikeFormatState | undefined;
  json?: JsonFormatState | undefined;
  /** Plain text: length (in characters) and character classes per position, by code point. */
  plain?: StringShapeState | undefined;
}

/** The model of one parameter slot of one template. */
export interface SlotModelState {
  /** Observations. */
  n: number;
  /** Observations per value type. */
  types: Partial<Record<ParamType, number>>;
  /** Frequent values (categorical part). */
  freq: FrequencyState;
  numeric?: NumericState | undefined;
  strings?: StringShapeState | undefined;
  timestamp?: TimestampState | undefined;
  /** Dates: offset in days from the event's UTC date. */
  date?: NumericState | undefined;
  /** Lists (IN-lists, multi-row VALUES): length and a model of the elements. */
  list?: { length: NumericState; element: SlotModelState } | undefined;
  reuse?: ReuseState | undefined;
  /** Format-preserving models of the slot's text values (absent in artifacts before it existed). */
  formats?: StringFormatsState | undefined;
}

export const SlotModelState: z.ZodType<SlotModelState> = z.lazy(() =>
  z.object({
    n: z.number().int().nonnegative(),
    types: z.partialRecord(ParamType, z.number().int().nonnegative()),
    freq: FrequencyState,
    numeric: NumericState.optional(),
    strings: StringShapeState.optional(),
    timestamp: TimestampState.optional(),
    date: NumericState.optional(),
    list: z
      .object({ length: NumericState, element: SlotModelState })
      .optional(),
    reuse: ReuseState.optional(),
    formats: StringFormatsState.optional(),
  }),
);

const JsonFormatStateSchema: z.ZodType<JsonFormatState> = z.lazy(() =>
  z.object({
    n: z.number().int().nonnegative(),
    skeletons: FrequencyState,
    leaves: z.record(z.string(), SlotModelState),
  }),
);

export const StringFormatsState: z.ZodType<StringFormatsState> = z.lazy(() =>
  z.object({
    kinds: z.record(
      z.string(),
      z.record(z.string(), z.number().int().nonnegative()),
    ),
    email: EmailFormatState.optional(),
    uuid: UuidFormatState.optional(),
    like: LikeFormatState.optional(),
    json: JsonFormatStateSchema.optional(),
    plain: StringShapeState.optional(),
  }),
);

/** Parameter models of every template: one {@link SlotModelState} per slot. */
export const ParameterModelState = z.object({
  stateVersion: z.literal(1),
  templates: z.record(z.string(), z.array(SlotModelState)),
});
export type ParameterModelState = z.infer<typeof ParameterModelState>;

/** The arrival process: session starts per time bucket, think times, durations, session lengths. */
export const ArrivalModelState = z.object({
  stateVersion: z.literal(1),
  /** Epoch µs of the first bucket's start (the first session start of the source). */
  originUs: z.number().int(),
  /** Width of a bucket, µs. */
  bucketUs: z.number().int().positive(),
  /** Session starts per bucket. */
  sessionStarts: z.array(z.number().int().nonnegative()),
  /** Time from the first to the last event of the source, µs (the profile's period is at least one bucket). */
  spanUs: z.number().int().nonnegative(),
  /** Statements per session. */
  sessionLength: KllSketchState,
  /**
   * Think time: from the end of a statement (start + duration, or start when durations are
   * unknown) to the start of the next one in the same session, µs.
   */
  thinkTime: z.object({
    all: KllSketchState,
    byPrev: z.record(z.string(), KllSketchState),
    /** Keyed `<prev template id>><next template id>`. */
    byTransition: z.record(z.string(), KllSketchState),
  }),
  /** Minimum observations before a conditional think-time sketch is used. */
  minConditionalCount: z.number().int().positive(),
  /** Per-template statement duration, µs (only templates whose events carried durations). */
  duration: z.record(z.string(), KllSketchState),
});
export type ArrivalModelState = z.infer<typeof ArrivalModelState>;

/**
 * How the units of work (a transaction, or a statement outside one) of a class's pooled connections
 * arrive (docs/models.md "Dispatched units"): `dispatch` — one class-wide renewal process with gaps
 * `gapUs`, each unit taken by the connection that becomes free first (pgbench `-R`, sysbench
 * `--rate`, a pool behind a request queue); `independent` — each connection's own think times.
 * Chosen by comparing the observed variance-to-mean ratio of unit starts per `windowUs` window with
 * each model's prediction.
 */
export const UnitProcessState = z.object({
  mode: z.enum(['dispatch', 'independent']),
  /** Gaps between consecutive unit starts of the class, µs. */
  gapUs: KllSketchState,
  /** Window of the decision, µs. */
  windowUs: z.number().positive(),
  /** Variance-to-mean ratio of unit starts per window: observed, and predicted by each model. */
  observedVmr: z.number().nonnegative(),
  independentVmr: z.number().nonnegative(),
  dispatchVmr: z.number().nonnegative(),
  /**
   * Unit starts per bucket of the capture (from its start), present only when the class's rate
   * varied beyond chance over the capture (a χ² test of a flat rate at p < 0.001: connections
   * opening over seconds, phases). A generator runs the class's schedule through it, so a ramp
   * or a phase comes back where it was; past the capture the schedule continues at the gaps'
   * own rate. Absent: a stationary schedule (docs/models.md "Dispatched units").
   */
  profile: z
    .object({
      bucketUs: z.number().int().positive(),
      counts: z.array(z.number().int().nonnegative()),
    })
    .optional(),
});
export type UnitProcessState = z.infer<typeof UnitProcessState>;

/** One session class of a {@link SessionModelState} (docs/models.md "Session model"). */
export const SessionClassState = z.object({
  /** Class index (its position in `classes`). */
  id: z.number().int().nonnegative(),
  /** Human-readable description: kind (pool / arriving), dominant template, connection attributes. */
  label: z.string(),
  /** Connection attributes shared by the class's sessions, when the trace carried them. */
  attrs: z.record(z.string(), z.string()).optional(),
  /** Template id most of the class's statements used (the behaviour key). */
  dominantTemplate: z.string(),
  /** Source sessions and statements in the class (its share of the workload). */
  sessions: z.number().int().nonnegative(),
  statements: z.number().int().nonnegative(),
  /**
   * The connection attributes (trace `conn`: user, database, application name) of the class's
   * sessions, most sessions first: each generated session takes one, drawn by these counts. An
   * entry without attributes counts the sessions that named none (or, with strict privacy, named
   * attributes fewer than k sessions had). Absent when no session named any.
   */
  conns: z
    .array(
      z.object({
        user: z.string().optional(),
        database: z.string().optional(),
        application: z.string().optional(),
        sessions: z.number().int().positive(),
      }),
    )
    .optional(),
  /**
   * Pooled connections: sessions open at the capture's last event that lived at least a quarter of
   * the capture (right-censored). They start at the learned offsets and stay open for the whole
   * generated span.
   */
  pool: z.object({
    count: z.number().int().nonnegative(),
    /** Offset of each pooled session's first statement from the capture start, µs. */
    offsetUs: KllSketchState,
  }),
  /**
   * Sessions open at the capture's first statement that ended within it: generated once, at the
   * learned offsets, with the class's lengths (they arrived before the capture began).
   */
  initial: z.object({
    count: z.number().int().nonnegative(),
    offsetUs: KllSketchState,
  }),
  /**
   * Sessions that started and ended within the capture: their starts per bucket (relative to the capture
   * start), tiled with period `buckets × bucketUs` for longer runs.
   */
  arrivals: z.object({
    bucketUs: z.number().int().positive(),
    counts: z.array(z.number().int().nonnegative()),
  }),
  /** How the pooled connections' units of work arrive; absent when the data could not decide. */
  units: UnitProcessState.optional(),
  /** Statements per ended session. */
  length: KllSketchState,
  /** Time from first statement start to last statement end per ended session, µs. */
  lengthUs: KllSketchState,
  /** The sequence model's state fitted on this class's sessions alone (validated by the plugin). */
  sequence: z.unknown(),
  /** Think times and durations of this class (its `sessionStarts` and `sessionLength` mirror `arrivals` and `length`). */
  timing: ArrivalModelState,
  /**
   * Shard artifacts only: the capture-wide close index of the class's first session, so a merge
   * orders and ranks classes as one fit would.
   */
  firstClose: z.number().int().nonnegative().optional(),
});
export type SessionClassState = z.infer<typeof SessionClassState>;

/**
 * Shared think-time coupling (docs/models.md "Think-time coupling"): sums of the products of the
 * normal scores of think times of different sessions, by how many draws apart they were drawn.
 */
export const ThinkTimeCouplingState = z.object({
  /** Upper ends of the lag bins, in think times drawn (the first bin is lag 1). */
  lags: z.array(z.number().int().positive()),
  /** Per bin: Σ z·z′ over pairs of gaps of different sessions. */
  sums: z.array(z.number()),
  /** Per bin: the pairs counted. */
  pairs: z.array(z.number().int().nonnegative()),
  /** Think times scored, and the sum and the sum of squares of their scores. */
  gaps: z.number().int().nonnegative(),
  sum: z.number(),
  sumSquares: z.number().nonnegative(),
});
export type ThinkTimeCouplingState = z.infer<typeof ThinkTimeCouplingState>;

/** The session model: session classes with their sizes, lengths and arrivals (artifact format 2). */
export const SessionModelState = z.object({
  stateVersion: z.literal(1),
  /** Epoch µs of the capture's first statement start and last statement end. */
  captureStartUs: z.number().int(),
  captureEndUs: z.number().int(),
  /** Time resolution of the source trace, µs (header `timeResolutionUs`). */
  timeResolutionUs: z.number().int().positive(),
  /** Mean number of sessions open at once in the source (session time ÷ capture span). */
  meanConcurrency: z.number().nonnegative(),
  classes: z.array(SessionClassState),
  /** How sessions' think times move together; absent when they are independent (older fits). */
  coupling: ThinkTimeCouplingState.optional(),
});
export type SessionModelState = z.infer<typeof SessionModelState>;
