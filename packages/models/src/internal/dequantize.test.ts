import type { TraceEvent } from '@stb/core';
import { createRng } from '@stb/core';
import { dequantize } from './dequantize';

const ev = (startUs: number, sessionId: string): TraceEvent => ({
  kind: 'event',
  startUs,
  sessionId,
  templateId: 't',
  params: [],
});

async function all(events: TraceEvent[], r: number): Promise<TraceEvent[]> {
  const out: TraceEvent[] = [];
  async function* src(): AsyncGenerator<TraceEvent> {
    yield* events;
  }
  for await (const e of dequantize(src(), r)) out.push(e);
  return out;
}

describe('dequantize', () => {
  it('spreads each tick over the tick in log order, a statement taking less time where more sessions are active', async () => {
    const out = await all(
      [ev(1e6, 'a'), ev(1e6, 'b'), ev(1e6, 'a'), ev(1e6, 'b'), ev(3e6, 'a')],
      1e6,
    );
    expect(out.map((e) => [e.sessionId, e.startUs])).toEqual([
      // a is active throughout (it comes back in tick 3), b from its first statement: weights 1,
      // ½, ½, ½ of 2.5
      ['a', 1_200_000],
      ['b', 1_500_000],
      ['a', 1_700_000],
      ['b', 1_900_000],
      ['a', 3_200_000], // the last tick, at the first one's pace (2.5 per tick), fills 0.4 of it
    ]);
  });

  it('keeps a session that ran contiguously within a tick short', async () => {
    const events = [
      ...Array.from({ length: 8 }, () => ev(0, 'x')),
      ...Array.from({ length: 2 }, () => ev(0, 'short')),
      ...Array.from({ length: 90 }, () => ev(0, 'x')),
    ];
    const out = await all(events, 1e6);
    const short = out
      .filter((e) => e.sessionId === 'short')
      .map((e) => e.startUs);
    // x and short both active over short's two statements: they take half a step each
    expect(short).toEqual([83_333, 88_383]);
    // time order, and nothing lost
    expect(out).toHaveLength(100);
    for (let i = 1; i < out.length; i++)
      expect((out[i] as TraceEvent).startUs).toBeGreaterThan(
        (out[i - 1] as TraceEvent).startUs,
      );
  });

  it("spreads the partly covered first and last ticks over their share at the neighbours' rate", async () => {
    const events = [
      ...Array.from({ length: 5 }, () => ev(0, 'a')), // the capture began late in tick 0
      ...Array.from({ length: 10 }, () => ev(1e6, 'a')),
      ...Array.from({ length: 10 }, () => ev(2e6, 'a')),
      ...Array.from({ length: 3 }, () => ev(3e6, 'a')), // and ended early in tick 3
    ];
    const out = (await all(events, 1e6)).map((e) => e.startUs);
    expect(out.slice(0, 5)).toEqual([
      550_000, 650_000, 750_000, 850_000, 950_000,
    ]);
    expect(out.slice(25)).toEqual([3_050_000, 3_150_000, 3_250_000]);
    expect(out.every((t) => Number.isInteger(t))).toBe(true);
    // the span is the recorded one (3 ticks), not 4
    expect((out[27] as number) - (out[0] as number)).toBe(2_700_000);
  });

  it('gives whole microseconds when a tick is covered by a third', async () => {
    const events = [
      ev(0, 'a'),
      ...Array.from({ length: 3 }, () => ev(1e6, 'a')),
      ev(2e6, 'a'),
    ];
    const out = (await all(events, 1e6)).map((e) => e.startUs);
    expect(out.every((t) => Number.isInteger(t))).toBe(true);
    expect(out[0]).toBe(833_333); // the middle of the last third of tick 0
  });

  it('gives back the mean session length of sessions that run at one pace, where an even spread gives too much', async () => {
    // 4 workers in a loop: a pause (the connection), then a session of 3–12 statements 0.4–0.8 ms
    // apart, stamped in whole seconds. A statement's time is its session's own clock, so the log's
    // rate rises and falls with the number of sessions active.
    const rng = createRng(5);
    const events: TraceEvent[] = [];
    let truth = 0;
    let sessions = 0;
    for (let w = 0; w < 4; w++) {
      let t = 1e6 + rng.uniform(0, 2000);
      while (t < 4.6e6) {
        t += rng.uniform(500, 6000);
        const n = 3 + rng.int(10);
        const id = `w${w}-${sessions++}`;
        const start = t;
        for (let i = 0; i < n; i++) {
          if (i > 0) t += rng.uniform(400, 800);
          events.push(ev(Math.round(t), id));
        }
        truth += t - start;
      }
    }
    events.sort((a, b) => a.startUs - b.startUs);
    const quantized = events.map((e) => ({
      ...e,
      startUs: Math.floor(e.startUs / 1e6) * 1e6,
    }));
    const span = new Map<string, [number, number]>();
    for (const e of await all(quantized, 1e6)) {
      const s = span.get(e.sessionId);
      if (s) s[1] = e.startUs;
      else span.set(e.sessionId, [e.startUs, e.startUs]);
    }
    let measured = 0;
    for (const [a, b] of span.values()) measured += b - a;
    // 1.14× with the even spread of the earlier rule
    expect(measured / truth).toBeGreaterThan(0.93);
    expect(measured / truth).toBeLessThan(1.07);
  });
});
