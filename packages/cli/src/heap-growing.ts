import { setFlagsFromString } from 'node:v8';

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
 * Back to V8's own growing factor, when the binary had set it, for a run whose main thread holds
 * little on its heap: `stb parse --workers 2` and more, where the window holds packed bytes
 * outside it. There the 30 % limit counted the bytes arriving from the threads and made the main
 * thread mark the whole heap every 80 ms or so (38 full collections on the 100 MiB pgbench log
 * against 3 with V8's factor). Five alternating rounds on that log: 5.42–5.74 s against
 * 5.84–6.06 s in four, 6.73 against 6.33 s in one; CPU (user + system) 6 % lower; the same peak
 * RSS (272–277 against 274–281 MB). On the 1 GiB log: 28.2 and 29.0 s against 31.4 and 30.8 s, CPU
 * 10 % lower, peak RSS 311–314 against 287–291 MB. A 100 % factor sat between the two (1 GiB:
 * 27.8 s twice, 289–299 MB; 100 MiB: 4.45–4.74 s against 4.26–4.36 s with V8's and 4.74–4.78 s
 * with 30 %). With `--workers 1` the main thread extracts, and its peak RSS grew (244–263 against
 * 231–234 MB): there the limit stays. Every thread reads the flag.
 */
export function relaxHeapGrowing(): void {
  if (set) setFlagsFromString('--heap-growing-percent=0');
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
