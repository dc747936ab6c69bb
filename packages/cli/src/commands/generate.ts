import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { StbError, writeTrace } from '@stb/core';
import type { TraceFileFormat } from '@stb/core';
import { generateTrace } from '@stb/generator';
import type { GenerateTraceOptions } from '@stb/generator';
import { writeModelArtifact } from '@stb/models';
import type { ModelArtifact, ModelRegistry } from '@stb/models';
import type { Command } from 'commander';
import { Option } from 'commander';
import {
  addLogOptions,
  addModelOptions,
  addSeedOption,
} from '../command-options';
import type { CliContext } from '../context';
import { addExamples } from '../context';
import type { ModelCliOptions } from '../learn';
import type { LogCliOptions } from '../log-options';
import { learnModel, loadArtifact } from '../learn';
import { parseShard } from '../options';
import {
  parseBoundedNumber,
  parseDurationUs,
  parsePositiveInt,
  parseStartUs,
} from '../options';
import { assertWritable, inputsOf, unknownTraceExtension } from '../outputs';
import { isoOfUs } from '../summaries';

/** Options of `stb generate`. */
export interface GenerateCommandOptions extends ModelCliOptions, LogCliOptions {
  model: string;
  input?: string[];
  count?: number;
  sessions?: number;
  duration?: number;
  scale?: number;
  timeScale?: number;
  start?: number;
  output: string;
  outputFormat?: TraceFileFormat;
  seed: number;
  renderSql?: boolean;
  mysqlNoBackslashEscapes?: boolean;
  saveModel?: string | boolean;
  closeTransactions: boolean;
  appendClosers?: boolean;
  shard?: { index: number; count: number };
}

/** True when `-m` names an existing file (an artifact) rather than a model kind. */
function isArtifactPath(ctx: CliContext, value: string): boolean {
  const p = ctx.resolvePath(value);
  return existsSync(p) && statSync(p).isFile();
}

/** Where the learned model goes: `--save-model`, else beside the output. */
function modelPath(
  opts: GenerateCommandOptions,
  inputs: readonly string[],
): string | undefined {
  if (opts.saveModel === false) return undefined;
  if (typeof opts.saveModel === 'string') return opts.saveModel;
  const stem = (p: string): string =>
    path
      .basename(p)
      .replace(/(\.gz)?$/i, '')
      .replace(/\.[^.]*$/, '') || 'generated';
  if (opts.output !== '-')
    return path.join(
      path.dirname(opts.output),
      `${stem(opts.output)}.model.json`,
    );
  return `${stem(inputs[0] ?? 'generated')}.model.json`;
}

/** `stb generate`: model (learned now or loaded) → synthetic trace. */
// Long function: one commander chain, mostly the declaration of the command's 17 options (read top
// to bottom like its --help) and the action that hands them on.
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('generate')
    .description(
      'Generate a synthetic trace from a model: learned from logs/a trace now (-m markov -i raw.log), or loaded (-m model.json).',
    )
    .option(
      '-m, --model <kind|artifact>',
      'a model kind to learn (markov, hmm, …) or a model artifact file to load',
      'markov',
    )
    .option(
      '-i, --input <files...>',
      'logs or a trace to learn from (when -m is a kind)',
    )
    .option(
      '-n, --count <n>',
      'stop after n statements (default 1000 when no other stop is given)',
      parsePositiveInt,
    )
    .option(
      '--sessions <n>',
      'start n sessions, then let them finish',
      parsePositiveInt,
    )
    .option(
      '--duration <time>',
      'stop after this much simulated time (60s, 5m, 1h)',
      parseDurationUs,
    )
    .option(
      '--scale <x>',
      'x times as many concurrent sessions, each with the original rhythm (not faster time); at most 10000',
      (v: string) =>
        parseBoundedNumber(v, { min: 0, max: 10_000, minExclusive: true }),
    )
    .option(
      '--time-scale <x>',
      'multiply session inter-arrival gaps and think times by x (0.5 = twice as dense; 1e-6..1e6); durations unchanged',
      (v: string) => parseBoundedNumber(v, { min: 1e-6, max: 1e6 }),
    )
    .option(
      '--start <time>',
      'timestamp of the first statement (ISO-8601 or epoch µs; default: the source start)',
      parseStartUs,
    )
    .option(
      '-o, --output <path>',
      'trace to write: .jsonl, .json or .csv (+ .gz); `-` for stdout',
      '-',
    )
    .addOption(
      new Option(
        '--output-format <format>',
        'default: from the extension (JSONL for stdout)',
      ).choices(['jsonl', 'json', 'csv']),
    )
    .option(
      '--render-sql',
      'add executable SQL (`sql`) to every event, literals quoted for the dialect',
    )
    .option(
      '--mysql-no-backslash-escapes',
      'with --render-sql: the MySQL target runs with sql_mode NO_BACKSLASH_ESCAPES',
    )
    .option(
      '--save-model <path>',
      'where to save a learned model (default: beside the output, <name>.model.json)',
    )
    .option('--no-save-model', 'do not save the learned model')
    .option(
      '--no-close-transactions',
      'leave transactions open when the run stops (no closing COMMITs)',
    )
    .option(
      '--append-closers',
      'stop at -n model statements, then append the closing COMMITs beyond -n (default: -n is exact, open transactions end before it)',
    )
    .option(
      '--shard <i/n>',
      'generate only sessions i, i+n, i+2n… (shards merge into the full run)',
      parseShard,
    );
  addModelOptions(cmd);
  addLogOptions(cmd);
  addSeedOption(cmd, 'the generation (same seed → identical output)');
  cmd.action(async (opts: GenerateCommandOptions) => {
    const read = [
      ...inputsOf([ctx.resolvePath(opts.model)], '-m'),
      ...inputsOf(
        (opts.input ?? []).map((f) => ctx.resolvePath(f)),
        '-i',
      ),
    ];
    await assertWritable(ctx.resolvePath(opts.output), '--output', read);
    const odd = unknownTraceExtension(
      opts.output,
      '--output',
      opts.outputFormat,
    );
    if (odd !== undefined) ctx.log.warn(odd);
    let artifact: ModelArtifact;
    let registry: ModelRegistry;
    let savedModel: string | undefined;
    if (isArtifactPath(ctx, opts.model)) {
      if (opts.input)
        ctx.log.warn(
          `[stb] \`-i\` is ignored: \`${opts.model}\` is a model artifact, which is used as is.`,
        );
      ({ artifact, registry } = await loadArtifact(
        ctx,
        opts.model,
        opts.modelPackage,
      ));
    } else {
      if (!opts.input || opts.input.length === 0)
        throw new StbError(
          'STB_USAGE',
          `[stb] [cli] \`-m ${opts.model}\` learns a model, which needs input: pass \`-i <log or trace>\` (or \`-m <model file>\`; no file \`${opts.model}\` exists).`,
        );
      savedModel = modelPath(opts, opts.input);
      if (savedModel !== undefined)
        await assertWritable(ctx.resolvePath(savedModel), '--save-model', read);
      ({ artifact, registry } = await learnModel(ctx, {
        inputs: opts.input,
        kind: opts.model,
        seed: opts.seed,
        model: opts,
        log: opts,
      }));
      // Same input + seed → byte-identical output: the inline model's time stamp (which the trace
      // header copies) comes from the source, not the clock, unless SOURCE_DATE_EPOCH pins it.
      if (process.env['SOURCE_DATE_EPOCH'] === undefined)
        artifact.createdAt = new Date(
          Math.floor(artifact.source.endUs / 1000),
        ).toISOString();
      if (savedModel !== undefined)
        await writeModelArtifact(ctx.resolvePath(savedModel), artifact);
    }
    const options: GenerateTraceOptions = {
      seed: opts.seed,
      registry,
      signal: ctx.signal,
      closeTransactions: opts.closeTransactions,
      appendClosers: opts.appendClosers === true,
    };
    if (opts.count !== undefined) options.count = opts.count;
    if (opts.sessions !== undefined) options.sessions = opts.sessions;
    if (opts.duration !== undefined) options.durationUs = opts.duration;
    if (opts.scale !== undefined) options.scale = opts.scale;
    if (opts.timeScale !== undefined) options.timeScale = opts.timeScale;
    if (opts.start !== undefined) options.startUs = opts.start;
    if (opts.shard !== undefined) options.shard = opts.shard;
    if (opts.renderSql)
      options.render = {
        dialect: artifact.dialect,
        noBackslashEscapes: opts.mysqlNoBackslashEscapes === true,
      };
    const bar = ctx.progress({
      label: 'Generating',
      unit: 'events',
      ...(opts.count !== undefined ? { total: opts.count } : {}),
    });
    options.onProgress = (p) => bar.update(p.events);
    const trace = generateTrace(artifact, options);
    let written;
    try {
      written = await writeTrace(ctx.resolvePath(opts.output), trace, {
        ...(opts.outputFormat ? { format: opts.outputFormat } : {}),
        signal: ctx.signal,
      });
    } finally {
      bar.stop();
    }
    const s = trace.summary();
    ctx.printSummary(
      {
        command: 'generate',
        output: opts.output,
        events: s.events,
        closingEvents: s.closingEvents,
        sessions: s.sessions,
        templates: written.templates,
        bytes: written.bytes,
        stoppedBy: s.stoppedBy,
        firstStartUs: s.firstStartUs ?? null,
        lastStartUs: s.lastStartUs ?? null,
        seed: opts.seed,
        model: { kind: artifact.kind, saved: savedModel ?? null },
      },
      {
        human: [
          `[stb] Generated ${s.events} statements in ${s.sessions} sessions (${written.templates} templates${s.closingEvents > 0 ? `, ${s.closingEvents} transaction-closing statements` : ''}) → ${opts.output === '-' ? 'stdout' : opts.output}`,
          ...(s.firstStartUs !== undefined && s.lastStartUs !== undefined
            ? [
                `[stb] Simulated time ${isoOfUs(s.firstStartUs)} … ${isoOfUs(s.lastStartUs)}`,
              ]
            : []),
          ...(savedModel ? [`[stb] Model saved to ${savedModel}`] : []),
        ],
        dataOnStdout: opts.output === '-',
      },
    );
  });
  addExamples(cmd, [
    'stb generate -m markov -i postgresql.log -n 100000 -o synthetic.jsonl',
    'stb generate -m model.json -n 1000000 --seed 7 -o big.jsonl.gz',
    'stb generate -m model.json --duration 10m --scale 5 -o peak.csv',
    'stb generate -m hmm -i trace.jsonl --states 16 --sessions 500 --render-sql -o -',
  ]);
}
