import {
  CpuWaitMeter,
  cpuWaitShare,
  parseSchedstatWaitNs,
  threadCpuWaitMs,
} from './cpu-wait';

describe('the run-queue wait of a thread', () => {
  it('is the second field of a schedstat line, in ns', () => {
    expect(parseSchedstatWaitNs('1245812 7700 1\n')).toBe(7700);
    expect(parseSchedstatWaitNs('  1 0 3')).toBe(0);
    expect(parseSchedstatWaitNs('')).toBeUndefined();
    expect(parseSchedstatWaitNs('12')).toBeUndefined();
    expect(parseSchedstatWaitNs('1 x 2')).toBeUndefined();
    expect(parseSchedstatWaitNs('1 -5 2')).toBeUndefined();
  });

  it('as a share of the wall time between two readings, clamped to 0–1', () => {
    expect(cpuWaitShare(10, 35, 100)).toBe(0.25);
    expect(cpuWaitShare(10, 300, 100)).toBe(1);
    expect(cpuWaitShare(10, 5, 100)).toBe(0);
    expect(cpuWaitShare(undefined, 5, 100)).toBeUndefined();
    expect(cpuWaitShare(1, undefined, 100)).toBeUndefined();
    expect(cpuWaitShare(1, 2, 0)).toBeUndefined();
  });

  it('is read on Linux, and never goes back', () => {
    const a = threadCpuWaitMs();
    if (process.platform !== 'linux') {
      expect(a).toBeUndefined();
      return;
    }
    expect(a).toBeGreaterThanOrEqual(0);
    expect(threadCpuWaitMs()).toBeGreaterThanOrEqual(a ?? 0);
  });

  it('laps as a share of each stretch on Linux', async () => {
    const m = new CpuWaitMeter();
    await new Promise((r) => setTimeout(r, 20));
    const share = m.lap();
    if (process.platform !== 'linux') {
      expect(share).toBeUndefined();
      return;
    }
    expect(share).toBeGreaterThanOrEqual(0);
    expect(share).toBeLessThanOrEqual(1);
  });
});
