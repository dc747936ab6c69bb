import { kllWeightedItems } from '@stb/core';
import type { ConnAttributes, ParamValue, QueryTemplate, Rng } from '@stb/core';
import type { ModelArtifact } from './artifact';
import { createArrivalProfile, TimingSampler } from './internal/arrival';
import { InverseCdfSampler } from './internal/inverse-cdf';
import { thinkTimeCoupling } from './internal/coupling';
import type { ThinkTimeCoupling } from './internal/coupling';
import { DiscreteSampler } from './internal/session-classes';
import { ReuseTable, SlotSampler } from './internal/param-sample';
import type {
  KllSketchState,
  SessionClassState,
  SlotModelState,
} from './state-schemas';
import type {
  CreateWorkloadSamplerOptions,
  SessionClassSampler,
  SessionParamState,
  WorkloadSampler,
} from './workload-types';

interface SlotParams {
  sampler: SlotSampler;
  reuse: ReuseTable;
  /** `<templateId>#<slot>`: this slot's key in `SessionParamState.lastValues`. */
  key: string;
  /** This slot's index in {@link SessionValues}. */
  index: number;
  /** Index in {@link SessionValues} of each of `reuse.keys`. */
  sources: Int32Array;
}

interface TemplateParams {
  slots: SlotParams[];
  /** Types of the template's slots beyond the modelled ones (filled with defaults). */
  padTypes: string[];
}

/**
 * Per-session parameter memory by interned slot index (no string keys on the hot path). The
 * `lastValues` map of the public interface is built on demand.
 */
class SessionValues implements SessionParamState {
  readonly values: (ParamValue | undefined)[] = [];
  readonly #names: readonly string[];

  constructor(names: readonly string[]) {
    this.#names = names;
  }

  get lastValues(): Map<string, ParamValue> {
    const out = new Map<string, ParamValue>();
    this.values.forEach((v, i) => {
      if (v !== undefined) out.set(this.#names[i] as string, v);
    });
    return out;
  }
}

function defaultValue(type: string): ParamValue {
  switch (type) {
    case 'int':
      return { t: 'int', v: 0 };
    case 'float':
      return { t: 'float', v: 0 };
    case 'string':
      return { t: 'string', v: '' };
    case 'bool':
      return { t: 'bool', v: false };
    default:
      return { t: 'null', v: null };
  }
}

/**
 * Creates the sampler the generator draws from: template sequences (the artifact's sequence
 * model), parameter values with within-session reuse, think times, durations and session starts.
 * Deterministic: every draw uses only the rng passed in.
 * @throws PluginError `STB_PLUGIN_NOT_FOUND` when the artifact's model kind is not registered.
 * @example
 * const sampler = createWorkloadSampler(artifact, { registry });
 * const rng = createRng(seed).derive(sessionIndex);
 * const session = sampler.newSession(rng);
 * for (const id of sampler.sequence.nextSession(rng)) sampler.params(id, session, rng, startUs);
 */
export function createWorkloadSampler(
  artifact: ModelArtifact,
  options: CreateWorkloadSamplerOptions,
): WorkloadSampler {
  const plugin = options.registry.get(artifact.kind);
  const templates = new Map<string, QueryTemplate>(
    artifact.templates.map((t) => [t.id, t]),
  );
  const sequence = plugin.createSampler(artifact.sequence.state, {
    templates: artifact.templates,
  });
  const timing = new TimingSampler(artifact.arrival);
  const perTemplate = new Map<string, TemplateParams>();
  // `<templateId>#<slot>` keys interned to indices of SessionValues.values
  const slotNames: string[] = [];
  const slotIndex = new Map<string, number>();
  const intern = (key: string): number => {
    let i = slotIndex.get(key);
    if (i === undefined) {
      slotIndex.set(key, (i = slotNames.length));
      slotNames.push(key);
    }
    return i;
  };

  const paramsOf = (templateId: string): TemplateParams => {
    let tp = perTemplate.get(templateId);
    if (tp) return tp;
    const models: SlotModelState[] =
      artifact.parameters.templates[templateId] ?? [];
    const slots = models.map((m, i): SlotParams => {
      const reuse = new ReuseTable(
        m,
        (id, slot) => artifact.parameters.templates[id]?.[slot],
      );
      const key = `${templateId}#${i}`;
      return {
        sampler: new SlotSampler(m),
        reuse,
        key,
        index: intern(key),
        sources: Int32Array.from(reuse.keys, intern),
      };
    });
    const template = templates.get(templateId);
    tp = {
      slots,
      padTypes: (template?.slots ?? [])
        .slice(slots.length)
        .map((slot) => slot.type),
    };
    perTemplate.set(templateId, tp);
    return tp;
  };

  const classes = artifact.sessions.classes.map((c) =>
    classSampler(c, artifact, { plugin, sequence }),
  );

  return {
    artifact,
    templates,
    sequence,
    classes,
    coupling: couplingOf(artifact),
    newSession(): SessionParamState {
      return new SessionValues(slotNames);
    },
    // eslint-disable-next-line max-params -- the generator's per-statement call, fixed by the API
    params(templateId, session, rng, eventStartUs) {
      const tp = paramsOf(templateId);
      const slots = tp.slots;
      const out: ParamValue[] = [];
      if (session instanceof SessionValues) {
        const values = session.values;
        for (const slot of slots) {
          const source = slot.reuse.pickIndex(rng);
          const reused =
            source < 0 ? undefined : values[slot.sources[source] as number];
          const value = reused ?? slot.sampler.sample(rng, eventStartUs);
          values[slot.index] = value;
          out.push(value);
        }
      } else {
        // a session state made elsewhere: its `lastValues` map is the memory
        for (const slot of slots) {
          const source = slot.reuse.pick(rng);
          const reused =
            source === undefined ? undefined : session.lastValues.get(source);
          const value = reused ?? slot.sampler.sample(rng, eventStartUs);
          session.lastValues.set(slot.key, value);
          out.push(value);
        }
      }
      for (const type of tp.padTypes) out.push(defaultValue(type));
      return out;
    },
    thinkTimeUs(prev, next, rng: Rng) {
      return timing.thinkTimeUs(prev, next, rng);
    },
    durationUs(templateId, rng) {
      return timing.durationUs(templateId, rng);
    },
    sessionStarts: createArrivalProfile(artifact.arrival),
    sessionLength(rng) {
      return timing.sessionLength(rng);
    },
    endsSessions: plugin.endsSessions ?? true,
  };
}

/** The sampler of one session class (its own chain unless the model has one class). */
function classSampler(
  c: ModelArtifact['sessions']['classes'][number],
  artifact: ModelArtifact,
  shared: {
    plugin: ReturnType<CreateWorkloadSamplerOptions['registry']['get']>;
    sequence: SessionClassSampler['sequence'];
  },
): SessionClassSampler {
  const { plugin, sequence } = shared;
  const classTiming = new TimingSampler(c.timing);
  const pool = new DiscreteSampler(c.pool.offsetUs);
  const initial = new DiscreteSampler(c.initial.offsetUs);
  const length = new DiscreteSampler(c.length);
  const connection = connectionSampler(c.conns);
  const unitGaps =
    c.units?.mode === 'dispatch'
      ? InverseCdfSampler.fromSketch(c.units.gapUs)
      : undefined;
  return {
    id: c.id,
    label: c.label,
    sequence:
      artifact.sessions.classes.length === 1
        ? sequence
        : plugin.createSampler(c.sequence, {
            templates: artifact.templates,
          }),
    poolCount: c.pool.count,
    poolOffsetUs: (rng) => pool.sample(rng),
    initialCount: c.initial.count,
    initialOffsetUs: (rng) => initial.sample(rng),
    arrivalBucketUs: c.arrivals.bucketUs,
    arrivalCounts: c.arrivals.counts,
    arrivalSpanUs: c.timing.spanUs,
    connection,
    sessionLength: (rng) =>
      length.empty ? 1 : Math.max(1, Math.round(length.sample(rng))),
    thinkTimeUs: (prev, next, rng) => classTiming.thinkTimeUs(prev, next, rng),
    durationUs: (id, rng) => classTiming.durationUs(id, rng),
    unitGapUs: unitGaps ? (u) => unitGaps.at(u) : undefined,
    ...(unitGaps && c.units?.profile
      ? {
          unitProfile: {
            bucketUs: c.units.profile.bucketUs,
            counts: c.units.profile.counts,
            meanGapUs: sketchMean(c.units.gapUs),
          },
        }
      : {}),
  };
}

/** The artifact's think-time coupling, when it learned one the source supports. */
function couplingOf(artifact: ModelArtifact): ThinkTimeCoupling | undefined {
  const c = artifact.sessions.coupling;
  return c ? thinkTimeCoupling(c) : undefined;
}

/** Mean of the values a sketch summarises (its weighted items). */
function sketchMean(state: KllSketchState): number {
  const { values, weights, total } = kllWeightedItems(state);
  let sum = 0;
  for (let i = 0; i < values.length; i++)
    sum += (values[i] as number) * (weights[i] as number);
  return total > 0 ? sum / total : 0;
}

/** Draws a session's connection attributes by the class's counts (none drawn for one kind). */
function connectionSampler(
  conns: SessionClassState['conns'],
): (rng: Rng) => ConnAttributes | undefined {
  if (!conns || conns.length === 0) return () => undefined;
  const list = conns.map(({ sessions: _, ...attrs }) =>
    Object.keys(attrs).length === 0 ? undefined : attrs,
  );
  if (list.length === 1) return () => list[0];
  const cumulative: number[] = [];
  let total = 0;
  for (const c of conns) cumulative.push((total += c.sessions));
  return (rng) => {
    const u = rng.next() * total;
    let i = 0;
    while (i < cumulative.length - 1 && (cumulative[i] as number) <= u) i++;
    return list[i];
  };
}
