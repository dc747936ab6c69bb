import type { QueryTemplate, TraceEvent, TraceHeader } from '@stb/core';

import { validateTraces } from '../src/index';

// Sessions by connection attributes (trace version 2's `conn` on a session's first event).

const T0 = 1_700_000_000_000_000;
const templates: QueryTemplate[] = [
  {
    kind: 'template',
    id: '00000000000000c1',
    text: 'SELECT v FROM t WHERE id = $1',
    queryType: 'SELECT',
    tables: ['t'],
    slots: [{ type: 'int', column: 't.id', context: '=' }],
  },
];
const header: TraceHeader = {
  kind: 'header',
  format: 'stb-trace',
  version: 2,
  dialect: 'postgres',
  source: { tool: 'parse' },
  timeResolutionUs: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
};

/** 40 sessions of 3 statements; the first `web` of them connect as the web app, the rest as batch. */
function trace(web: number, named = true): TraceEvent[] {
  const events: TraceEvent[] = [];
  for (let s = 0; s < 40; s++)
    for (let i = 0; i < 3; i++) {
      const ev: TraceEvent = {
        kind: 'event',
        startUs: T0 + s * 10_000 + i * 1000,
        sessionId: `s${s}`,
        templateId: '00000000000000c1',
        params: [{ t: 'int', v: 1 + ((s * 3 + i) % 17) }],
      };
      if (named && i === 0)
        ev.conn =
          s < web
            ? { user: 'app', database: 'shop', application: 'web' }
            : { user: 'app', database: 'shop', application: 'batch' };
      events.push(ev);
    }
  return events;
}

async function connections(a: TraceEvent[], b: TraceEvent[]) {
  const report = await validateTraces(
    { header, catalog: templates, events: a },
    { header, catalog: templates, events: b },
    { createdAt: '2026-01-01T00:00:00.000Z' },
  );
  return report.properties.find((p) => p.id === 'connections');
}

describe('connections: sessions by user, database and application', () => {
  it('scores the same mix 1 and a shifted mix by its total variation', async () => {
    expect((await connections(trace(30), trace(30)))?.score).toBe(1);
    // 30/10 against 20/20: TV = 0.25
    const shifted = await connections(trace(30), trace(20));
    expect(shifted?.applicable).toBe(true);
    expect(shifted?.score).toBeCloseTo(0.75, 10);
  });

  it('counts sessions without attributes as one more kind', async () => {
    const r = await connections(trace(40), trace(40, false));
    expect(r?.score).toBe(0);
  });

  it('does not apply when neither trace names any', async () => {
    const r = await connections(trace(0, false), trace(0, false));
    expect(r?.applicable).toBe(false);
    expect(r?.score).toBeNull();
  });
});
