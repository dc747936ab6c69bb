import { createRng } from '@stb/core';
import type { SessionClassSampler } from '@stb/models';
import { ArrivalSchedule, bucketAt } from './arrivals';

describe('arrival buckets', () => {
  const c = {
    arrivalBucketUs: 1_000_000,
    arrivalCounts: [100, 100, 100, 25],
    arrivalSpanUs: 3_249_999, // the last bucket covers its first quarter
  };

  it('cuts the last bucket at the capture end and continues from there', () => {
    expect(bucketAt(c, 0)).toEqual({ base: 0, width: 1_000_000 });
    expect(bucketAt(c, 2)).toEqual({ base: 2_000_000, width: 1_000_000 });
    expect(bucketAt(c, 3)).toEqual({ base: 3_000_000, width: 250_000 });
    expect(bucketAt(c, 4)).toEqual({ base: 3_250_000, width: 1_000_000 });
    expect(bucketAt(c, 5)).toEqual({ base: 4_250_000, width: 1_000_000 });
    // without the span (artifacts before it was read), every bucket is whole
    const whole = { ...c, arrivalSpanUs: undefined };
    expect(bucketAt(whole, 3)).toEqual({ base: 3_000_000, width: 1_000_000 });
    expect(bucketAt(whole, 4)).toEqual({ base: 4_000_000, width: 1_000_000 });
  });

  it('keeps the rate of the capture in its last, partly covered bucket', () => {
    const cls = {
      ...c,
      poolCount: 0,
      initialCount: 0,
      poolOffsetUs: () => 0,
      initialOffsetUs: () => 0,
    } as unknown as SessionClassSampler;
    const schedule = new ArrivalSchedule([cls], {
      scale: 1,
      rng: createRng(3),
    });
    const starts: number[] = [];
    for (let s = schedule.take(); s && starts.length < 600; s = schedule.take())
      starts.push(s.offsetUs);
    const within = (a: number, b: number): number =>
      starts.filter((t) => t >= a && t < b).length;
    expect(within(3_000_000, 3_250_000)).toBe(25);
    // the continuation: the steady count (100) per whole bucket from the capture's end
    expect(within(3_250_000, 4_250_000)).toBe(100);
  });
});
