import type { TraceEvent } from '@stb/core';
import { replayStrategy } from './replay';

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

describe('replay strategy', () => {
  it('think time: the gap from the previous statement end, per session, divided by the speed', () => {
    const s = replayStrategy({ speed: 2 });
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
    const s = replayStrategy({ speed: 1 });
    // 8 statements 200 µs apart without durations: the whole gap as think time would push each
    // statement back by the previous one's service time, and the session would drift
    const thinks = Array.from({ length: 8 }, (_, i) => {
      const e = ev('a', 10_000 + 200 * i);
      s.due(e);
      return s.think(e);
    });
    expect(thinks).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
});
