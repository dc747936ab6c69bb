import { createRng } from '@stb/core';
import {
  readTrainingData,
  splitSessions,
  streamBatches,
  toStream,
} from './data';

async function* gen(sessions: string[][]) {
  let i = 0;
  for (const templates of sessions) yield { sessionId: String(i++), templates };
}

describe('training data', () => {
  it('maps templates to tokens in first-seen order, 0 being the boundary', async () => {
    const d = await readTrainingData(gen([['x', 'y'], ['y', 'z', 'x'], []]), {
      rng: createRng(1),
      maxTokens: 100,
    });
    expect(d.vocabulary).toEqual(['x', 'y', 'z']);
    expect(d.sessions.map((s) => [...s])).toEqual([[1, 2], [2, 3, 1], []]);
    expect(d.maxLength).toBe(3);
    expect([...toStream(d.sessions)]).toEqual([0, 1, 2, 0, 2, 3, 1, 0, 0]);
  });

  it('cuts streams into parallel rows whose windows continue each other', () => {
    const stream = Int32Array.from({ length: 23 }, (_, i) => i);
    const batches = [...streamBatches(stream, { rows: 3, window: 3 })];
    // 22 pairs / 3 rows = 7 steps per row: windows of 3, 3, 1.
    expect(batches.map((b) => b.steps)).toEqual([3, 3, 1]);
    expect([...(batches[0]?.inputs ?? [])]).toEqual([
      0, 1, 2, 7, 8, 9, 14, 15, 16,
    ]);
    expect([...(batches[0]?.targets ?? [])]).toEqual([
      1, 2, 3, 8, 9, 10, 15, 16, 17,
    ]);
    expect([...(batches[1]?.inputs ?? [])]).toEqual([
      3, 4, 5, 10, 11, 12, 17, 18, 19,
    ]);
    expect([...(batches[2]?.targets ?? [])]).toEqual([7, 14, 21]);
  });

  it('uses fewer rows than asked for a short stream', () => {
    const batches = [
      ...streamBatches(Int32Array.from([0, 1, 0]), { rows: 8, window: 4 }),
    ];
    expect(batches).toHaveLength(1);
    expect(batches[0]?.rows).toBe(2);
  });

  it('holds validation sessions out only when both sides keep some', () => {
    const sessions = Array.from({ length: 20 }, (_, i) => Int32Array.of(i));
    const { train, validation } = splitSessions(sessions, 0.25, createRng(1));
    expect(validation).toHaveLength(5);
    expect(new Set([...train, ...validation]).size).toBe(20);
    expect(
      splitSessions(sessions.slice(0, 1), 0.5, createRng(1)).validation,
    ).toHaveLength(0);
    expect(
      splitSessions(sessions.slice(0, 2), 0.1, createRng(1)).validation,
    ).toHaveLength(0);
  });

  it('bounds held tokens by down-sampling sessions', async () => {
    const many = Array.from({ length: 1000 }, (_, i) => [
      `t${i % 7}`,
      `t${i % 5}`,
    ]);
    const d = await readTrainingData(gen(many), {
      rng: createRng(1),
      maxTokens: 300,
    });
    const held = d.sessions.reduce((a, s) => a + s.length + 1, 0);
    expect(held).toBeLessThanOrEqual(300);
    // A uniform sample keeps a share in (0.1, 0.3] of 1000 sessions (one halving each time past 300 tokens).
    expect(d.sessions.length).toBeGreaterThan(50);
    expect(d.sessionsRead).toBe(1000);
    expect(d.tokensRead).toBe(2000);
  });
});
