import type { ParamValue, QueryTemplate, Rng } from '@stb/core';
import type { ModelArtifact } from './artifact';
import { createArrivalProfile, TimingSampler } from './internal/arrival';
import { ReuseTable, SlotSampler } from './internal/param-sample';
import type { SlotModelState } from './state-schemas';
import type {
  CreateWorkloadSamplerOptions,
  SessionParamState,
  WorkloadSampler,
} from './workload-types';

interface TemplateParams {
  slots: { sampler: SlotSampler; reuse: ReuseTable; key: string }[];
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

  const paramsOf = (templateId: string): TemplateParams => {
    let tp = perTemplate.get(templateId);
    if (tp) return tp;
    const models: SlotModelState[] =
      artifact.parameters.templates[templateId] ?? [];
    tp = {
      slots: models.map((m, i) => ({
        sampler: new SlotSampler(m),
        reuse: new ReuseTable(m),
        key: `${templateId}#${i}`,
      })),
    };
    perTemplate.set(templateId, tp);
    return tp;
  };

  return {
    artifact,
    templates,
    sequence,
    newSession(): SessionParamState {
      return { lastValues: new Map() };
    },
    // eslint-disable-next-line max-params -- the generator's per-statement call, fixed by the API
    params(templateId, session, rng, eventStartUs) {
      const tp = paramsOf(templateId);
      const out: ParamValue[] = [];
      for (const slot of tp.slots) {
        const source = slot.reuse.pick(rng);
        const reused =
          source === undefined ? undefined : session.lastValues.get(source);
        const value = reused ?? slot.sampler.sample(rng, eventStartUs);
        session.lastValues.set(slot.key, value);
        out.push(value);
      }
      const template = templates.get(templateId);
      if (template && template.slots.length > out.length) {
        for (let i = out.length; i < template.slots.length; i++)
          out.push(defaultValue(template.slots[i]?.type ?? 'null'));
      }
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
