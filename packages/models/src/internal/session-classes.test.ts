import {
  SessionProfiles,
  SessionRole,
  classifySessions,
} from './session-classes';

/** A session of `n` statements from `firstS` to `lastS` (seconds), gaps ≤ `maxGapS`. */
function session([firstS, lastS, maxGapS, n = 20]: number[]) {
  return {
    firstUs: (firstS as number) * 1e6,
    lastStartUs: (lastS as number) * 1e6,
    lastEndUs: (lastS as number) * 1e6 + 1000,
    events: n,
    maxGapUs: (maxGapS as number) * 1e6,
    dominant: 0,
  };
}

describe('classifySessions: session roles (issue 13)', () => {
  it('counts long-lived sessions stopped with the workload as pooled, short ones not', () => {
    // pgbench -c 60 -R 150 -T 8: clients connect at 2.7–3.2 s and stop over the last second
    // (7.75–8.84 s), each more than twice its largest gap (~0.5 s) from the capture's end
    const p = new SessionProfiles();
    p.add(session([0, 0.04, 0.01, 5]), true); // the setup connection
    p.add(session([2.72, 7.75, 0.48]), true); // stopped with the run, 1.09 s before its end
    p.add(session([3.1, 8.84, 0.5]), true); // the capture's last statement
    p.add(session([2.9, 5.0, 0.4]), true); // ended by itself, mid-capture
    p.add(session([8.5, 8.8, 0.1, 4]), true); // short, near the end: not long-lived
    const c = classifySessions(p, 1000);
    expect(Array.from(c.roleOf)).toEqual([
      SessionRole.Initial,
      SessionRole.Pool,
      SessionRole.Pool,
      SessionRole.Arrival,
      SessionRole.Arrival,
    ]);
  });
});
