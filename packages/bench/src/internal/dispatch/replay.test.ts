import type { TraceEvent } from '@stb/core';
import { createTraceHeader } from '@stb/core';
import { replayResolutionUs, replayStrategy } from './replay';

const ev = (
  sessionId: string,
  startUs: number,
  durationUs?: number,
): TraceEvent => ({
  kind: 'event',
  sessionId,
  startUs,
  templateId: 't',
  params: [],
  ...(durationUs !== undefined ? { durationUs } : {}),
});

/** ms to the nanosecond (the dues are sums of floating-point ms). */
const round = (x: number): number => Math.round(x * 1e6) / 1e6;

describe('replay strategy', () => {
  it('think time: the gap from the previous statement end, per session, divided by the speed', () => {
    const s = replayStrategy({ speed: 2, resolutionUs: 1 });
    const times = [
      ev('a', 1000, 300),
      ev('b', 1500, 100),
      ev('a', 2000, 50),
      ev('a', 2050),
      ev('b', 1700),
    ];
    const out = times.map((e) => [s.due(e), s.think(e)]);
    expect(out).toEqual([
      [0, 0],
      [0.25, 0],
      [0.5, (2000 - 1300) / 1000 / 2],
      [0.525, 0],
      [0.35, (1700 - 1600) / 1000 / 2],
    ]);
  });

  it('a log without durations gives think time 0: due at the later of the offset and the previous completion', () => {
    const s = replayStrategy({ speed: 1, resolutionUs: 1 });
    // 8 statements 200 µs apart without durations: the whole gap as think time would push each
    // statement back by the previous one's service time, and the session would drift
    const thinks = Array.from({ length: 8 }, (_, i) => {
      const e = ev('a', 10_000 + 200 * i);
      s.due(e);
      return s.think(e);
    });
    expect(thinks).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('a gap the log cannot resolve is none: the statement is chained to the previous one, the next resolved gap re-anchors', () => {
    // PostgreSQL stamps whole milliseconds: a statement logged as ending at 5.000 ms that took
    // 0.1 ms "started" at 4.9 ms, 0.9 ms after the previous one's end at 4.0 ms
    const s = replayStrategy({ speed: 1, resolutionUs: 1000 });
    const times = [
      ev('a', 3_800, 200), // ends 4.0
      ev('b', 3_900, 100),
      ev('a', 4_900, 100), // 0.9 ms after a's end: chained, no think; due at its offset − 1 ms
      ev('a', 4_950, 50), // overlaps: chained
      ev('a', 8_000, 100), // 3 ms after: resolved, its own offset and think time
      ev('b', 4_000), // 0 after b's end: chained, due as b's previous (its offset − 1 ms is before)
      ev('b', 4_500), // no duration before: 0.5 ms after b's start, chained
      ev('b', 9_000), // resolved
    ];
    const out = times.map((e) => [s.due(e), s.think(e)]);
    expect(out.map(([d, t]) => [round(d as number), t])).toEqual([
      [0, 0],
      [0.1, 0],
      [0.1, 0],
      [0.15, 0],
      [4.2, (8_000 - 5_000) / 1000],
      [0.1, 0],
      [0.1, 0],
      [5.2, 0],
    ]);
  });

  it('a long run of short gaps keeps to the log clock, to within one resolution step', () => {
    // 50 statements 0.6 ms apart (start to start, 0.1 ms each): every gap is below 1 ms, yet the
    // run took 29.4 ms in the log; each is due no earlier than its offset − 1 ms
    const s = replayStrategy({ speed: 2, resolutionUs: 1000 });
    const dues = Array.from({ length: 50 }, (_, i) => {
      const e = ev('a', 10_000 + 600 * i, 100);
      const d = s.due(e);
      expect(s.think(e)).toBe(0);
      return d;
    });
    for (let i = 1; i < 50; i++) {
      const offset = (600 * i) / 1000 / 2;
      expect(dues[i]).toBeGreaterThanOrEqual(offset - 0.5 - 1e-9);
      expect(dues[i]).toBeLessThanOrEqual(offset);
    }
    expect(round(dues[49] as number)).toBe(round((600 * 49) / 1000 / 2 - 0.5));
  });

  it('with microsecond stamps (resolution 1 µs) nothing is chained: each statement keeps its offset', () => {
    const s = replayStrategy({ speed: 1, resolutionUs: 1 });
    const times = [ev('a', 1000, 100), ev('a', 1100, 10), ev('a', 1105, 10)];
    const out = times.map((e) => [s.due(e), s.think(e)]);
    expect(out).toEqual([
      [0, 0],
      [0.1, 0],
      [0.105, 0],
    ]);
  });

  it("the chaining resolution: the trace's, or a generated trace's think-time resolution when coarser", () => {
    const log = createTraceHeader({
      dialect: 'postgres',
      timeResolutionUs: 1000,
      createdAt: '2024-01-01T00:00:00Z',
    });
    const generated = (think: unknown) =>
      createTraceHeader({
        dialect: 'postgres',
        source: { tool: 'generate', generator: { thinkResolutionUs: think } },
        createdAt: '2024-01-01T00:00:00Z',
      });
    expect(replayResolutionUs(undefined)).toBe(1);
    expect(replayResolutionUs(log)).toBe(1000);
    expect(replayResolutionUs(generated(2000))).toBe(2000);
    expect(replayResolutionUs(generated('x'))).toBe(1);
    expect(replayResolutionUs(generated(undefined))).toBe(1);
  });
});
