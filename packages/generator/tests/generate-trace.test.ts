import type { QueryTemplate, TraceEvent, TraceRecord } from '@stb/core';
import { isStbError } from '@stb/core';
import type { ModelArtifact } from '@stb/models';
import { generateTrace, renderSql } from '@stb/generator';
import type { GenerateTraceOptions } from '@stb/generator';
import { TPCB, runOrder, tpcbArtifact, tpcbTrace } from './helpers/workload';

let artifact: ModelArtifact;
beforeAll(async () => {
  artifact = await tpcbArtifact(200);
});

async function records(options: GenerateTraceOptions): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of generateTrace(artifact, options)) out.push(r);
  return out;
}

const eventsOf = (rs: TraceRecord[]): TraceEvent[] =>
  rs.filter((r): r is TraceEvent => r.kind === 'event');

const BEGIN = TPCB.begin.id;
const END = TPCB.end.id;

/** Per session: true when every BEGIN has its END before the session's last event. */
function openTransactions(events: TraceEvent[]): string[] {
  const inTxn = new Map<string, boolean>();
  for (const e of events) {
    if (e.templateId === BEGIN) inTxn.set(e.sessionId, true);
    else if (e.templateId === END) inTxn.set(e.sessionId, false);
    else if (!inTxn.has(e.sessionId)) inTxn.set(e.sessionId, false);
  }
  return [...inTxn].filter(([, open]) => open).map(([id]) => id);
}

describe('generateTrace', () => {
  it('starts with the header, declares templates before first use, orders events by time', async () => {
    const rs = await records({ seed: 3, count: 3000, startUs: 1_000_000 });
    expect(rs[0]?.kind).toBe('header');
    const header = rs[0] as Extract<TraceRecord, { kind: 'header' }>;
    expect(header.source.generator).toMatchObject({
      kind: 'markov',
      seed: 3,
      artifactHash: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    const declared = new Set<string>();
    let last = -Infinity;
    for (const r of rs.slice(1)) {
      if (r.kind === 'template') {
        expect(r.count).toBeUndefined();
        declared.add(r.id);
      } else if (r.kind === 'event') {
        expect(declared.has(r.templateId)).toBe(true);
        expect(r.startUs).toBeGreaterThanOrEqual(last);
        last = r.startUs;
      } else throw new Error('second header');
    }
    expect(eventsOf(rs)[0]?.startUs).toBe(1_000_000);
  });

  it("records its think times' resolution: the model's log's, times the time scale", async () => {
    const header = async (resolutionUs: number, timeScale?: number) => {
      const a = {
        ...artifact,
        sessions: { ...artifact.sessions, timeResolutionUs: resolutionUs },
      } as ModelArtifact;
      for await (const r of generateTrace(a, {
        seed: 1,
        count: 10,
        ...(timeScale !== undefined ? { timeScale } : {}),
      }))
        if (r.kind === 'header') return r.source.generator;
      return undefined;
    };
    expect((await header(1000))?.['thinkResolutionUs']).toBe(1000);
    expect((await header(1000, 2))?.['thinkResolutionUs']).toBe(2000);
    // a microsecond-stamped source: nothing to record
    expect((await header(1))?.['thinkResolutionUs']).toBeUndefined();
  });

  it('is deterministic under a seed and differs across seeds', async () => {
    const a = JSON.stringify(await records({ seed: 11, count: 2000 }));
    const b = JSON.stringify(await records({ seed: 11, count: 2000 }));
    const c = JSON.stringify(await records({ seed: 12, count: 2000 }));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it('gives -n prefixes of a longer run', async () => {
    const short = eventsOf(await records({ seed: 5, count: 700 }));
    const long = eventsOf(await records({ seed: 5, count: 5000 }));
    // The short run ends with closing COMMITs for transactions it cut; its first 700 are the prefix.
    expect(short.slice(0, 700)).toEqual(long.slice(0, 700));
    expect(short.length).toBeGreaterThanOrEqual(700);
  });

  it('never leaves a transaction open, whatever stops the run', async () => {
    for (const opts of [
      { count: 1234 },
      { durationUs: 20_000_000 },
      { sessions: 15 },
    ]) {
      const gen = generateTrace(artifact, { seed: 9, ...opts });
      const events: TraceEvent[] = [];
      for await (const r of gen) if (r.kind === 'event') events.push(r);
      expect(openTransactions(events)).toEqual([]);
      expect(gen.summary().events).toBe(events.length);
    }
    const cut = eventsOf(
      await records({ seed: 9, count: 1234, closeTransactions: false }),
    );
    expect(cut).toHaveLength(1234);
  });

  it('stops on sessions with complete sessions, and on simulated duration', async () => {
    const gen = generateTrace(artifact, { seed: 2, sessions: 25 });
    const events: TraceEvent[] = [];
    for await (const r of gen) if (r.kind === 'event') events.push(r);
    expect(new Set(events.map((e) => e.sessionId)).size).toBe(25);
    expect(gen.summary()).toMatchObject({
      sessions: 25,
      stoppedBy: 'sessions',
    });

    const start = 5_000_000;
    const dur = await records({
      seed: 2,
      durationUs: 30_000_000,
      startUs: start,
    });
    const evs = eventsOf(dur).filter((e) => e.templateId !== END);
    expect(evs.every((e) => e.startUs < start + 30_000_000)).toBe(true);
    expect(evs[evs.length - 1]?.startUs).toBeGreaterThan(start + 20_000_000);
  });

  it('--scale multiplies concurrent sessions, not the rhythm; --time-scale compresses time', async () => {
    const durationUs = 120_000_000;
    const stats = async (o: Partial<GenerateTraceOptions>) => {
      const gen = generateTrace(artifact, { seed: 4, durationUs, ...o });
      const bySession = new Map<string, TraceEvent[]>();
      for await (const r of gen) {
        if (r.kind !== 'event') continue;
        let l = bySession.get(r.sessionId);
        if (!l) bySession.set(r.sessionId, (l = []));
        l.push(r);
      }
      let gaps = 0;
      let n = 0;
      for (const l of bySession.values())
        for (let i = 1; i < l.length; i++) {
          gaps +=
            (l[i] as TraceEvent).startUs - (l[i - 1] as TraceEvent).startUs;
          n++;
        }
      return { sessions: gen.summary().sessions, meanGapUs: gaps / n };
    };
    const base = await stats({});
    const scaled = await stats({ scale: 4 });
    const frac = await stats({ scale: 2.5 });
    const fast = await stats({ timeScale: 0.5 });
    // Source: 2 sessions/s → ~240 in 120 s. Poisson counts: tolerance of ~4 sd.
    expect(base.sessions).toBeGreaterThan(180);
    expect(base.sessions).toBeLessThan(300);
    expect(scaled.sessions / base.sessions).toBeGreaterThan(3.3);
    expect(scaled.sessions / base.sessions).toBeLessThan(4.8);
    expect(frac.sessions / base.sessions).toBeGreaterThan(2);
    expect(frac.sessions / base.sessions).toBeLessThan(3);
    // Same rhythm within sessions under --scale.
    expect(Math.abs(scaled.meanGapUs / base.meanGapUs - 1)).toBeLessThan(0.1);
    // Twice the arrivals in the same simulated time under --time-scale 0.5, shorter gaps.
    expect(fast.sessions / base.sessions).toBeGreaterThan(1.6);
    expect(fast.sessions / base.sessions).toBeLessThan(2.5);
    expect(fast.meanGapUs).toBeLessThan(base.meanGapUs);
  });

  it('shards merge into the sequential run', async () => {
    const all = eventsOf(await records({ seed: 8, durationUs: 15_000_000 }));
    const s0 = eventsOf(
      await records({
        seed: 8,
        durationUs: 15_000_000,
        shard: { index: 0, count: 2 },
      }),
    );
    const s1 = eventsOf(
      await records({
        seed: 8,
        durationUs: 15_000_000,
        shard: { index: 1, count: 2 },
      }),
    );
    expect(s0.length).toBeGreaterThan(0);
    expect(s1.length).toBeGreaterThan(0);
    expect(runOrder([...s0, ...s1])).toEqual(runOrder(all));
  });

  it('reproduces the source mix and within-session parameter reuse', async () => {
    const events = eventsOf(await records({ seed: 6, count: 20_000 }));
    const src = tpcbTrace(200).events;
    const dist = (es: TraceEvent[]) => {
      const m = new Map<string, number>();
      for (const e of es) m.set(e.templateId, (m.get(e.templateId) ?? 0) + 1);
      return m;
    };
    const a = dist(events);
    const b = dist(src);
    let tv = 0;
    for (const id of new Set([...a.keys(), ...b.keys()]))
      tv += Math.abs(
        (a.get(id) ?? 0) / events.length - (b.get(id) ?? 0) / src.length,
      );
    expect(tv / 2).toBeLessThan(0.05);
    // SELECT abalance … WHERE aid = $1 reuses the aid of the preceding UPDATE in the source.
    const lastAid = new Map<string, number>();
    let same = 0;
    let selects = 0;
    for (const e of events) {
      if (e.templateId === TPCB.updAcc.id)
        lastAid.set(e.sessionId, e.params[1]?.v as number);
      if (e.templateId === TPCB.selAcc.id && lastAid.has(e.sessionId)) {
        selects++;
        if (e.params[0]?.v === lastAid.get(e.sessionId)) same++;
      }
    }
    expect(selects).toBeGreaterThan(1000);
    expect(same / selects).toBeGreaterThan(0.9);
  });

  it('renders executable SQL when asked', async () => {
    const rs = await records({ seed: 1, count: 200, render: true });
    const templates = new Map<string, QueryTemplate>();
    for (const r of rs) if (r.kind === 'template') templates.set(r.id, r);
    for (const e of eventsOf(rs)) {
      const t = templates.get(e.templateId) as QueryTemplate;
      expect(e.sql).toBe(renderSql(t.text, e.params, 'postgres'));
      expect(e.sql).not.toContain('$');
    }
  });

  it('validates options and honours abort', async () => {
    expect(() => generateTrace(artifact, { seed: 1, count: 0 })).toThrow(
      expect.objectContaining({ code: 'STB_OPTIONS_INVALID' }),
    );
    expect(() => generateTrace(artifact, { seed: 1, scale: -1 })).toThrow(
      /scale/,
    );
    const controller = new AbortController();
    controller.abort();
    let caught: unknown;
    try {
      for await (const _ of generateTrace(artifact, {
        seed: 1,
        count: 100_000,
        signal: controller.signal,
      })) {
        // consume
      }
    } catch (err) {
      caught = err;
    }
    expect(isStbError(caught, 'STB_ABORTED')).toBe(true);
  });

  it('reports progress', async () => {
    const seen: number[] = [];
    for await (const _ of generateTrace(artifact, {
      seed: 1,
      count: 40_000,
      onProgress: (p) => seen.push(p.fraction ?? -1),
    })) {
      // consume
    }
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen[seen.length - 1]).toBe(1);
  });
});
