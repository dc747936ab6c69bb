import type { EventLoopUtilization } from 'node:perf_hooks';
import type { BenchMetrics } from '../metrics';
import type { Lane } from './lanes';
import type { LoopTime } from './wire';
import { CpuWaitMeter, cpuWaitShare } from './cpu-wait';

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** How often the client gauges are refreshed (ms). */
export const CLIENT_SAMPLE_MS = 1000;

/**
 * Feeds the client-load metrics while a workload runs: every {@link CLIENT_SAMPLE_MS}, the
 * process's CPU since the previous sample (`stb_bench_client_cpu_seconds_total`), the busiest
 * runner thread's event-loop utilisation over it (`stb_bench_client_busy_ratio`) and the longest
 * share of it a runner thread waited for a CPU (`stb_bench_client_cpu_wait_ratio`, where the
 * kernel tells): the main thread, which reads and dispatches the trace, and each executor, from the
 * times it reports with every batch. `stop()` adds the last CPU and takes a last sample when the
 * stretch since the previous one is at least half a period (or there was none: a short run
 * reports too).
 */
export function startClientSampler(
  metrics: BenchMetrics,
  lanes: () => readonly Lane[],
): { stop(): void } {
  let cpu = process.cpuUsage();
  let main: EventLoopUtilization = performance.eventLoopUtilization();
  const mainWaits = new CpuWaitMeter();
  const seen = new Map<Lane, LoopTime>();
  let sampledAt = -1;
  const addCpu = (): void => {
    const c = process.cpuUsage();
    metrics.clientCpu.inc(
      Math.max(0, c.user + c.system - cpu.user - cpu.system) / 1e6,
    );
    cpu = c;
  };
  const sample = (): void => {
    addCpu();
    sampledAt = performance.now();
    let busiest = performance.eventLoopUtilization(main).utilization;
    main = performance.eventLoopUtilization();
    let longestWait = mainWaits.lap();
    for (const lane of lanes()) {
      const now = lane.loop;
      if (now === null) continue;
      const before = seen.get(lane);
      seen.set(lane, now);
      if (before === undefined) continue;
      const active = now.active - before.active;
      const total = active + now.idle - before.idle;
      // no batch since the previous sample: nothing new to tell about this thread
      if (total > 0 && active / total > busiest) busiest = active / total;
      const w = cpuWaitShare(before.cpuWait, now.cpuWait, total);
      if (w !== undefined) longestWait = Math.max(longestWait ?? 0, w);
    }
    metrics.clientBusy.set(round3(busiest));
    if (longestWait !== undefined)
      metrics.clientCpuWait.set(round3(longestWait));
  };
  const timer = setInterval(sample, CLIENT_SAMPLE_MS);
  timer.unref();
  return {
    stop(): void {
      clearInterval(timer);
      // the last stretch: all of a short run; after a full sample, only a stretch long enough
      // to say something (the wind-down alone would read as idle)
      if (
        sampledAt < 0 ||
        performance.now() - sampledAt >= CLIENT_SAMPLE_MS / 2
      )
        sample();
      else addCpu();
    },
  };
}
