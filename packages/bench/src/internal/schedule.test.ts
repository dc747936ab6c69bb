import { createRng } from '@stb/core';
import { Alarm } from './alarm';
import { DueQueue, INLINE_MS } from './schedule';
import type { DueAlarm } from './schedule';

/**
 * A precise alarm on the `performance.now()` clock, firing `INLINE_MS` early as the executor's
 * does (the queue spins the rest).
 */
const perfAlarm = (fire: () => void): DueAlarm => {
  const a = new Alarm({ fire, leadMs: INLINE_MS });
  return {
    ready: a.ready,
    arm: (at) => a.arm(performance.timeOrigin + at),
    disarm: () => a.disarm(),
    close: () => a.close(),
  };
};

describe('DueQueue', () => {
  it('dispatches exactly the due items, in due order with ties in push order', () => {
    let clock = 0;
    const out: [number, number][] = [];
    const q = new DueQueue<[number, number]>({
      now: () => clock,
      dispatch: (x) => out.push(x),
    });
    const rng = createRng(7);
    const items: [number, number][] = [];
    for (let i = 0; i < 2000; i++) {
      const due = rng.int(500); // many ties
      items.push([due, i]);
      q.push(due, [due, i]);
    }
    const expected = [...items].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (const t of [-1, 0, 99, 250, 250, 499]) {
      clock = t;
      q.run();
      const n = expected.filter(([d]) => d <= t).length;
      expect(out).toEqual(expected.slice(0, n));
      expect(q.size).toBe(2000 - n);
    }
    q.drain();
    expect(q.size).toBe(0);
  });

  it('matches a sorted-list model when pushes interleave with dispatching', () => {
    let clock = 0;
    let batch: number[] = [];
    const q = new DueQueue<number>({
      now: () => clock,
      dispatch: (x) => batch.push(x),
    });
    const rng = createRng(11);
    let model: number[] = [];
    for (let round = 0; round < 60; round++) {
      for (let i = 0, n = rng.int(30); i < n; i++) {
        const due = clock + rng.int(40) - 5;
        model.push(due);
        q.push(due, due);
      }
      clock += rng.int(15);
      batch = [];
      q.run();
      model.sort((x, y) => x - y);
      const due = model.filter((d) => d <= clock);
      model = model.filter((d) => d > clock);
      expect(batch).toEqual(due);
      expect(q.size).toBe(model.length);
      expect(q.nextDue).toBe(model[0] ?? Infinity);
    }
    q.close();
  });

  it.each([
    ['timers, spin 0 ms', 0, false],
    ['timers, spin 1 ms', 1, false],
    ['the alarm thread', 0, true],
  ] as const)(
    'with real %s never dispatches early and dispatches everything',
    async (_name, spinMs, precise) => {
      const now = (): number => performance.now();
      const start = now();
      const early: number[] = [];
      const seen: number[] = [];
      await new Promise<void>((resolve) => {
        const q = new DueQueue<number>({
          now,
          spinMs,
          ...(precise ? { alarm: perfAlarm } : {}),
          dispatch: (due) => {
            if (now() < due) early.push(due);
            seen.push(due);
            if (seen.length === 300) {
              q.close();
              resolve();
            }
          },
        });
        const rng = createRng(3);
        // each item is its own due time, spread over 30 ms
        for (let i = 0; i < 300; i++) {
          const due = start + rng.next() * 30;
          q.push(due, due);
        }
        q.run();
      });
      expect(early).toEqual([]);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
    },
  );

  it('the alarm thread: an earlier push re-arms it, nothing runs after close()', async () => {
    const now = (): number => performance.now();
    const out: [number, boolean][] = [];
    let done!: () => void;
    const both = new Promise<void>((r) => (done = r));
    const q = new DueQueue<[number, number]>({
      now,
      alarm: perfAlarm,
      dispatch: ([x, due]) => {
        out.push([x, now() >= due]);
        if (out.length === 2) done();
      },
    });
    const late = now() + 30;
    q.push(late, [2, late]);
    q.run();
    const soon = now() + 5;
    q.push(soon, [1, soon]);
    q.run();
    await both;
    expect(out).toEqual([
      [1, true],
      [2, true],
    ]);
    const next = now() + 5;
    q.push(next, [3, next]);
    q.run();
    q.close();
    await new Promise((r) => setTimeout(r, 30));
    expect(out).toHaveLength(2);
  });

  it('with an alarm, waits here for an item due within inlineMs instead of arming the alarm', () => {
    // a clock that advances 1 µs per reading, so the inline wait ends deterministically
    let clock = 10;
    const armed: number[] = [];
    const out: number[] = [];
    const q = new DueQueue<number>({
      now: () => (clock += 0.001),
      dispatch: (x) => out.push(x),
      alarm: () => ({
        ready: Promise.resolve(),
        arm: (at) => armed.push(at),
        disarm: () => undefined,
        close: () => undefined,
      }),
      inlineMs: 0.03,
    });
    q.push(10.02, 1);
    q.push(10.04, 2);
    q.push(10.5, 3);
    q.run();
    // 1 is 19 µs ahead, then 2 is 20 µs after it: both waited for here; 3 goes to the alarm
    expect(out).toEqual([1, 2]);
    expect(clock).toBeGreaterThanOrEqual(10.04);
    expect(armed).toEqual([10.5]);
  });

  it('close() stops dispatching', async () => {
    const out: number[] = [];
    const q = new DueQueue<number>({
      now: () => performance.now(),
      dispatch: (x) => out.push(x),
    });
    q.push(performance.now() + 5, 1);
    q.run();
    q.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(out).toEqual([]);
    expect(q.size).toBe(1);
  });
});

describe('Alarm', () => {
  it('settles `ready` when closed before its thread came online (a stop during start-up)', async () => {
    // the thread is unref'd: were `ready` left pending, a process awaiting it would have nothing
    // left to wait for and end with the command unfinished (exit 70 on a SIGTERM)
    const a = new Alarm({ fire: () => undefined });
    a.close();
    await expect(a.ready).resolves.toBeUndefined();
  });

  it('settles `ready` once its thread runs', async () => {
    const a = new Alarm({ fire: () => undefined });
    await expect(a.ready).resolves.toBeUndefined();
    a.close();
  });
});
