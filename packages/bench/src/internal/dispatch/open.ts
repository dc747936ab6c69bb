import { createRng } from '@stb/core';
import type { DispatchStrategy } from './strategy';

/** `open`: query k is due at arrival k of a seeded Poisson (or uniform) process at `rate`/s. */
export function openStrategy(o: {
  rate: number;
  arrival: 'poisson' | 'uniform';
  seed: number;
}): DispatchStrategy {
  const rng = createRng(o.seed);
  const { rate } = o;
  const poisson = o.arrival === 'poisson';
  let arrival = 0;
  return {
    timed: true,
    startDelayMs: 5,
    due() {
      const due = arrival;
      arrival += poisson
        ? (-Math.log(1 - rng.next()) * 1000) / rate
        : 1000 / rate;
      return due;
    },
    // arrivals are queries, not a session's own pacing: latency counts queueing behind a slow one
    think: () => NaN,
  };
}
