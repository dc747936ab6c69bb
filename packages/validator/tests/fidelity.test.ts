import {
  createRng,
  isStbError,
  TemplateCatalog,
  type TraceEvent,
  ValidationReport,
} from '@stb/core';

import {
  defaultWeights,
  parseWeights,
  type TraceInput,
  validateTraces,
} from '../src/index';
import { type MemoryTrace, readSampleTrace } from './helpers/sample-trace';

// Real traces: the sample logs through @stb/parser and @stb/extractor.
let base: MemoryTrace;
let withDurations: MemoryTrace;
beforeAll(async () => {
  base = await readSampleTrace('pg-tpcb-simple-logstatement');
  withDurations = await readSampleTrace('pg-tpcb-simple-logduration');
});

const input = (t: MemoryTrace, events = t.events): TraceInput => ({
  catalog: t.templates,
  events,
});

function scoreOf(r: ValidationReport, id: string): number {
  const p = r.properties.find((x) => x.id === id);
  if (p?.score === null || p?.score === undefined)
    throw new Error(`property ${id} has no score`);
  return p.score;
}

async function compare(
  events: TraceEvent[],
  original = base,
): Promise<ValidationReport> {
  return validateTraces(input(original), input(original, events), {
    createdAt: '2026-01-01T00:00:00.000Z',
  });
}

function bySession(events: TraceEvent[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  events.forEach((e, i) => {
    const list = out.get(e.sessionId) ?? [];
    list.push(i);
    out.set(e.sessionId, list);
  });
  return out;
}

/** Permutes the statements (template + params) among a share of each session's positions; times stay. */
function shuffleWithinSessions(
  events: TraceEvent[],
  strength: number,
  seed = 1,
): TraceEvent[] {
  const rng = createRng(seed);
  const out = events.map((e) => ({ ...e }));
  for (const idx of bySession(events).values()) {
    const chosen = idx.filter(() => rng.next() < strength);
    const perm = [...chosen];
    for (let i = perm.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [perm[i], perm[j]] = [perm[j] as number, perm[i] as number];
    }
    chosen.forEach((target, k) => {
      const src = events[perm[k] as number] as TraceEvent;
      const t = out[target] as TraceEvent;
      t.templateId = src.templateId;
      t.params = src.params;
    });
  }
  return out;
}

function scaleTime(events: TraceEvent[], factor: number): TraceEvent[] {
  const t0 = events[0]?.startUs ?? 0;
  return events.map((e) => ({
    ...e,
    startUs: Math.round(t0 + (e.startUs - t0) * factor),
  }));
}

/** Moves `strength` × (count(a) − count(b)) events of the most frequent template to the rarest. */
function swapFrequencies(events: TraceEvent[], strength: number): TraceEvent[] {
  const counts = new Map<string, number>();
  for (const e of events)
    counts.set(e.templateId, (counts.get(e.templateId) ?? 0) + 1);
  const sorted = [...counts].sort(
    (x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1),
  );
  const [hi, nHi] = sorted[0] as [string, number];
  const [lo, nLo] = sorted[sorted.length - 1] as [string, number];
  let move = Math.round(strength * (nHi - nLo));
  return events.map((e) => {
    if (move > 0 && e.templateId === hi) {
      move--;
      return { ...e, templateId: lo };
    }
    return e;
  });
}

function expectDecreasing(xs: number[]): void {
  for (let i = 1; i < xs.length; i++)
    expect(xs[i]).toBeLessThan(xs[i - 1] as number);
}

describe('validateTraces on a real pgbench trace', () => {
  it('scores a trace against itself exactly 1.0, every applicable property 1', async () => {
    const r = await compare(base.events);
    expect(ValidationReport.safeParse(r).success).toBe(true);
    expect(r.score).toBe(1);
    for (const p of r.properties) if (p.applicable) expect(p.score).toBe(1);
    expect(r.original.events).toBe(8405);
    expect(r.original.sessions).toBe(5);
    expect(r.original.templates).toBe(12);
    expect(r.properties.find((p) => p.id === 'durations')?.applicable).toBe(
      false,
    );
  });

  it('scores 1.0 with durations too, and compares them', async () => {
    const r = await compare(withDurations.events, withDurations);
    expect(r.score).toBe(1);
    expect(r.properties.find((p) => p.id === 'durations')?.applicable).toBe(
      true,
    );
  });

  it('shuffling within sessions lowers transitions, not templates, monotonically in strength', async () => {
    const scores: number[] = [1];
    for (const s of [0.1, 0.3, 0.6, 1]) {
      const r = await compare(shuffleWithinSessions(base.events, s));
      expect(scoreOf(r, 'templates')).toBe(1);
      expect(scoreOf(r, 'queryTypes')).toBe(1);
      expect(scoreOf(r, 'interArrival')).toBe(1);
      scores.push(scoreOf(r, 'transitions'));
    }
    expectDecreasing(scores);
    expect(scores[4]).toBeLessThan(0.6);
  });

  // the rate-limited run (pgbench -R 60, 8 s): gaps vary, unlike the 0/1 ms gaps of the unthrottled one
  it('scaling inter-arrival times lowers the arrival scores, monotonically in the factor', async () => {
    const ia: number[] = [1];
    const think: number[] = [1];
    for (const f of [1.25, 1.5, 2, 4]) {
      const r = await compare(
        scaleTime(withDurations.events, f),
        withDurations,
      );
      expect(scoreOf(r, 'templates')).toBe(1);
      expect(scoreOf(r, 'transitions')).toBe(1);
      ia.push(scoreOf(r, 'interArrival'));
      think.push(scoreOf(r, 'thinkTime'));
      expect(r.score).toBeLessThan(1);
    }
    expectDecreasing(ia);
    expectDecreasing(think);
  });

  it('swapping two templates’ frequencies lowers the template score, monotonically in strength', async () => {
    const scores: number[] = [1];
    for (const s of [0.1, 0.25, 0.5, 1]) {
      const r = await compare(swapFrequencies(base.events, s));
      scores.push(scoreOf(r, 'templates'));
      const t = r.properties.find((p) => p.id === 'templates');
      expect(t?.test?.pValue).toBeLessThan(1e-3);
    }
    expectDecreasing(scores);
  });

  it('composite follows the weights and excludes inapplicable properties', async () => {
    const r = await validateTraces(
      input(base),
      input(base, scaleTime(base.events, 2)),
      {
        weights: { durations: 5, templates: 0 },
      },
    );
    let num = 0;
    let den = 0;
    for (const p of r.properties) {
      if (!p.applicable || p.score === null) continue;
      num += p.weight * p.score;
      den += p.weight;
    }
    expect(r.score).toBeCloseTo(num / den, 12);
    expect(r.weights['templates']).toBe(0);
    expect(r.weights['queryTypes']).toBe(defaultWeights.queryTypes);
  });

  it('looks templates up after the stream, so a catalog may fill while events flow', async () => {
    const catalog = new TemplateCatalog();
    const byId = new Map(base.templates.map((t) => [t.id, t]));
    async function* events(): AsyncGenerator<TraceEvent> {
      for (const e of base.events) {
        const t = byId.get(e.templateId);
        if (t) catalog.add(t);
        yield e;
      }
    }
    const r = await validateTraces(
      input(base),
      { catalog, events: events() },
      { minScore: 0.99 },
    );
    expect(r.score).toBe(1);
    expect(r.passed).toBe(true);
    expect(r.warnings).toEqual([]);
    expect(r.templates.every((t) => t.queryType !== undefined)).toBe(true);
  });

  it('fails a threshold and rejects bad options with stable codes', async () => {
    const r = await validateTraces(
      input(base),
      input(base, swapFrequencies(base.events, 1)),
      {
        minScore: 0.999,
      },
    );
    expect(r.passed).toBe(false);
    await expect(
      validateTraces(input(base), input(base), { minScore: 2 }),
    ).rejects.toMatchObject({
      code: 'STB_OPTIONS_INVALID',
    });
    expect(() => parseWeights('nope=1')).toThrow(/Unknown weight `nope`/);
    try {
      parseWeights('templates=-1');
    } catch (e) {
      expect(isStbError(e, 'STB_OPTIONS_INVALID')).toBe(true);
    }
    expect(parseWeights('templates=3, durations=0')).toMatchObject({
      templates: 3,
      durations: 0,
    });
  });

  it('aborts on a signal', async () => {
    const ac = new AbortController();
    ac.abort();
    async function* many(): AsyncGenerator<TraceEvent> {
      for (let i = 0; i < 4; i++) yield* base.events;
    }
    await expect(
      validateTraces(
        input(base),
        { catalog: base.templates, events: many() },
        { signal: ac.signal },
      ),
    ).rejects.toMatchObject({ code: 'STB_ABORTED' });
  });
});
