import { readFile } from 'node:fs/promises';

import {
  type BenchComparison,
  type BenchResult,
  type ComparedQuantile,
  isStbError,
  StbError,
  writeFileAtomic,
} from '@stb/core';
import {
  compareBenchResults,
  parseBenchResult,
  parseErrorRateThreshold,
  parseRegressionThreshold,
  renderComparisonHtml,
  type Threshold,
} from '@stb/compare';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';

import type { CliContext } from '../context';
import { addExamples } from '../context';
import { EXIT_CODES } from '../exit-codes';
import { assertWritable, createdAtFromEnv, inputsOf } from '../outputs';

/** Options of `stb compare`. */
export interface CompareCommandOptions {
  report?: string;
  jsonReport?: string;
  minEffect?: number;
  confidence?: number;
  resamples?: number;
  seed?: number;
  verdictOn?: ComparedQuantile[];
  rowTolerance?: number;
  maxRegression: Threshold[];
  maxErrorRateIncrease: Threshold[];
}

function cliParser<T>(parse: (v: string) => T): (v: string) => T {
  return (v) => {
    try {
      return parse(v);
    } catch (e) {
      throw new InvalidArgumentError(
        isStbError(e)
          ? e.message.replace(/^\[stb\] \[compare\] /, '')
          : String(e),
      );
    }
  };
}

function collect(
  parse: (v: string) => Threshold,
): (v: string, prev: Threshold[]) => Threshold[] {
  const p = cliParser((v: string) =>
    v
      .split(',')
      .filter((s) => s.trim() !== '')
      .map(parse),
  );
  return (v, prev) => [...prev, ...p(v)];
}

function parseFraction(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(value.trim());
  if (!m)
    throw new InvalidArgumentError(
      `Expected a percentage or a fraction (5% or 0.05), got \`${value}\`.`,
    );
  return m[2] === '%' ? Number(m[1]) / 100 : Number(m[1]);
}

function parseConfidence(value: string): number {
  const n = parseFraction(value);
  if (!(n > 0.5 && n < 1))
    throw new InvalidArgumentError(
      `Expected a confidence level between 50% and 100% (e.g. 95%), got \`${value}\`.`,
    );
  return n;
}

function parseIntOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n))
    throw new InvalidArgumentError(`Expected an integer, got \`${value}\`.`);
  return n;
}

function parseQuantiles(value: string): ComparedQuantile[] {
  const list = value.split(',').map((s) => s.trim());
  for (const q of list)
    if (q !== 'p50' && q !== 'p95' && q !== 'p99')
      throw new InvalidArgumentError(
        `Expected a list of p50, p95, p99, got \`${value}\`.`,
      );
  return list as ComparedQuantile[];
}

/** Reads and validates one bench result file (exit 3 when it is not one). */
export async function readBenchResult(
  path: string,
  label: string,
): Promise<BenchResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    throw new StbError(
      code === 'ENOENT' ? 'STB_INPUT_NOT_FOUND' : 'STB_INPUT_UNREADABLE',
      `[stb] [cli] Cannot read \`${label}\`${code === 'ENOENT' ? ': no such file' : ''}. Pass the JSON written by \`stb bench -o\`.`,
      { cause, details: { file: label } },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new StbError(
      'STB_BENCH_RESULT_INVALID',
      `[stb] [compare] ${label} is not JSON (${(cause as Error).message}). Pass the JSON written by \`stb bench -o\`.`,
      { cause, details: { file: label } },
    );
  }
  return parseBenchResult(json, label);
}

const f3 = (x: number | null): string => (x === null ? '—' : x.toFixed(3));

/** The human summary printed on stderr. */
export function formatComparison(c: BenchComparison): string[] {
  const word = (v: string): string =>
    v === 'no-significant-change' ? 'no significant change' : v;
  const lat = (s: BenchComparison['overall']): string =>
    (['p50', 'p95', 'p99'] as const)
      .map(
        (q) =>
          `${q} ${f3(s.latency[q].ratio)}× [${f3(s.latency[q].low)}, ${f3(s.latency[q].high)}]`,
      )
      .join('  ');
  const lines = [
    `[stb] ${c.candidate.label} against ${c.baseline.label}: ${word(c.overall.verdict)} overall; templates: ${c.summary.slower} slower, ${c.summary.faster} faster, ${c.summary.unchanged} no significant change (min effect ${(c.options.minEffect * 100).toFixed(1)} %, ${Math.round(c.options.confidence * 100)} % intervals)`,
    `  overall   throughput ${f3(c.overall.throughput.ratio)}×  errors ${(c.overall.errorRate.baseline * 100).toFixed(3)} % → ${(c.overall.errorRate.candidate * 100).toFixed(3)} %  ${lat(c.overall)}`,
  ];
  for (const t of c.templates.slice(0, 20))
    lines.push(
      `  ${t.templateId.slice(0, 16).padEnd(16)} ${word(t.verdict).padEnd(21)} ${lat(t)}`,
    );
  if (c.templates.length > 20)
    lines.push(`  … ${c.templates.length - 20} more templates in the report`);
  for (const t of c.templates) {
    for (const e of t.errors.new)
      lines.push(
        `[stb] ${t.templateId}: new error ${e.code} (${e.candidate} of ${t.count.candidate})`,
      );
    for (const e of t.errors.missing)
      lines.push(
        `[stb] ${t.templateId}: error ${e.code} no longer raised (${e.baseline} in the baseline)`,
      );
    for (const e of t.errors.changed)
      lines.push(
        `[stb] ${t.templateId}: error ${e.code} rate ${(e.baselineRate * 100).toFixed(3)} % → ${(e.candidateRate * 100).toFixed(3)} %`,
      );
    if (t.rows.changed)
      lines.push(
        `[stb] ${t.templateId}: rows changed (mean ${t.rows.baseline?.mean ?? '?'} → ${t.rows.candidate?.mean ?? '?'}, histogram distance ${f3(t.rows.distance)})`,
      );
  }
  for (const t of c.onlyInBaseline)
    lines.push(
      `[stb] ${t.templateId}: only in ${c.baseline.label} (${t.count} executions)`,
    );
  for (const t of c.onlyInCandidate)
    lines.push(
      `[stb] ${t.templateId}: only in ${c.candidate.label} (${t.count} executions)`,
    );
  for (const th of c.thresholds)
    if (!th.passed)
      lines.push(`[stb] FAILED ${th.threshold} on ${th.scope}: ${th.message}`);
  if (c.thresholds.length > 0 && c.passed)
    lines.push(`[stb] All ${c.thresholds.length} threshold checks passed.`);
  lines.push(...c.warnings.map((w) => `[stb] warning: ${w}`));
  return lines;
}

/** `stb compare`: two bench results side by side, with verdicts and thresholds. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('compare')
    .description(
      'Compare two `stb bench` results: per-template throughput, error rate and p50/p95/p99 ratios with confidence intervals, verdicts, error and row divergence; thresholds decide the exit code.',
    )
    .argument('<baseline>', 'bench result JSON of the baseline run')
    .argument('<candidate>', 'bench result JSON of the candidate run')
    .option('--report <path>', 'write the self-contained HTML report')
    .option('--json-report <path>', 'write the JSON report')
    .option(
      '--min-effect <pct>',
      'smallest latency change called faster/slower (default 5%)',
      parseFraction,
    )
    .option(
      '--confidence <pct>',
      'confidence level of the intervals (default 95%)',
      parseConfidence,
    )
    .option(
      '--resamples <n>',
      'bootstrap resamples per interval (default 2000)',
      parseIntOption,
    )
    .option('--seed <n>', 'bootstrap seed (default 1)', parseIntOption)
    .option(
      '--verdict-on <quantiles>',
      'quantiles that decide a verdict (default p50,p95)',
      parseQuantiles,
    )
    .option(
      '--row-tolerance <pct>',
      'row-count change that counts as divergence (default 1%)',
      parseFraction,
    )
    .option(
      '--max-regression <metric=limit>',
      'fail (exit 1) when p50|p95|p99 is slower, or throughput lower, by more than limit; `overall:` limits it to the whole run (repeatable)',
      collect(parseRegressionThreshold),
      [],
    )
    .option(
      '--max-error-rate-increase <limit>',
      'fail (exit 1) when the error rate rises by more than limit, e.g. 0.1% (overall and per template; `overall:0.1%` for the whole run only)',
      collect(parseErrorRateThreshold),
      [],
    )
    .action(
      async (
        baselinePath: string,
        candidatePath: string,
        opts: CompareCommandOptions,
      ) => {
        // Before any work, as every command: the reports can be written, and neither replaces a
        // result this reads.
        const read = [
          ...inputsOf([ctx.resolvePath(baselinePath)], 'the baseline'),
          ...inputsOf([ctx.resolvePath(candidatePath)], 'the candidate'),
        ];
        if (opts.report !== undefined)
          await assertWritable(ctx.resolvePath(opts.report), '--report', read);
        if (opts.jsonReport !== undefined)
          await assertWritable(
            ctx.resolvePath(opts.jsonReport),
            '--json-report',
            read,
          );
        const baseline = await readBenchResult(
          ctx.resolvePath(baselinePath),
          baselinePath,
        );
        const candidate = await readBenchResult(
          ctx.resolvePath(candidatePath),
          candidatePath,
        );
        const report = compareBenchResults(baseline, candidate, {
          ...createdAtFromEnv(),
          ...(opts.minEffect !== undefined
            ? { minEffect: opts.minEffect }
            : {}),
          ...(opts.confidence !== undefined
            ? { confidence: opts.confidence }
            : {}),
          ...(opts.resamples !== undefined
            ? { resamples: opts.resamples }
            : {}),
          ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
          ...(opts.verdictOn !== undefined
            ? { verdictQuantiles: opts.verdictOn }
            : {}),
          ...(opts.rowTolerance !== undefined
            ? { rowTolerance: opts.rowTolerance }
            : {}),
          thresholds: [...opts.maxRegression, ...opts.maxErrorRateIncrease],
          labels: { baseline: baselinePath, candidate: candidatePath },
        });
        // Atomic (a temporary file renamed): a full disk leaves no half report; its errors name
        // the file and the reason (STB_OUTPUT_WRITE_FAILED).
        const write = (path: string, text: string): Promise<void> =>
          writeFileAtomic(ctx.resolvePath(path), text);
        if (opts.report !== undefined)
          await write(opts.report, renderComparisonHtml(report));
        if (opts.jsonReport !== undefined)
          await write(opts.jsonReport, `${JSON.stringify(report, null, 2)}\n`);
        ctx.printSummary(
          {
            command: 'compare',
            verdict: report.overall.verdict,
            passed: report.passed,
            summary: report.summary,
            failedThresholds: report.thresholds
              .filter((t) => !t.passed)
              .map((t) => ({ threshold: t.threshold, scope: t.scope })),
            onlyInBaseline: report.onlyInBaseline.map((t) => t.templateId),
            onlyInCandidate: report.onlyInCandidate.map((t) => t.templateId),
            report: opts.report ?? null,
            jsonReport: opts.jsonReport ?? null,
          },
          { human: formatComparison(report) },
        );
        if (!report.passed) ctx.setExitCode(EXIT_CODES.checkFailed);
      },
    );
  addExamples(cmd, [
    'stb compare before.json after.json --report compare.html',
    'stb compare pg15.json pg17.json --max-regression p95=10% --max-error-rate-increase 0.1%',
    'stb compare a.json b.json --min-effect 2% --json-report compare.json',
  ]);
}
