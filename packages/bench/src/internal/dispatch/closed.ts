import type { DispatchStrategy } from './strategy';

/** `closed`: every session runs its statements back to back; latency is service time. */
export function closedStrategy(): DispatchStrategy {
  return {
    timed: false,
    startDelayMs: 0,
    due: () => NaN,
    think: () => NaN,
  };
}
