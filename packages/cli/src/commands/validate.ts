import {
  clientLimitWarning,
  detectInputKind,
  isStbError,
  type BenchResult,
  type MaterializedInput,
  materializeInput,
  openTrace,
  type RawQueryEvent,
  StbError,
  type TraceEvent,
  type ValidationReport,
  writeFileAtomic,
} from '@stb/core';
import { extractTrace } from '@stb/extractor';
import { compareBenchResults, incompleteRunWarning } from '@stb/compare';
import {
  parseWeights,
  performanceFidelity,
  renderHtmlReport,
  type TraceInput,
  validateTraces,
} from '@stb/validator';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';

import type { CliContext } from '../context';
import { addExamples } from '../context';
import { EXIT_CODES } from '../exit-codes';
import { assertWritable, createdAtFromEnv, inputsOf } from '../outputs';
import { readBenchResult } from './compare';
import { parsePositiveInt } from '../options';

/** Options of `stb validate`. */
export interface ValidateCommandOptions {
  original: string;
  generated: string;
  report?: string;
  jsonReport?: string;
  minScore?: number;
  maxLeak?: number;
  privacyK?: number;
  weights?: ReturnType<typeof parseWeights>;
  benchOriginal?: string;
  benchGenerated?: string;
}

function parseScore(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1))
    throw new InvalidArgumentError(
      `Expected a score between 0 and 1, got \`${value}\`.`,
    );
  return n;
}

function parseShare(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1))
    throw new InvalidArgumentError(
      `Expected a share between 0 and 1, got \`${value}\`.`,
    );
  return n;
}

function parseWeightsOption(value: string): ReturnType<typeof parseWeights> {
  try {
    return parseWeights(value);
  } catch (e) {
    throw new InvalidArgumentError(
      isStbError(e)
        ? e.message.replace(/^\[stb\] \[validator\] /, '')
        : String(e),
    );
  }
}

type ParseLogs = (
  inputs: string[],
  options?: { signal?: AbortSignal },
) => AsyncIterable<RawQueryEvent>;

/**
 * Opens a trace, or parses a raw log on the fly (told apart by `detectInputKind`; stdin is read
 * as a trace).
 */
async function openInput(
  given: string,
  label: string,
  io: { signal: AbortSignal; materialized: MaterializedInput[] },
): Promise<TraceInput> {
  const { signal, materialized } = io;
  // a pipe (`<(zcat trace.gz)`) is copied to a file first: telling a log from a trace reads its
  // head, which a pipe would then no longer have
  let file = given;
  if (given !== '-') {
    const m = await materializeInput(given, { signal });
    materialized.push(m);
    file = m.file;
  }
  const kind = file === '-' ? 'trace' : await detectInputKind(file);
  if (kind === 'model')
    throw new StbError(
      'STB_USAGE',
      `[stb] [cli] \`${label}\` is a model artifact, not a trace or log. Generate a trace from it with \`stb generate\` first.`,
    );
  if (kind === 'trace') {
    const t = await openTrace(file, { signal });
    return { header: t.header, catalog: t.catalog, events: t.events, label };
  }
  // not a trace: a raw log, parsed and extracted while it streams
  const parser = (await import('@stb/parser')) as { parseLogs?: ParseLogs };
  if (typeof parser.parseLogs !== 'function')
    throw new StbError(
      'STB_PARSE_UNKNOWN_FORMAT',
      `[stb] [cli] \`${label}\` is not a trace and this build cannot parse raw logs. Convert it with \`stb parse\` first.`,
    );
  const run = extractTrace(parser.parseLogs([file], { signal }), { signal });
  async function* events(): AsyncGenerator<TraceEvent> {
    for await (const r of run) if (r.kind === 'event') yield r;
  }
  return { catalog: run.catalog, events: events(), label };
}

function fmtP(p: ValidationReport['properties'][number]): string {
  const t = p.test;
  if (t === null) return '';
  if (t.pValueBound !== undefined) return `p ${t.pValueBound}`;
  return `p ${t.pValue < 1e-4 ? t.pValue.toExponential(1) : t.pValue.toFixed(4)}`;
}

/** The human table printed on stderr. */
export function formatReportTable(report: ValidationReport): string[] {
  const lines = report.properties.map((p) => {
    const score =
      p.applicable && p.score !== null ? p.score.toFixed(3) : '  n/a';
    return `  ${p.label.padEnd(22)} ${score.padStart(6)}  w ${String(p.weight).padEnd(4)} ${fmtP(p)}`;
  });
  const verdict =
    report.passed === undefined
      ? ''
      : report.passed
        ? ` (passes --min-score ${report.minScore})`
        : ` (BELOW --min-score ${report.minScore})`;
  const leak = report.leak;
  const leakLine = leak
    ? [
        `  ${'Leak (gate, unscored)'.padEnd(22)} ${leak.leaked} of ${leak.checked} generated literals are rare (< ${leak.minSessions} sessions) original literals (${(leak.share * 100).toFixed(3)} %)${leak.samplingRate < 1 ? `, hash sample ${(leak.samplingRate * 100).toPrecision(3)} %` : ''}${leak.passed === undefined ? '' : leak.passed ? ` (passes --max-leak ${leak.maxLeak})` : ` (ABOVE --max-leak ${leak.maxLeak})`}`,
        ...leak.slots
          .slice(0, 5)
          .map(
            (s) =>
              `    ${s.templateId} $${s.slot + 1}${s.column ? ` (${s.column})` : ''}: ${s.leaked}`,
          ),
      ]
    : [];
  return [
    `[stb] Fidelity of ${report.generated.label} against ${report.original.label}: ${report.score.toFixed(4)}${verdict}`,
    ...lines,
    ...performanceLines(report),
    ...leakLine,
    ...report.warnings.map((w) => `[stb] warning: ${w}`),
  ];
}

function performanceLines(report: ValidationReport): string[] {
  const p = report.performance;
  if (!p) return [];
  return [
    `[stb] Performance fidelity on ${p.target} (reported beside the composite): ${p.score.toFixed(4)}`,
    ...p.properties.map(
      (x) =>
        `  ${x.label.padEnd(26)} ${x.score === null ? '  n/a' : x.score.toFixed(3)}  ${x.id === 'throughput' ? `ratio ${x.value?.toFixed(3) ?? 'n/a'}` : `${((x.value ?? 0) * 100).toFixed(1)} % of executions`} within ±${(x.target * 100).toFixed(0)} %`,
    ),
  ];
}

/**
 * The `stb bench` results of `--bench-original` and `--bench-generated` (both or neither), read
 * and checked; undefined without them.
 */
async function readBenchPair(
  ctx: CliContext,
  opts: ValidateCommandOptions,
): Promise<[BenchResult, BenchResult] | undefined> {
  const { benchOriginal: a, benchGenerated: b } = opts;
  if ((a === undefined) !== (b === undefined))
    throw new StbError(
      'STB_USAGE',
      `[stb] [cli] --bench-original and --bench-generated go together: pass both \`stb bench\` results (original and generated trace on the same target).`,
    );
  if (a === undefined || b === undefined) return undefined;
  return Promise.all([
    readBenchResult(ctx.resolvePath(a), a),
    readBenchResult(ctx.resolvePath(b), b),
  ]);
}

/** `stb validate`: score a generated trace against the original. */
// Long function: one commander chain, the declaration of the command's options (read top to bottom
// like its --help) and the action that hands them on.
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('validate')
    .description(
      'Score how faithful a generated trace is to the original (composite score in [0, 1]; JSON and HTML reports).',
    )
    .requiredOption(
      '--original <path>',
      'original trace, or a raw log (parsed on the fly)',
    )
    .requiredOption('--generated <path>', 'generated trace')
    .option('--report <path>', 'write the self-contained HTML report')
    .option(
      '--json-report <path>',
      'write the JSON report (also: `--json <path>`)',
    )
    .option(
      '--min-score <score>',
      'exit 1 when the composite score is below this (0..1)',
      parseScore,
    )
    .option(
      '--max-leak <share>',
      'exit 1 when more than this share of generated literals are rare literals of the original (0..1; e.g. 0)',
      parseShare,
    )
    .option(
      '--privacy-k <k>',
      'the leak check: an original literal seen in fewer distinct sessions is rare (default 5)',
      parsePositiveInt,
    )
    .option(
      '--weights <k=v,...>',
      'composite weights, e.g. `templates=3,durations=0`',
      parseWeightsOption,
    )
    .option(
      '--bench-original <result.json>',
      'performance fidelity: `stb bench` result of the original trace (with --bench-generated)',
    )
    .option(
      '--bench-generated <result.json>',
      'performance fidelity: `stb bench` result of the generated trace on the same target',
    )
    .argument(
      '[json-path]',
      'with the global `--json`: where to write the JSON report',
    )
    .action(
      async (jsonPath: string | undefined, opts: ValidateCommandOptions) => {
        const g = ctx.globals();
        if (jsonPath !== undefined && !g.json)
          throw new StbError(
            'STB_USAGE',
            `[stb] [cli] Unexpected argument \`${jsonPath}\`. Use \`--json-report <path>\` (or \`--json <path>\`) for the JSON report.`,
          );
        const jsonOut = opts.jsonReport ?? jsonPath;
        const read = (
          [
            ['--original', opts.original],
            ['--generated', opts.generated],
            ['--bench-original', opts.benchOriginal],
            ['--bench-generated', opts.benchGenerated],
          ] as const
        ).flatMap(([option, f]) =>
          inputsOf([f === undefined ? undefined : ctx.resolvePath(f)], option),
        );
        if (opts.report !== undefined)
          await assertWritable(ctx.resolvePath(opts.report), '--report', read);
        if (jsonOut !== undefined)
          await assertWritable(ctx.resolvePath(jsonOut), '--json-report', read);
        const benchPair = await readBenchPair(ctx, opts);
        const materialized: MaterializedInput[] = [];
        const original = await openInput(
          ctx.resolvePath(opts.original),
          opts.original,
          { signal: ctx.signal, materialized },
        );
        const generated = await openInput(
          ctx.resolvePath(opts.generated),
          opts.generated,
          { signal: ctx.signal, materialized },
        );
        const bar = ctx.progress({ label: 'Validating', unit: 'events' });
        let done = 0;
        let report: ValidationReport;
        try {
          report = await validateTraces(original, generated, {
            ...createdAtFromEnv(),
            weights: opts.weights,
            minScore: opts.minScore,
            ...(opts.maxLeak === undefined ? {} : { maxLeak: opts.maxLeak }),
            ...(opts.privacyK === undefined
              ? {}
              : { minSessions: opts.privacyK }),
            signal: ctx.signal,
            onProgress: (p) => {
              bar.update(done + p.events);
              if (p.trace === 'original') done = p.events;
            },
          });
        } finally {
          bar.stop();
          for (const c of materialized) await c.cleanup();
        }
        // A gate must not pass on nothing: an empty side (a zero-byte file, a log with no
        // statements) is bad input, not a score.
        for (const side of [report.original, report.generated])
          if (side.events === 0)
            throw new StbError(
              'STB_TRACE_EMPTY',
              `[stb] [cli] \`${side.label}\` has no events: there is nothing to validate. Check the step that produced it.`,
              { details: { file: side.label } },
            );
        if (benchPair && opts.benchOriginal && opts.benchGenerated)
          report = {
            ...report,
            // a run that did not run its whole trace, or that its client limited, scores the
            // load generator as much as the trace
            warnings: [
              ...report.warnings,
              ...[
                incompleteRunWarning(benchPair[0], opts.benchOriginal),
                incompleteRunWarning(benchPair[1], opts.benchGenerated),
                clientLimitWarning(benchPair[0], opts.benchOriginal),
                clientLimitWarning(benchPair[1], opts.benchGenerated),
              ].filter((w): w is string => w !== undefined),
            ],
            performance: performanceFidelity(
              compareBenchResults(benchPair[0], benchPair[1], {
                ...createdAtFromEnv(),
                labels: {
                  baseline: opts.benchOriginal,
                  candidate: opts.benchGenerated,
                },
              }),
            ),
          };
        // Atomic (temporary file + rename): a full disk never leaves a truncated report over a
        // good earlier one.
        const write = (path: string, text: string): Promise<void> =>
          writeFileAtomic(ctx.resolvePath(path), text);
        if (opts.report !== undefined)
          await write(opts.report, renderHtmlReport(report));
        if (jsonOut !== undefined)
          await write(jsonOut, `${JSON.stringify(report, null, 2)}\n`);
        ctx.printSummary(
          {
            command: 'validate',
            score: report.score,
            minScore: report.minScore ?? null,
            passed: report.passed ?? null,
            leak: report.leak
              ? {
                  share: report.leak.share,
                  leaked: report.leak.leaked,
                  checked: report.leak.checked,
                  minSessions: report.leak.minSessions,
                  maxLeak: report.leak.maxLeak ?? null,
                  passed: report.leak.passed ?? null,
                }
              : null,
            properties: Object.fromEntries(
              report.properties.map((p) => [p.id, p.score]),
            ),
            ...(report.performance
              ? {
                  performance: {
                    score: report.performance.score,
                    ...Object.fromEntries(
                      report.performance.properties.map((p) => [p.id, p.score]),
                    ),
                  },
                }
              : {}),
            report: opts.report ?? null,
            jsonReport: jsonOut ?? null,
          },
          { human: formatReportTable(report) },
        );
        if (report.passed === false || report.leak?.passed === false)
          ctx.setExitCode(EXIT_CODES.checkFailed);
      },
    );
  addExamples(cmd, [
    'stb validate --original trace.jsonl --generated synthetic.jsonl --report fidelity.html',
    'stb validate --original postgresql.csv.gz --generated synthetic.jsonl --min-score 0.9',
    'stb validate --original a.jsonl --generated b.jsonl --weights durations=0 --json-report report.json',
    'stb validate --original a.jsonl --generated b.jsonl --bench-original a-run.json --bench-generated b-run.json',
  ]);
}
