import type { Rng } from '@stb/core';
import type { SessionSequence } from '@stb/models';

/** Template ids of the planted process. */
export const PLANTED_TEMPLATES = ['t-a', 't-b', 't-c', 't-d'];
const NEXT = [2, 0, 3, 1];

/**
 * Sessions of 9–15 templates where the first three are uniform and each later one is a fixed
 * permutation of the template three steps back (probability `fidelity`, else uniform). The
 * previous template carries no information about the next, so an order-1 Markov chain predicts
 * at chance (~1/4) while a model remembering three steps reaches ~`fidelity`.
 */
export function plantedSessions(
  count: number,
  options: { rng: Rng; fidelity?: number; prefix?: string },
): SessionSequence[] {
  const { rng, fidelity = 0.9, prefix = 's' } = options;
  const out: SessionSequence[] = [];
  for (let s = 0; s < count; s++) {
    const length = 9 + rng.int(7);
    const idx: number[] = [];
    for (let t = 0; t < length; t++) {
      idx.push(
        t < 3 || rng.next() >= fidelity
          ? rng.int(4)
          : (NEXT[idx[t - 3] as number] as number),
      );
    }
    out.push({
      sessionId: `${prefix}${s}`,
      templates: idx.map((i) => PLANTED_TEMPLATES[i] as string),
    });
  }
  return out;
}

/** Replays sessions as a re-iterable source, as `fit` expects. */
export function sourceOf(
  sessions: readonly SessionSequence[],
): () => AsyncIterable<SessionSequence> {
  return async function* source() {
    for (const s of sessions) yield s;
  };
}
