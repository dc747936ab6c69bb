import type { BenchModeName } from './dispatcher';
import { closedStrategy } from './closed';
import { openStrategy } from './open';
import { replayStrategy } from './replay';
import type { DispatchStrategy } from './strategy';

/** The strategy of a mode. */
export function strategyFor(
  mode: BenchModeName,
  o: {
    speed: number;
    rate: number;
    arrival: 'poisson' | 'uniform';
    seed: number;
    /** The trace's time resolution (its header's `timeResolutionUs`; 1 without a header). */
    resolutionUs: number;
  },
): DispatchStrategy {
  switch (mode) {
    case 'closed':
      return closedStrategy();
    case 'replay':
      return replayStrategy(o);
    case 'open':
      return openStrategy(o);
  }
}

export { dispatchEvents } from './dispatcher';
export { replayResolutionUs } from './replay';
export type {
  DispatchCounts,
  DispatchContext,
  DispatchStop,
} from './dispatcher';
export type { DispatchStrategy } from './strategy';
