import { windowsOf } from '../tests/helpers/results';
import { windowDesignEffect } from './windows';

const Z95 = 1.959964;

describe('windowDesignEffect', () => {
  it('is 1 when every window holds the same latencies', () => {
    const same = Array.from({ length: 20 }, () =>
      Array.from({ length: 50 }, (_, i) => 1 + i * 0.01),
    );
    expect(windowDesignEffect(windowsOf(same), 1.25e6, Z95)).toBe(1);
  });

  it('equals the cluster-sampling variance ratio, widened by Student t for the windows it rests on', () => {
    // 10 windows of 100: five all at 1 ms, five all at 2 ms; at 1.5 ms the share below is 1 or 0
    const w = windowsOf(
      Array.from({ length: 10 }, (_, i) =>
        Array.from({ length: 100 }, () => (i < 5 ? 1 : 2)),
      ),
    );
    // between = 10 × 50² = 25 000; unit = 1000 × 0.25 = 250; × k/(k−1) = 111.1; × (t₉ / z)²
    const t9 = 2.262157;
    expect(windowDesignEffect(w, 1.5e6, Z95)).toBeCloseTo(
      (10 / 9) * 100 * (t9 / Z95) ** 2,
      0,
    );
  });

  it('counts a bucket holding the value as spread evenly over it', () => {
    // 1.0 ms lies in the bucket [983 040, 1 048 576) ns, 1.1 ms above it: at 1.02 ms every 1.0-ms
    // execution counts 0.564 below, so 11 windows hold 0.564 of theirs and the 1.1-ms window none
    const w = windowsOf(
      Array.from({ length: 12 }, (_, i) =>
        Array.from({ length: 40 }, () => (i === 0 ? 1.1 : 1.0)),
      ),
    );
    // p = 11 × 40 × 0.564 / 480; between = Σ (y − p·40)²; unit = Σ over executions of (share − p)²
    const s = (1.02e6 - 983040) / 65536;
    const p = (11 * s) / 12;
    const between = 11 * (40 * s - 40 * p) ** 2 + (0 - 40 * p) ** 2;
    const unit = 440 * (s - p) ** 2 + 40 * p ** 2;
    const t11 = 2.200985;
    expect(windowDesignEffect(w, 1.02e6, Z95)).toBeCloseTo(
      ((12 / 11) * between * (t11 / Z95) ** 2) / unit,
      1,
    );
  });

  it('gives no figure with fewer than 8 non-empty windows or no spread', () => {
    const few = windowsOf([[1, 2], [], [1, 2], [3], [1], [2], [2]]);
    expect(windowDesignEffect(few, 1.5e6, Z95)).toBeUndefined();
    const flat = windowsOf(Array.from({ length: 9 }, () => [1, 1, 1]));
    expect(windowDesignEffect(flat, 5e6, Z95)).toBeUndefined();
  });
});
