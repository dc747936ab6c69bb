import { writeModelArtifact } from '@stb/models';
import { Option } from 'commander';
import type { Command } from 'commander';
import {
  addLogOptions,
  addModelOptions,
  addSeedOption,
} from '../command-options';
import type { CliContext } from '../context';
import { addExamples } from '../context';
import type { ModelCliOptions } from '../learn';
import type { LogCliOptions } from '../log-options';
import { learnModel } from '../learn';
import { parseShard } from '../options';
import { assertWritable, inputsOf } from '../outputs';
import { artifactSummary } from '../summaries';

/** Options of `stb learn`. */
export interface LearnCommandOptions extends ModelCliOptions, LogCliOptions {
  input: string[];
  model: string;
  output: string;
  seed: number;
  pretty?: boolean;
  shard?: { index: number; count: number };
  unitDispatch?: 'auto' | 'off';
}

/** `stb learn`: logs or a trace → model artifact. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('learn')
    .description(
      'Fit a workload model (sequence, parameters, arrivals, timing) on SQL logs or a trace.',
    )
    .requiredOption(
      '-i, --input <files...>',
      'logs (any supported format, .gz ok) or one trace (detected by its header record)',
    )
    .option(
      '-m, --model <name>',
      'sequence model: markov, hmm, or one from --model-package',
      'markov',
    )
    .option(
      '-o, --output <path>',
      'model artifact to write (.gz for gzip)',
      'model.json',
    )
    .option('--pretty', 'indent the artifact JSON')
    .option(
      '--shard <i/n>',
      'fit only the sessions whose id hashes to shard i of n (reads every event for the capture bounds); combine the n artifacts with `stb merge-models`',
      parseShard,
    )
    .addOption(
      new Option(
        '--unit-dispatch <mode>',
        'auto: learn whether a pool takes its transactions from one schedule (pgbench -R) from the data; off: per-connection think times (every shard of a sharded fit must use the same mode)',
      )
        .choices(['auto', 'off'])
        .default('auto'),
    );
  addModelOptions(cmd);
  addLogOptions(cmd);
  addSeedOption(cmd, 'the fit (HMM restarts, sampling)');
  cmd.action(async (opts: LearnCommandOptions) => {
    await assertWritable(
      ctx.resolvePath(opts.output),
      '--output',
      inputsOf(
        opts.input.map((f) => ctx.resolvePath(f)),
        '-i',
      ),
    );
    const { artifact, parsed } = await learnModel(ctx, {
      inputs: opts.input,
      kind: opts.model,
      seed: opts.seed,
      model: opts,
      log: opts,
      shard: opts.shard,
      unitDispatch: opts.unitDispatch,
    });
    const output = ctx.resolvePath(opts.output);
    await writeModelArtifact(output, artifact, {
      pretty: opts.pretty === true,
    });
    const s = artifactSummary(artifact);
    ctx.printSummary(
      {
        command: 'learn',
        output: opts.output,
        ...s,
        ...(parsed
          ? {
              parsed: {
                events: parsed.written.events,
                templates: parsed.written.templates,
              },
            }
          : {}),
      },
      {
        human: [
          `[stb] Learned a ${artifact.kind} model from ${s.source.events} statements in ${s.source.sessions} sessions (${s.source.templates} templates)${opts.shard ? ` of shard ${opts.shard.index}/${opts.shard.count}` : ''} → ${opts.output}`,
        ],
      },
    );
  });
  addExamples(cmd, [
    'stb learn -i postgresql.log -o model.json',
    'stb learn -i trace.jsonl -m hmm --states 16 -o model.json.gz',
    'stb learn -i postgresql.csv.gz -m markov --order 2 --exclude-session 1.5f3c2a1b.2c0',
    'stb learn -i trace.jsonl -m lstm --model-package @stb/model-lstm -o lstm.model.json',
    'stb learn -i trace.jsonl --shard 2/4 -o shard-2.json   # then: stb merge-models shard-*.json -o model.json',
  ]);
}
