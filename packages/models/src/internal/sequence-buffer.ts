import type { SessionSequence } from '../sequence-model';
import { throwIfAborted } from './abort';

/**
 * Sessions' template sequences in compact form, kept while they fit a budget: template indices
 * in one growing Int32Array (4 bytes per statement), plus each session's length and id. The
 * budget counts symbols: one per statement plus one per session (1,000,000 statements in 40,000
 * sessions ≈ 1.04 M symbols ≈ 4 MB, plus the session-id references). When the sessions exceed
 * the budget the buffer drops everything and reports {@link overflow}; callers then re-read the
 * events instead.
 */
export class SequenceBuffer {
  #symbols = new Int32Array(0);
  #size = 0;
  #used = 0;
  #lengths: number[] = [];
  #sessionIds: string[] = [];
  #overflow = false;

  constructor(readonly budgetSymbols: number) {
    if (budgetSymbols <= 0) this.#overflow = true;
  }

  /** True once the sessions did not fit the budget (nothing is kept then). */
  get overflow(): boolean {
    return this.#overflow;
  }

  /** Appends one closed session (template indices in session order). */
  add(sessionId: string, seq: readonly number[]): void {
    if (this.#overflow) return;
    this.#used += seq.length + 1;
    if (this.#used > this.budgetSymbols) {
      this.#overflow = true;
      this.#symbols = new Int32Array(0);
      this.#lengths = [];
      this.#sessionIds = [];
      return;
    }
    const need = this.#size + seq.length;
    if (need > this.#symbols.length) {
      const grown = new Int32Array(
        Math.min(
          Math.max(need, this.#symbols.length * 2, 4096),
          this.budgetSymbols,
        ),
      );
      grown.set(this.#symbols.subarray(0, this.#size));
      this.#symbols = grown;
    }
    const symbols = this.#symbols;
    let at = this.#size;
    for (const s of seq) symbols[at++] = s;
    this.#size = at;
    this.#lengths.push(seq.length);
    this.#sessionIds.push(sessionId);
  }

  /**
   * Replays the sessions in the order they were added, template indices mapped back to ids
   * (`ids[index]`): the same sequences a pass over the events yields.
   */
  async *replay(
    ids: readonly string[],
    signal: AbortSignal | undefined,
  ): AsyncGenerator<SessionSequence> {
    const symbols = this.#symbols;
    const lengths = this.#lengths;
    const sessionIds = this.#sessionIds;
    let at = 0;
    for (let k = 0; k < lengths.length; k++) {
      if ((k & 1023) === 0) throwIfAborted(signal, 'Fitting');
      const length = lengths[k] as number;
      const templates = new Array<string>(length);
      for (let i = 0; i < length; i++)
        templates[i] = ids[symbols[at + i] as number] as string;
      at += length;
      yield { sessionId: sessionIds[k] as string, templates };
    }
  }
}
