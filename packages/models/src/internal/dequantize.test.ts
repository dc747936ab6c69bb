import type { TraceEvent } from '@stb/core';
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
  it('spreads each tick evenly over the tick in log order', async () => {
    const out = await all(
      [ev(1e6, 'a'), ev(1e6, 'b'), ev(1e6, 'a'), ev(1e6, 'b'), ev(3e6, 'a')],
      1e6,
    );
    expect(out.map((e) => [e.sessionId, e.startUs])).toEqual([
      ['a', 1_125_000],
      ['b', 1_375_000],
      ['a', 1_625_000],
      ['b', 1_875_000],
      ['a', 3_125_000], // the last tick, at the first one's rate (4/s), fills its first quarter
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
    expect(short).toEqual([85_000, 95_000]);
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
});
