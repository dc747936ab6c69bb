import type { TraceEvent } from '@stb/core';
import type { DispatchStrategy } from './strategy';

const asSoonAsPossible = (_ev: TraceEvent): number => NaN;

/**
 * `closed`: every session runs its statements back to back; latency is service time. Stateless,
 * so every run shares this one object: the dispatcher's calls to `due` and `think` then always
 * reach the same two functions (a closure per run would make those call sites polymorphic).
 */
export const CLOSED_STRATEGY: DispatchStrategy = Object.freeze({
  timed: false,
  startDelayMs: 0,
  due: asSoonAsPossible,
  think: asSoonAsPossible,
});

/** The closed-loop strategy (the shared {@link CLOSED_STRATEGY}). */
export function closedStrategy(): DispatchStrategy {
  return CLOSED_STRATEGY;
}
