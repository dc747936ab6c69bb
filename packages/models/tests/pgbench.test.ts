import type { ParamValue, TraceEvent } from '@stb/core';
import { createRng } from '@stb/core';
import type { ModelArtifact, WorkloadSampler } from '../src/index';
import {
  createModelRegistry,
  createWorkloadSampler,
  fitWorkloadModel,
} from '../src/index';
import type { LoadedTrace } from './helpers/real-log';
import { loadSampleTrace, templateId } from './helpers/real-log';

/**
 * Real pgbench (TPC-B-like, 4 clients × 300 transactions, PostgreSQL 15, log_statement = all),
 * parsed by @stb/parser and templated by @stb/extractor: fit, generate, and check pgbench's fixed
 * statement order and the reuse of aid/tid/bid/delta.
 */
let trace: LoadedTrace;
let BEGIN: string;
let UPD_ACC: string;
let SEL: string;
let UPD_TEL: string;
let UPD_BR: string;
let INS: string;
let END: string;
let ORDER: string[];

beforeAll(async () => {
  trace = await loadSampleTrace(
    'pg-tpcb-simple-logstatement',
    'postgresql.log.gz',
  );
  const byText = (prefix: string): string => templateId(trace, prefix);
  BEGIN = byText('BEGIN');
  UPD_ACC = byText('UPDATE pgbench_accounts');
  SEL = byText('SELECT abalance');
  UPD_TEL = byText('UPDATE pgbench_tellers');
  UPD_BR = byText('UPDATE pgbench_branches');
  INS = byText('INSERT INTO pgbench_history');
  END = byText('END');
  ORDER = [BEGIN, UPD_ACC, SEL, UPD_TEL, UPD_BR, INS, END];
});

async function* stream(events: TraceEvent[]): AsyncGenerator<TraceEvent> {
  yield* events;
}

interface Generated {
  templateId: string;
  params: ParamValue[];
}

function generate(sampler: WorkloadSampler, sessions: number): Generated[][] {
  const out: Generated[][] = [];
  for (let s = 0; s < sessions; s++) {
    const rng = createRng(42).derive(s);
    const state = sampler.newSession(rng);
    const events: Generated[] = [];
    let t = 0;
    for (const id of sampler.sequence.nextSession(rng)) {
      t += sampler.thinkTimeUs(events[events.length - 1]?.templateId, id, rng);
      events.push({
        templateId: id,
        params: sampler.params(id, state, rng, 1.7e15 + t),
      });
    }
    out.push(events);
  }
  return out;
}

function checkTransactions(sessions: Generated[][]): number {
  let txns = 0;
  for (const events of sessions) {
    const ids = events.map((e) => e.templateId);
    // drop a setup session (pgbench's first connection) if generated
    if (!ids.includes(BEGIN)) continue;
    expect(ids.length % 7).toBe(0);
    for (let i = 0; i < ids.length; i += 7) {
      const [, acc, sel, tel, br, ins] = events.slice(i, i + 7);
      const v = (g: Generated | undefined, k: number): unknown =>
        g?.params[k]?.v;
      // one comparison per transaction keeps the failure message readable and the test fast:
      // UPDATE accounts SET abalance = abalance + $1(delta) WHERE aid = $2;
      // INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, …)
      expect({
        order: ids.slice(i, i + 7),
        aid: [v(sel, 0), v(ins, 2)],
        delta: [v(tel, 0), v(br, 0), v(ins, 3)],
        tid: v(ins, 0),
        bid: v(ins, 1),
      }).toEqual({
        order: ORDER,
        aid: [v(acc, 1), v(acc, 1)],
        delta: [v(acc, 0), v(acc, 0), v(acc, 0)],
        tid: v(tel, 1),
        bid: v(br, 1),
      });
      txns++;
    }
  }
  return txns;
}

describe('pgbench sample log', () => {
  let artifact: ModelArtifact;
  const registry = createModelRegistry();

  beforeAll(async () => {
    expect(trace.events).toHaveLength(8405);
    artifact = await fitWorkloadModel(() => stream(trace.events), {
      catalog: trace.templates,
      header: trace.header,
      model: registry.get('markov'),
      modelOptions: { order: 1 },
      seed: 1,
    });
  });

  it('summarises the source', () => {
    expect(artifact.source).toMatchObject({
      events: 8405,
      sessions: 5,
      templates: 12,
    });
    expect(artifact.templates.find((t) => t.id === SEL)?.count).toBe(1200);
  });

  it('markov reproduces the exact statement order and the reuse of aid/tid/bid/delta', () => {
    const sampler = createWorkloadSampler(artifact, { registry });
    const txns = checkTransactions(generate(sampler, 12));
    expect(txns).toBeGreaterThan(300);
  });

  it('generated parameters follow the source ranges', () => {
    const sampler = createWorkloadSampler(artifact, { registry });
    const sessions = generate(sampler, 20);
    const deltas = sessions
      .flat()
      .filter((e) => e.templateId === UPD_ACC)
      .map((e) => e.params[0]?.v as number);
    expect(
      deltas.every((d) => Number.isInteger(d) && d >= -5000 && d <= 5000),
    ).toBe(true);
    const tids = new Set(
      sessions
        .flat()
        .filter((e) => e.templateId === UPD_TEL)
        .map((e) => e.params[1]?.v),
    );
    const sourceTids = new Set(
      trace.events
        .filter((e) => e.templateId === UPD_TEL)
        .map((e) => e.params[1]?.v),
    );
    for (const t of tids) expect(sourceTids.has(t as number)).toBe(true);
  });

  it('hmm with enough states reproduces the statement order too', async () => {
    const hmm = await fitWorkloadModel(() => stream(trace.events), {
      catalog: trace.templates,
      header: trace.header,
      model: registry.get('hmm'),
      modelOptions: { states: 12, restarts: 4, maxIterations: 60 },
      seed: 3,
    });
    const sampler = createWorkloadSampler(hmm, { registry });
    let ok = 0;
    let all = 0;
    for (const events of generate(sampler, 30)) {
      const ids = events.map((e) => e.templateId);
      for (let i = 0; i + 7 <= ids.length; i++) {
        if (ids[i] !== BEGIN) continue;
        all++;
        if (ids.slice(i, i + 7).every((id, k) => id === ORDER[k])) ok++;
      }
    }
    expect(all).toBeGreaterThan(100);
    expect(ok / all).toBeGreaterThan(0.95);
  });

  it('learns arrivals: session starts in the first bucket, think times and a period covering the run', () => {
    const sampler = createWorkloadSampler(artifact, { registry });
    const p = sampler.sessionStarts;
    expect(p.sessionArrivalRate[0]).toBeGreaterThan(0);
    expect(p.periodUs).toBeGreaterThanOrEqual(
      artifact.source.endUs - artifact.source.startUs,
    );
    const rng = createRng(5);
    let t = -1;
    const starts: number[] = [];
    for (let i = 0; i < 50; i++)
      starts.push((t = p.nextSessionOffsetUs(t, rng)));
    for (let i = 1; i < starts.length; i++)
      expect(starts[i] as number).toBeGreaterThanOrEqual(
        starts[i - 1] as number,
      );
    const think = sampler.thinkTimeUs(UPD_ACC, SEL, rng);
    expect(think).toBeGreaterThanOrEqual(0);
    expect(think).toBeLessThan(1e6);
    expect(sampler.thinkTimeUs(undefined, BEGIN, rng)).toBe(0);
    expect(sampler.durationUs(SEL, rng)).toBeUndefined();
  });
});
