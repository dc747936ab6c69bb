import type { BenchResult } from '@stb/core';
import { BenchComparison, createRng } from '@stb/core';
import { lognormal, makeResult, windowsOf } from '../tests/helpers/results';
import { clockStepNs, compareBenchResults } from './compare';
import {
  parseErrorRateThreshold,
  parseRegressionThreshold,
} from './thresholds';

describe('compareBenchResults', () => {
  it('intervals cover the truth: same distribution, minimum effect 0 → about 5 % false verdicts', () => {
    const rng = createRng(42);
    let flagged = 0;
    const pairs = 80;
    for (let i = 0; i < pairs; i++) {
      const a = makeResult([
        { templateId: 't', latenciesMs: lognormal(rng, 1000, 2) },
      ]);
      const b = makeResult([
        { templateId: 't', latenciesMs: lognormal(rng, 1000, 2) },
      ]);
      const c = compareBenchResults(a, b, {
        minEffect: 0,
        resamples: 500,
        seed: i,
        verdictQuantiles: ['p50'],
      });
      if (c.templates[0]?.latency.p50.verdict !== 'no-significant-change')
        flagged++;
    }
    // a 95 % interval: ~4 of 80 expected; binomial 99 % range is 0..10
    expect(flagged).toBeGreaterThanOrEqual(1); // seeded: not 0, so the intervals are not overly wide
    expect(flagged).toBeLessThanOrEqual(10);
  });

  it('calls a 30 % slower template slower and leaves the others alone', () => {
    const rng = createRng(7);
    const specs = (slow: number) => [
      { templateId: 'fast', latenciesMs: lognormal(rng, 3000, 0.2) },
      { templateId: 'slow', latenciesMs: lognormal(rng, 3000, 1 * slow) },
    ];
    const c = compareBenchResults(
      makeResult(specs(1)),
      makeResult(specs(1.3)),
      {
        thresholds: [parseRegressionThreshold('p50=10%')],
      },
    );
    expect(BenchComparison.parse(c)).toEqual(c);
    const v = Object.fromEntries(
      c.templates.map((t) => [t.templateId, t.verdict]),
    );
    expect(v).toEqual({ fast: 'no-significant-change', slow: 'slower' });
    const slow = c.templates.find((t) => t.templateId === 'slow');
    expect(slow?.latency.p50.low).toBeGreaterThan(1.05);
    expect(slow?.latency.p50.high).toBeLessThan(1.6);
    expect(c.passed).toBe(false);
    expect(c.thresholds.filter((t) => !t.passed).map((t) => t.scope)).toEqual(
      expect.arrayContaining(['slow']),
    );
    expect(c.thresholds.find((t) => t.scope === 'fast')?.passed).toBe(true);
  });

  it('reports a shift every template shares as a run-level shift, not as per-template verdicts', () => {
    const rng = createRng(11);
    const ids = ['a', 'b', 'c', 'd'];
    const run = (factor: number) =>
      makeResult(
        ids.map((templateId, i) => ({
          templateId,
          latenciesMs: lognormal(rng, 3000, {
            ms: (1 + i) * factor,
            sigma: 0.3,
          }),
        })),
      );
    const c = compareBenchResults(run(1), run(1.25));
    expect(BenchComparison.parse(c)).toEqual(c);
    const p50 = c.runShifts?.find((s) => s.quantile === 'p50');
    expect(p50).toMatchObject({
      verdict: 'slower',
      applied: true,
      templates: 4,
      agreeing: 4,
    });
    expect(p50?.ratio).toBeGreaterThan(1.15);
    expect(p50?.low).toBeGreaterThan(1.05);
    expect(c.templates.map((t) => t.verdict)).toEqual(
      ids.map(() => 'no-significant-change'),
    );
    expect(c.templates[0]?.latency.p50.runShift).toBe(p50?.ratio);
    // the measured ratios and intervals are kept as they are
    expect(c.templates[0]?.latency.p50.low).toBeGreaterThan(1.05);
    expect(c.overall.verdict).toBe('slower');
    expect(c.warnings.join('\n')).toContain('Run-level shift at p50');
  });

  it('a template slower than the shared shift stays slower; one slow template of four is no run shift', () => {
    const rng = createRng(12);
    const ids = ['a', 'b', 'c', 'd'];
    const run = (factors: number[]) =>
      makeResult(
        ids.map((templateId, i) => ({
          templateId,
          latenciesMs: lognormal(rng, 3000, {
            ms: (1 + i) * (factors[i] ?? 1),
            sigma: 0.3,
          }),
        })),
      );
    const one = compareBenchResults(run([1, 1, 1, 1]), run([1, 1.5, 1, 1]));
    expect(one.runShifts?.some((s) => s.applied)).toBe(false);
    expect(one.templates.map((t) => t.verdict)).toEqual([
      'no-significant-change',
      'slower',
      'no-significant-change',
      'no-significant-change',
    ]);
    const shared = compareBenchResults(
      run([1, 1, 1, 1]),
      run([1.2, 1.8, 1.2, 1.2]),
    );
    expect(shared.runShifts?.find((s) => s.quantile === 'p50')?.applied).toBe(
      true,
    );
    expect(shared.templates.map((t) => t.verdict)).toEqual([
      'no-significant-change',
      'slower',
      'no-significant-change',
      'no-significant-change',
    ]);
  });

  it('a design effect widens the interval', () => {
    const rng = createRng(3);
    const a = makeResult([
      { templateId: 't', latenciesMs: lognormal(rng, 2000, 1) },
    ]);
    const b = makeResult([
      { templateId: 't', latenciesMs: lognormal(rng, 2000, 1.04) },
    ]);
    const width = (r: BenchResult, s: BenchResult) => {
      const l = compareBenchResults(r, s).templates[0]?.latency.p50;
      return (l?.high ?? 0) - (l?.low ?? 0);
    };
    const inflate = (r: BenchResult): BenchResult => ({
      ...r,
      templates: r.templates.map((t) => ({ ...t, latencyDesignEffect: 9 })),
    });
    const w1 = width(a, b);
    const w9 = width(inflate(a), inflate(b));
    expect(w9 / w1).toBeGreaterThan(2.4);
    expect(w9 / w1).toBeLessThan(3.6);
  });

  it('the whole-run interval takes the run-level drift from the time windows', () => {
    // both runs draw from one process: each 100-ms window has its own level (the machine's state,
    // lognormal σ 0.3 between windows) and executions scatter around it (σ 0.3)
    const rng = createRng(21);
    const run = (factor = 1): BenchResult => {
      const perWindow = Array.from({ length: 40 }, () => {
        const level = factor * Math.exp(0.3 * rng.normal());
        return lognormal(rng, 50, { ms: level, sigma: 0.3 });
      });
      const r = makeResult([
        { templateId: 't', latenciesMs: perWindow.flat() },
      ]);
      return {
        ...r,
        overall: { ...r.overall, latencyWindows: windowsOf(perWindow) },
      };
    };
    const withoutWindows = (r: BenchResult): BenchResult => ({
      ...r,
      overall: { ...r.overall, latencyWindows: undefined },
    });
    let falseWith = 0;
    let falseWithout = 0;
    let slower = 0;
    const pairs = 24;
    for (let i = 0; i < pairs; i++) {
      const a = run();
      const b = run();
      const opts = { resamples: 500, seed: i };
      const c = compareBenchResults(a, b, opts);
      if (i === 0) expect(BenchComparison.parse(c)).toEqual(c);
      if (c.overall.verdict !== 'no-significant-change') falseWith++;
      const d = compareBenchResults(withoutWindows(a), withoutWindows(b), opts);
      if (d.overall.verdict !== 'no-significant-change') falseWithout++;
      if (
        i < 8 &&
        compareBenchResults(a, run(1.3), opts).overall.verdict === 'slower'
      )
        slower++;
    }
    // the run-level mean of 40 window levels moves by σ 0.3/√40 ≈ 0.047 per run, which executions
    // treated as independent do not show (half-width ~1.5 %): about a third of the pairs are
    // called faster or slower; the windows' spread covers it
    expect(falseWithout).toBeGreaterThanOrEqual(6);
    expect(falseWith).toBeLessThanOrEqual(3);
    // and it is not so wide that it misses a real change: a 30 % slower candidate is called slower
    expect(slower).toBeGreaterThanOrEqual(6);
  });

  it('reports new, missing and changed SQLSTATEs, row divergence and templates of one run', () => {
    const rng = createRng(5);
    const lat = () => lognormal(rng, 1000, 1);
    const a = makeResult([
      { templateId: 'ins', latenciesMs: lat(), errors: { '40001': 10 } },
      { templateId: 'sel', latenciesMs: lat(), rows: () => 1 },
      { templateId: 'upd', latenciesMs: lat(), errors: { '23505': 100 } },
      { templateId: 'gone', latenciesMs: lat() },
    ]);
    const b = makeResult([
      { templateId: 'ins', latenciesMs: lat(), errors: { '23505': 5 } },
      { templateId: 'sel', latenciesMs: lat(), rows: (i) => (i % 2 ? 1 : 0) },
      { templateId: 'upd', latenciesMs: lat(), errors: { '23505': 300 } },
      { templateId: 'new', latenciesMs: lat() },
    ]);
    const c = compareBenchResults(a, b, {
      thresholds: [parseErrorRateThreshold('0.1%')],
    });
    const t = new Map(c.templates.map((x) => [x.templateId, x]));
    expect(t.get('ins')?.errors.new.map((e) => e.code)).toEqual(['23505']);
    expect(t.get('ins')?.errors.missing.map((e) => e.code)).toEqual(['40001']);
    expect(t.get('upd')?.errors.changed.map((e) => e.code)).toEqual(['23505']);
    expect(t.get('sel')?.rows.changed).toBe(true);
    expect(t.get('sel')?.rows.meanRatio).toBe(0.5);
    expect(t.get('ins')?.rows.changed).toBe(false);
    expect(c.onlyInBaseline.map((x) => x.templateId)).toEqual(['gone']);
    expect(c.onlyInCandidate.map((x) => x.templateId)).toEqual(['new']);
    expect(c.summary.errorDivergence).toBe(2);
    expect(c.summary.rowDivergence).toBe(1);
    // error rate: ins 1 % → 0.5 % passes; upd 10 % → 30 % fails; overall rises
    const failed = c.thresholds.filter((x) => !x.passed).map((x) => x.scope);
    expect(failed).toEqual(['overall', 'upd']);
  });

  it('is deterministic for a seed', () => {
    const rng = createRng(9);
    const a = makeResult([
      { templateId: 't', latenciesMs: lognormal(rng, 500, 1) },
    ]);
    const b = makeResult([
      { templateId: 't', latenciesMs: lognormal(rng, 500, 1) },
    ]);
    const opts = { createdAt: '2024-01-01T00:00:00Z', seed: 4 };
    expect(JSON.stringify(compareBenchResults(a, b, opts))).toBe(
      JSON.stringify(compareBenchResults(a, b, opts)),
    );
  });

  it('warns when the client limited a run, naming the run and every sign, and not otherwise', () => {
    const rng = createRng(11);
    const run = (): BenchResult =>
      makeResult([{ templateId: 't', latenciesMs: lognormal(rng, 500, 1) }]);
    const client = {
      cpuSeconds: 1,
      queries: 1000,
      cpuPerQueryUs: 1000,
      threads: 1,
    };
    const starved: BenchResult = {
      ...run(),
      version: 4,
      client: { ...client, busiestThreadShare: 0.92, cpuWaitShare: 0.4 },
    };
    const idle: BenchResult = {
      ...run(),
      version: 4,
      client: { ...client, busiestThreadShare: 0.3, cpuWaitShare: 0.02 },
    };
    const limited = (c: BenchComparison): string[] =>
      c.warnings.filter((w) => w.startsWith('The client limited'));
    expect(limited(compareBenchResults(idle, idle))).toEqual([]);
    // results without a client block (versions 1 and 2) say nothing either way
    expect(limited(compareBenchResults(run(), run()))).toEqual([]);
    const c = compareBenchResults(idle, starved, {
      labels: { baseline: 'before', candidate: 'after' },
    });
    expect(limited(c)).toEqual([
      "The client limited after (a runner thread busy 92% of the run; a runner thread waiting for a CPU 40% of the run): its figures are partly the load generator's, so a difference may be the client's, not the database's. Give the runner cores of its own and re-run.",
    ]);
  });

  it('warns when a completed run aborted sessions (less load than its trace), and not otherwise', () => {
    const rng = createRng(12);
    const run = (): BenchResult =>
      makeResult([{ templateId: 't', latenciesMs: lognormal(rng, 500, 1) }]);
    const whole = run();
    const crashed: BenchResult = {
      ...run(),
      sessions: { ...whole.sessions, aborted: 2 },
      skipped: { ...whole.skipped, notRun: 40 },
      faults: { ...whole.faults, workerCrashes: 1 },
    };
    const less = (c: BenchComparison): string[] =>
      c.warnings.filter((w) => w.includes('ran less load'));
    expect(less(compareBenchResults(whole, whole))).toEqual([]);
    expect(
      less(
        compareBenchResults(whole, crashed, {
          labels: { baseline: 'before', candidate: 'after' },
        }),
      ),
    ).toEqual([
      `after ran less load than its trace: 2 of ${String(whole.sessions.total)} sessions were aborted (1 worker crashes) and 40 events not run.`,
    ]);
  });

  it('refuses results without histograms with STB_BENCH_RESULT_INVALID', () => {
    const rng = createRng(1);
    const a = makeResult([
      { templateId: 't', latenciesMs: lognormal(rng, 50, 1) },
    ]);
    const old = {
      ...a,
      overall: { ...a.overall, latencyHistogramNs: undefined },
    };
    expect(() =>
      compareBenchResults(old, a, { labels: { baseline: 'old.json' } }),
    ).toThrow(
      expect.objectContaining({
        code: 'STB_BENCH_RESULT_INVALID',
        message: expect.stringContaining('old.json has no latency histograms'),
      }),
    );
  });
});

describe('thresholds', () => {
  it('parses k6-style limits', () => {
    expect(parseRegressionThreshold('p95=10%')).toEqual({
      metric: 'p95',
      limit: 0.1,
      scope: 'all',
      text: 'p95=10%',
    });
    expect(parseRegressionThreshold('overall:throughput=0.05')).toMatchObject({
      metric: 'throughput',
      limit: 0.05,
      scope: 'overall',
    });
    expect(parseErrorRateThreshold('0.1%').limit).toBeCloseTo(0.001);
    expect(() => parseRegressionThreshold('p97=10%')).toThrow(
      expect.objectContaining({ code: 'STB_OPTIONS_INVALID' }),
    );
    expect(() => parseRegressionThreshold('p95=ten')).toThrow(
      expect.objectContaining({ code: 'STB_OPTIONS_INVALID' }),
    );
  });
});

describe('clock resolution', () => {
  it("is the step of an epoch-ms double at the run's start (244 ns in 2026)", () => {
    expect(clockStepNs('2026-12-02T16:00:00.000Z')).toBeCloseTo(244.140625, 6);
    expect(clockStepNs('not a date')).toBe(0);
  });

  it('calls no change for a quantile that moved one clock step, and still calls a doubling', () => {
    // µs latencies read on the 244-ns clock: 9 steps against 10 steps is a ratio of 1.11 that
    // the bootstrap alone resolves (every execution took exactly that), against 18 steps 2.0
    const step = clockStepNs('2024-01-01T00:00:00.000Z') / 1e6;
    const run = (steps: number) =>
      makeResult([
        {
          templateId: 't',
          latenciesMs: Array.from({ length: 4000 }, () => steps * step),
        },
      ]);
    const oneStep = compareBenchResults(run(9), run(10));
    expect(oneStep.templates[0]?.latency.p50.ratio).toBeGreaterThan(1.1);
    expect(oneStep.templates[0]?.verdict).toBe('no-significant-change');
    const doubled = compareBenchResults(run(9), run(18));
    expect(doubled.templates[0]?.verdict).toBe('slower');
  });
});
