import { type ParamValue, type TraceEvent, ValidationReport } from '@stb/core';

import { renderHtmlReport, validateTraces } from '../src/index';
import { type MemoryTrace, readSampleTrace } from './helpers/sample-trace';

// The web-app fixture (issue 18): emails, names, JSON profiles, notes, LIKE searches, tokens.
let app: MemoryTrace;
beforeAll(async () => {
  app = await readSampleTrace('pg-webapp-logstatement', 'postgresql.csv.gz');
});

const input = (events: TraceEvent[]) => ({ catalog: app.templates, events });

/** Replaces every string, JSON and UUID value by a fresh one that occurs nowhere in the source. */
function scrub(p: ParamValue, n: number): ParamValue {
  switch (p.t) {
    case 'string':
    case 'uuid':
      return { t: p.t, v: `fresh-${n}-${p.v.length}` };
    case 'json':
      return { t: 'json', v: JSON.stringify({ k: `fresh-${n}` }) };
    case 'list':
      return { t: 'list', v: p.v.map((e) => scrub(e, n)) };
    default:
      return p;
  }
}

describe('leak check', () => {
  it('finds every rare literal of a verbatim copy, names slots by column, never values', async () => {
    const report = await validateTraces(input(app.events), input(app.events), {
      maxLeak: 0,
    });
    expect(ValidationReport.safeParse(report).success).toBe(true);
    const leak = report.leak;
    if (!leak) throw new Error('no leak section');
    expect(report.score).toBe(1);
    expect(leak.samplingRate).toBe(1);
    // a copy leaks every literal seen in fewer than 5 sessions: signup emails, tokens, notes…
    expect(leak.leaked).toBeGreaterThan(500);
    expect(leak.leaked).toBeLessThan(leak.checked);
    expect(leak.passed).toBe(false);
    const columns = leak.slots.map((s) => s.column);
    expect(columns).toContain('login_sessions.token');
    expect(columns).toContain('users.email');
    // frequent categories are not leaks
    expect(columns).not.toContain('products.category');
    const html = renderHtmlReport(report);
    expect(html).toContain('Leak check');
    expect(html).toContain('login_sessions.token');
    const email = app.events
      .flatMap((e) => e.params)
      .flatMap((p) =>
        p.t === 'string' && p.v.startsWith('signup+') ? [p.v] : [],
      )[0];
    if (email === undefined) throw new Error('no signup email in the fixture');
    expect(html).not.toContain(email);
    expect(JSON.stringify(report)).not.toContain(email);
  });

  it('is exactly 0 when no literal is copied, and not part of the score', async () => {
    const fresh = app.events.map((e, i) => ({
      ...e,
      params: e.params.map((p) => scrub(p, i)),
    }));
    const report = await validateTraces(input(app.events), input(fresh), {
      maxLeak: 0,
    });
    expect(report.leak?.leaked).toBe(0);
    expect(report.leak?.share).toBe(0);
    expect(report.leak?.passed).toBe(true);
    expect(report.leak?.checked).toBeGreaterThan(1000);
    expect(report.properties.map((p) => p.id)).not.toContain('leak');
  });

  it('samples by hash beyond its memory cap and still estimates the share', async () => {
    const exact = await validateTraces(input(app.events), input(app.events));
    const sampled = await validateTraces(input(app.events), input(app.events), {
      leakMaxLiterals: 200,
    });
    const a = exact.leak;
    const b = sampled.leak;
    if (!a || !b) throw new Error('no leak section');
    expect(b.samplingRate).toBeLessThan(1);
    expect(b.rareOriginalLiterals).toBeLessThanOrEqual(200);
    expect(b.checked).toBeLessThan(a.checked);
    expect(Math.abs(b.share - a.share)).toBeLessThan(0.15);
  });
});
