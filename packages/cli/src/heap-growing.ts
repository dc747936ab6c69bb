import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import type { Worker } from 'node:worker_threads';

/** Whether the `stb` binary set the heap's growing factor (never in-process callers). */
let set = false;

/**
 * The `stb` binary's heap growing factor. V8 lets the old generation grow to several times what
 * survived the last full collection before collecting again. `stb parse` holds its reorder window
 * (up to 100 000 events, ~30 MB) long enough for the events to be promoted and then die old, so its
 * heap sat at 4× the live data (peak RSS 350–450 MB on pgbench logs, issue 19). Growing by 30 %
 * keeps the peak near the live size (~230 MB) for a few per cent more GC time. Read at every
 * collection, so it applies when set at start.
 */
export function limitHeapGrowing(): void {
  setFlagsFromString('--heap-growing-percent=30');
  set = true;
}

/**
 * A growing factor of 100 % instead of 30 %, when the binary had set it, for a run whose main
 * thread holds little on its heap: `stb parse --workers 2` and more, and byte ranges, where the
 * window holds packed bytes outside it. There the 30 % limit counted the bytes arriving from the
 * threads and made the main thread mark the whole heap every 80 ms or so (38 full collections on
 * the 100 MiB pgbench log against 3 with V8's own factor; CPU 6 % higher). V8's own factor, kept
 * from 2026-12-03 (byte ranges: 12-06) to 12-07, let the heaps grow with the run instead: on the
 * 1 GiB pgbench stderr log `--workers 2` peaked at 285.1–311.2 MB (10 runs) against 251.5–273.4
 * on a 100 MiB log of another pgbench run (4). With 100 % (by hand, 2026-12-07, `--json`, the
 * pairs alternating): 1 GiB 268.0–277.9 MB (6 runs), wall 22.72, 22.64, 23.56 s against 23.94,
 * 22.52, 21.98 s in the 3 pairs run side by side; 100 MiB stderr 253.4–262.5 MB against
 * 251.5–273.4 (4 pairs, wall 4.21–4.62 s against 3.77–4.66 s); csvlog, jsonlog, MariaDB general
 * log 231.6–238.5 MB against 230.7–247.8, wall within each other's spread (3 pairs each);
 * `--workers 1 --ranges` 100 MiB 247.5–252.1 MB against 259.1–275.2, 4.03–4.14 s against
 * 4.15–4.49 s (3 pairs). 50 % took the 1 GiB log to 262.7–269.4 MB for more CPU in each of 3 pairs
 * (55.3, 62.4, 48.1 s against 53.6, 46.9, 43.9 s with 100 %, on a busier machine: 24.5–33.6 s of
 * wall): not kept. Every thread reads the flag (V8's flags are the process's), so the parse and
 * extraction threads grow by 100 % too. Without extraction threads or byte ranges (one thread,
 * or `--workers 1`: a parse thread, and the main thread extracts), it stays at 30 %.
 */
export function relaxHeapGrowing(): void {
  if (set) setFlagsFromString('--heap-growing-percent=100');
}

/**
 * Young-generation collections on the collecting thread alone, for `stb parse --workers 2` and
 * more (a parse thread and extraction threads) and for byte ranges (`--ranges`), where the cores
 * already run JavaScript threads: V8's parallel scavenge hands its work to helper threads that
 * then compete with them. By hand on 2026-12-06 (2 cores, a 124 MB pgbench log, 4 alternating
 * pairs each): `--workers 2` 2.39–2.53 s wall (median 2.40) against 2.45–2.62 s (2.50), 3 pairs
 * faster; byte ranges (one range thread, an earlier build) 2.99–3.27 s (3.15) against
 * 3.18–3.36 s (3.24), 3 pairs faster. The flag given to `node` itself did better (`--workers 2`:
 * 2.45–2.70 s against 2.70–2.79 s, 4 pairs); why the flag set at run time does less is not
 * established (V8 reading it once for this thread is a guess, not checked). In the bench's run of 06:19 UTC
 * the helper threads of `--workers 2` on the 1 GiB log used 1.59 CPU s against 2.86 at 06:05
 * (without it), and its threads more: the ratio to one pinned thread was 1.53 against 1.57.
 */
export function scavengeAlone(): void {
  setFlagsFromString('--no-parallel-scavenge');
}

/**
 * The heap limits of `stb parse --workers`' extraction threads: a young generation of 16 MB instead
 * of V8's 48 (two semi-spaces of 16 MB, and as much again for large objects). An extraction thread
 * keeps about 8 MB of objects alive, the same after 400 batches as after 4,000 (heap snapshots, 1
 * GiB pgbench log), so the larger young generation was room filled before each scavenge: peak RSS,
 * not speed. By hand on 2026-12-07, 2 cores, alternating runs of `stb parse --json --workers 2`,
 * against V8's size (peak RSS in MB of 1,048,576 bytes, as BENCHMARKS.md gives it):
 * - pgbench stderr, 100 MiB: 247.3–254.7 MB against 263.6–267.0 (4 runs each), wall 2.81–2.92 s
 *   against 2.78–3.04 s; 1 GiB: 275.6 and 281.9 MB against 285.2 and 286.8, wall 22.07 and
 *   21.34 s against 22.29 and 21.12 s;
 * - csvlog, 100 MiB: 233.8–237.7 MB against 248.3–252.9 (4 runs each), wall 2.07–2.37 s against
 *   2.05–2.20 s; jsonlog: 230.0 and 239.1 MB against 244.9 and 245.4, 1.56 s twice against 1.52
 *   and 1.63 s; MariaDB general log: 224.7 and 227.9 MB against 239.1 and 243.6, 3.72 and 3.62 s
 *   against 3.64 and 3.73 s.
 *
 * Not kept: the same limit on the parse thread as well. It took the stderr logs further (100 MiB:
 * 226.7–235.1 MB in 7 runs; 1 GiB: 253.6–265.4 MB against 288.1–293.5 in 6 alternating runs
 * each, wall 20.0–22.0 s against 20.5–22.5 s) but made the csvlog slower and no smaller (2.46 s
 * twice and 249.3–260.7 MB against 2.18–2.20 s and 251.2–251.4 MB; why is not established). 32
 * MB for the parse thread gained nothing over leaving it at V8's size. Smaller for both threads
 * did worse: 12 and 8 MB took 3.07–3.21 s on the 100 MiB stderr log for 265.3–271.1 MB. The range
 * threads (`--ranges`, which parse and extract) keep V8's size: with 16 MB, `--workers 1 --ranges`
 * on that log took 3.70–3.85 s and 284.9–289.6 MB against 3.50–3.56 s and 272.8–282.4 MB (3
 * alternating pairs). The main thread's young generation can only be set when Node starts.
 */
export const EXTRACT_THREAD_LIMITS = { maxYoungGenerationSizeMb: 16 } as const;

/**
 * The main thread's young generation (both semi-spaces: its `new_space`) at which `stb parse
 * --workers 2` and more hold it, in bytes (see {@link YoungGenerationHold}).
 */
const MAIN_YOUNG_BYTES = 16 << 20;

/**
 * The semi-space (MB) the threads of `stb parse --workers 2` start with: the parse thread's
 * maximum (V8's 16 MB), and more than an extraction thread's (`EXTRACT_THREAD_LIMITS`), which is
 * clamped to its own. They start at their maximum, as they would have grown to it.
 */
const THREAD_SEMI_SPACE_MB = 16;

/** The main thread's young generation now (its `new_space`), in bytes. */
function mainYoungBytes(): number {
  for (const s of getHeapSpaceStatistics())
    if (s.space_name === 'new_space') return s.space_size;
  return 0;
}

/**
 * Caps the main thread's young generation at {@link MAIN_YOUNG_BYTES} during `stb parse
 * --workers 2` and more, where that thread only orders and writes packed bytes. V8 grows a young
 * generation (doubling it, up to twice its largest semi-space: 32 MB on Node 20, with an old
 * generation limited to 512 MB as to 4 GiB) once as many bytes have survived its collections as
 * it holds, which a long run always reaches; its maximum can only be set when Node starts
 * (`--max-semi-space-size`), and a worker's (`resourceLimits`) when it is created. What V8 reads
 * at run time is the growth factor (`--semi-space-growth-factor`, read at each growth): at 1 a
 * young generation does not grow (V8 may still shrink one; it then stays smaller). The flag is the
 * process's, so every thread is held: the threads therefore start at their maximum
 * (`--min-semi-space-size`, read when an isolate is created), and the factor goes to 1 only once
 * they have all started (V8's `Heap::ConfigureHeap` raises a factor below 2 to 2 whenever an
 * isolate is created; seen here too, a main thread held at 1 grew again once a worker had started)
 * and the main thread's young generation has reached its size. Not held when the user gave Node
 * a semi-space size of their own (`--min-` or `--max-semi-space-size`, on the command line or in
 * `NODE_OPTIONS`): their setting stands.
 *
 * By hand on 2026-12-07 (2 cores, `--json`, 3 alternating pairs each; peak RSS by `/usr/bin/time`
 * in MB of 1,048,576 bytes; CPU user + system): the 1 GiB pgbench stderr log 256.4, 257.0, 263.7
 * MB against 271.8, 276.0, 270.0, CPU 41.4, 42.0, 45.9 s against 39.7, 44.3, 44.6 s, wall 22.5,
 * 23.4, 25.5 s against 21.9, 24.6, 24.8 s; the 100 MiB log 239.2, 242.0, 238.6 MB against 258.8,
 * 248.4, 258.8, CPU 6.44, 5.81, 5.84 s against 6.24, 5.97, 6.08 s; the same trace. Not kept (1 GiB
 * log, 2 alternating pairs each): holding it at 8 MB (as soon as the threads had started): 242.7
 * and 247.1 MB against 273.2 and 267.8, but CPU 45.5 and 44.6 s against 40.3 and 39.7 s; at 16
 * MB with the parse thread's young generation at 24 MB (`resourceLimits`): 249.0 and 244.7 MB
 * against 275.2 and 287.3, CPU 56.6 and 54.3 s against 51.5 and 51.9 s; the ordering and writing
 * moved to a worker of their own with a young generation of 16 or 24 MB (`resourceLimits`, the
 * main thread idle): 264.6–268.2 MB against 271.6 and 275.6, an idle isolate costing about 10 MB
 * (`node` with one idle worker: 51.1 MB against 39.4). `node --max-semi-space-size=8` would do it
 * from the start, but for every command: one-thread `stb parse` of the 100 MiB log took 9.26,
 * 8.07, 6.84 s of CPU with it against 6.31, 7.32, 5.18 s (3 alternating pairs while a pgbench run
 * shared the machine).
 */
export class YoungGenerationHold {
  /** The threads started (none until `start`: no hold before). */
  #threads = Number.POSITIVE_INFINITY;
  #online = 0;
  #held = false;
  /** `--min-semi-space-size` is set for the threads to come. */
  #minSet = false;

  /**
   * Creates the threads (`create`) so that they start at their maximum young generation, and
   * holds the young generations once every one has started; returns them.
   */
  start(create: () => Worker[]): Worker[] {
    setFlagsFromString(`--min-semi-space-size=${THREAD_SEMI_SPACE_MB}`);
    this.#minSet = true;
    const threads = create();
    this.#threads = threads.length;
    for (const t of threads)
      t.once('online', () => {
        this.#online++;
        if (this.#online === this.#threads) {
          this.#startAsV8();
          this.check();
        }
      });
    return threads;
  }

  /**
   * Holds the young generations once every thread has started and the main one has grown to its
   * size. The hold is not released (see `end`): the `stb` binary runs one command.
   */
  check(): void {
    if (this.#held || this.#online < this.#threads) return;
    if (mainYoungBytes() < MAIN_YOUNG_BYTES) return;
    setFlagsFromString('--semi-space-growth-factor=1');
    this.#held = true;
  }

  /**
   * The run ended: isolates created later (none in `stb parse`) start as V8 would start them, also
   * when a thread never started (it failed, or the run ended first). The hold itself stays: after
   * the parse thread's end, the main thread still writes the window's last events.
   */
  end(): void {
    this.#startAsV8();
  }

  #startAsV8(): void {
    if (!this.#minSet) return;
    setFlagsFromString('--min-semi-space-size=0');
    this.#minSet = false;
  }
}

/** Whether Node was given a semi-space size (`--min-` or `--max-semi-space-size`). */
function semiSpaceGiven(): boolean {
  const given = [...process.execArgv, process.env['NODE_OPTIONS'] ?? ''];
  return given.some((a) => /semi[-_]space[-_]size/.test(a));
}

/**
 * A {@link YoungGenerationHold} for `stb parse --workers 2` and more, when the `stb` binary set
 * the heap's growing factor (never for in-process callers, whose heaps are theirs), unless Node
 * was given a semi-space size.
 */
export function holdYoungGeneration(): YoungGenerationHold | undefined {
  return set && !semiSpaceGiven() ? new YoungGenerationHold() : undefined;
}
