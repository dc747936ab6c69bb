import type { BenchResult } from '@stb/core';
import { nowMs } from './wire';

/**
 * The run's stop state: why and when it stopped, the reader's wake-ups, and the escalation of a
 * second stop request (a signal while stopping, or the same request twice) to a cancel.
 */
export class StopControl {
  stopping = false;
  status: BenchResult['status'] = 'completed';
  reason: string | undefined;
  /** When the stop was requested (`nowMs()` clock). */
  at: number | undefined;
  /** Resolves at the stop request. */
  readonly stopped: Promise<void>;
  readonly #wakers = new Set<() => void>();
  readonly #hooks: { stop(): void; cancel(): void };
  #resolveStopped!: () => void;
  #cancelled = false;

  constructor(hooks: { stop(): void; cancel(): void }) {
    this.#hooks = hooks;
    this.stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
  }

  /** Stops the run; asked again while stopping, cancels running statements at once. */
  request(reason: string, failed: boolean): void {
    if (this.stopping) {
      // asked again while stopping: skip the rest of the grace period
      if (reason === 'signal' || reason === this.reason) this.cancelNow();
      return;
    }
    this.stopping = true;
    this.at = nowMs();
    this.reason = reason;
    this.status = failed ? 'failed' : 'stopped';
    this.#hooks.stop();
    this.#resolveStopped();
    this.wakeAll();
  }

  /** Tells the lanes to cancel their running statements now (once). */
  cancelNow(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#hooks.cancel();
  }

  /** Sleeps up to `ms`; {@link StopControl.wakeAll} (a batch, a stop) ends it early. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.#wakers.delete(done);
        resolve();
      };
      const t = setTimeout(done, Math.max(0, ms));
      this.#wakers.add(done);
    });
  }

  wakeAll(): void {
    for (const w of this.#wakers) w();
    this.#wakers.clear();
  }
}
