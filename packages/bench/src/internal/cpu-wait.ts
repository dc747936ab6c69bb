import { readFileSync } from 'node:fs';

/**
 * How long the calling thread has been ready to run but waiting for a CPU (issue 16): Linux's
 * per-thread scheduler statistics, `/proc/thread-self/schedstat` ("time on the CPU, time waiting
 * on a run queue, timeslices", in ns). A runner thread that waits for a CPU starts statements late
 * and reads answers late: on a machine whose cores the database (or other work) also uses, the lag
 * and the latencies then measure that wait, not the database. Event-loop utilisation cannot show
 * it, since a thread waiting to be woken counts as idle.
 */

const SCHEDSTAT = '/proc/thread-self/schedstat';

/** The run-queue wait (ns) in a schedstat line, or undefined when the line is not one. */
export function parseSchedstatWaitNs(text: string): number | undefined {
  const fields = text.trim().split(/\s+/);
  if (fields.length < 2) return undefined;
  const wait = Number(fields[1]);
  return Number.isSafeInteger(wait) && wait >= 0 ? wait : undefined;
}

let unavailable = false;

/**
 * The calling thread's run-queue wait so far (ms), or undefined where the kernel does not tell
 * (not Linux, or a kernel without schedstats): then every caller gets undefined without another
 * try. Opening, reading and closing the file took about 26 µs on a Xeon and 47 µs on an EPYC
 * virtual machine (a kept descriptor read with `pread` about 3 µs and 2.3 µs): for a sample every
 * batch (50 ms) or second, not per statement, not worth keeping one open per thread.
 */
export function threadCpuWaitMs(): number | undefined {
  if (unavailable) return undefined;
  let text: string;
  try {
    text = readFileSync(SCHEDSTAT, 'latin1');
  } catch {
    unavailable = true;
    return undefined;
  }
  const ns = parseSchedstatWaitNs(text);
  if (ns === undefined) {
    unavailable = true;
    return undefined;
  }
  return ns / 1e6;
}

/**
 * Share (0–1) of `wallMs` spent waiting for a CPU between two {@link threadCpuWaitMs} readings,
 * or undefined when either is missing or no time passed.
 */
export function cpuWaitShare(
  before: number | undefined,
  after: number | undefined,
  wallMs: number,
): number | undefined {
  if (before === undefined || after === undefined || !(wallMs > 0))
    return undefined;
  return Math.min(1, Math.max(0, (after - before) / wallMs));
}

/**
 * Stretches of the calling thread's time, from its creation: `lap()` gives the share (0–1) of the
 * stretch since the previous lap (or the creation) the thread waited for a CPU, and starts the
 * next one; undefined where the kernel does not tell. Create it and lap it on the thread it
 * measures.
 */
export class CpuWaitMeter {
  #ms = threadCpuWaitMs();
  #at = performance.now();

  lap(): number | undefined {
    const ms = threadCpuWaitMs();
    const at = performance.now();
    const share = cpuWaitShare(this.#ms, ms, at - this.#at);
    this.#ms = ms;
    this.#at = at;
    return share;
  }
}
