import type { QueryTemplate, TraceEvent, TraceHeader } from '@stb/core';
import { computeTemplateId, createRng, createTraceHeader } from '@stb/core';
import type { ModelArtifact } from '@stb/models';
import { createModelRegistry, fitWorkloadModel } from '@stb/models';

function template(
  text: string,
  queryType: QueryTemplate['queryType'],
  slots: QueryTemplate['slots'] = [],
): QueryTemplate {
  return {
    kind: 'template',
    id: computeTemplateId('postgres', text),
    text,
    queryType,
    tables: [],
    slots,
  };
}

const intSlot = (column: string | null): QueryTemplate['slots'][number] => ({
  type: 'int',
  column,
});

/** pgbench's TPC-B statements, as the extractor normalises them. */
export const TPCB = {
  begin: template('BEGIN', 'TCL'),
  updAcc: template(
    'UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2',
    'UPDATE',
    [intSlot(null), intSlot('pgbench_accounts.aid')],
  ),
  selAcc: template(
    'SELECT abalance FROM pgbench_accounts WHERE aid = $1',
    'SELECT',
    [intSlot('pgbench_accounts.aid')],
  ),
  updTel: template(
    'UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2',
    'UPDATE',
    [intSlot(null), intSlot('pgbench_tellers.tid')],
  ),
  updBr: template(
    'UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2',
    'UPDATE',
    [intSlot(null), intSlot('pgbench_branches.bid')],
  ),
  ins: template(
    'INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)',
    'INSERT',
    [
      intSlot('pgbench_history.tid'),
      intSlot('pgbench_history.bid'),
      intSlot('pgbench_history.aid'),
      intSlot('pgbench_history.delta'),
    ],
  ),
  end: template('END', 'TCL'),
};

type SourceTrace = {
  header: TraceHeader;
  templates: QueryTemplate[];
  events: TraceEvent[];
};

/** A PostgreSQL source trace of the TPC-B templates (events sorted by start). */
function sourceTrace(events: TraceEvent[]): SourceTrace {
  events.sort((a, b) => a.startUs - b.startUs);
  return {
    header: createTraceHeader({
      dialect: 'postgres',
      source: { tool: 'test' },
      createdAt: '2024-05-01T00:00:00.000Z',
    }),
    templates: Object.values(TPCB),
    events,
  };
}

/** A markov artifact fitted on a source trace. */
export function fitMarkov(
  { header, templates, events }: SourceTrace,
  o: { unitDispatch?: 'auto' | 'off' } = {},
): Promise<ModelArtifact> {
  return fitWorkloadModel(
    async function* () {
      yield* events;
    },
    {
      catalog: templates,
      header,
      model: createModelRegistry().get('markov'),
      seed: 1,
      createdAt: '2024-05-01T00:00:00.000Z',
      ...o,
    },
  );
}

/** A small TPC-B-like source trace: sessions of BEGIN … END transactions with realistic timing. */
export function tpcbTrace(sessions: number): SourceTrace {
  const rng = createRng(12345);
  const events: TraceEvent[] = [];
  const t0 = Date.UTC(2024, 4, 1) * 1000;
  let arrival = t0;
  for (let s = 0; s < sessions; s++) {
    arrival += Math.round(rng.exponential(2) * 1e6);
    let t = arrival;
    const txns = 3 + rng.int(8);
    const sessionEvents: TraceEvent[] = [];
    for (let x = 0; x < txns; x++) {
      const aid = 1 + rng.int(100000);
      const tid = 1 + rng.int(10);
      const delta = rng.int(10001) - 5000;
      const stmts: [QueryTemplate, number[]][] = [
        [TPCB.begin, []],
        [TPCB.updAcc, [delta, aid]],
        [TPCB.selAcc, [aid]],
        [TPCB.updTel, [delta, tid]],
        [TPCB.updBr, [delta, 1]],
        [TPCB.ins, [tid, 1, aid, delta]],
        [TPCB.end, []],
      ];
      for (const [tpl, values] of stmts) {
        const durationUs = 50 + Math.round(rng.exponential(1 / 200));
        sessionEvents.push({
          kind: 'event',
          startUs: t,
          sessionId: `src${s}`,
          templateId: tpl.id,
          params: values.map((v) => ({ t: 'int', v })),
          durationUs,
        });
        t += durationUs + Math.round(rng.exponential(1 / 300));
      }
    }
    events.push(...sessionEvents);
  }
  return sourceTrace(events);
}

/** A markov artifact fitted on {@link tpcbTrace}. */
export function tpcbArtifact(sessions = 200): Promise<ModelArtifact> {
  return fitMarkov(tpcbTrace(sessions));
}

/**
 * A pool of `connections` long-lived connections whose TPC-B transactions come from one shared
 * Poisson schedule of `perSecond` transactions/s, each taken by the connection free longest
 * (pgbench `-R` with one thread), for `seconds`. With `ramp`, the schedule runs at
 * `ramp.perSecond` over the first `ramp.share` of the capture (0: none; clients starting late)
 * and a monitoring connection polls once a second from the capture's start.
 */
export function pooledTrace(
  o: {
    connections?: number;
    perSecond?: number;
    seconds?: number;
    ramp?: { share: number; perSecond: number };
  } = {},
): SourceTrace {
  const { connections = 4, perSecond = 100, seconds = 30, ramp } = o;
  const rng = createRng(777);
  const t0 = Date.UTC(2024, 4, 1) * 1000;
  const rampEndUs = t0 + Math.round((ramp?.share ?? 0) * seconds * 1e6);
  const free = new Array<number>(connections).fill(t0);
  const events: TraceEvent[] = [];
  let slot = t0;
  for (;;) {
    if (slot < rampEndUs && ramp !== undefined && ramp.perSecond > 0)
      slot += Math.round(rng.exponential(ramp.perSecond) * 1e6);
    else
      slot =
        Math.max(slot, rampEndUs) +
        Math.round(rng.exponential(perSecond) * 1e6);
    if (slot >= t0 + seconds * 1e6) break;
    const c = free.indexOf(Math.min(...free));
    let t = Math.max(slot, free[c] as number);
    const aid = 1 + rng.int(100000);
    for (const [tpl, values] of [
      [TPCB.begin, []],
      [TPCB.updAcc, [1, aid]],
      [TPCB.selAcc, [aid]],
      [TPCB.end, []],
    ] as [QueryTemplate, number[]][]) {
      const durationUs = 100 + rng.int(200);
      events.push({
        kind: 'event',
        startUs: t,
        sessionId: `pool${c}`,
        templateId: tpl.id,
        params: values.map((v) => ({ t: 'int', v })),
        durationUs,
      });
      t += durationUs + 50 + rng.int(100);
    }
    free[c] = t;
  }
  if (ramp !== undefined)
    // a monitoring connection polls once a second over the whole capture
    for (let t = t0; t < t0 + seconds * 1e6; t += 1_000_000)
      events.push({
        kind: 'event',
        startUs: t,
        sessionId: 'monitor',
        templateId: TPCB.selAcc.id,
        params: [{ t: 'int', v: 1 }],
        durationUs: 100,
      });
  return sourceTrace(events);
}

/** A markov artifact fitted on {@link pooledTrace}. */
export function pooledArtifact(
  ...args: Parameters<typeof pooledTrace>
): Promise<ModelArtifact> {
  return fitMarkov(pooledTrace(...args));
}

/** Events in the order a sequential run emits them (start, then session index), to compare shards. */
export function runOrder(events: TraceEvent[]): TraceEvent[] {
  return [...events].sort(
    (a, b) =>
      a.startUs - b.startUs ||
      Number(a.sessionId.slice(1)) - Number(b.sessionId.slice(1)),
  );
}
