import { createRng } from '@stb/core';
import type { Rng } from '@stb/core';
import type { DispatchStrategy } from './strategy';

/**
 * `open`: query k is due at arrival k of a seeded Poisson (or uniform) process at `rate`/s. A
 * class, so `due` and `think` are the same functions in every run.
 */
export class OpenStrategy implements DispatchStrategy {
  readonly timed = true;
  readonly startDelayMs = 5;
  readonly #rng: Rng;
  readonly #rate: number;
  readonly #poisson: boolean;
  #arrival = 0;

  constructor(o: {
    rate: number;
    arrival: 'poisson' | 'uniform';
    seed: number;
  }) {
    this.#rng = createRng(o.seed);
    this.#rate = o.rate;
    this.#poisson = o.arrival === 'poisson';
  }

  due(): number {
    const due = this.#arrival;
    this.#arrival += this.#poisson
      ? (-Math.log(1 - this.#rng.next()) * 1000) / this.#rate
      : 1000 / this.#rate;
    return due;
  }

  /** Arrivals are queries, not a session's own pacing: latency counts queueing behind a slow one. */
  think(): number {
    return NaN;
  }
}

/** The open-loop strategy of one run. */
export function openStrategy(o: {
  rate: number;
  arrival: 'poisson' | 'uniform';
  seed: number;
}): DispatchStrategy {
  return new OpenStrategy(o);
}
