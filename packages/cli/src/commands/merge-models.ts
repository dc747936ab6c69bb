import { mergeModelArtifacts, writeModelArtifact } from '@stb/models';
import type { ModelArtifact, ModelRegistry } from '@stb/models';
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { addExamples } from '../context';
import { loadArtifact } from '../learn';
import { assertMergeOutput } from '../outputs';
import { artifactSummary } from '../summaries';

/** Options of `stb merge-models`. */
export interface MergeModelsCommandOptions {
  output: string;
  modelPackage?: string[];
  pretty?: boolean;
}

/** `stb merge-models`: the artifacts of the n shards of a sharded fit → one artifact. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('merge-models')
    .description(
      'Merge the model artifacts of every shard of `stb learn --shard i/n` into one model: the template, transition and session counts of one fit of the whole trace, exactly; parameter sketches within their rank error (markov only).',
    )
    .argument('<artifacts...>', 'the n shard artifacts (any order)')
    .requiredOption('-o, --output <path>', 'merged artifact (.gz for gzip)')
    .option(
      '--model-package <pkg...>',
      'packages providing the model kind, when not built in',
    )
    .option('--pretty', 'indent the artifact JSON');
  cmd.action(async (files: string[], opts: MergeModelsCommandOptions) => {
    const output = ctx.resolvePath(opts.output);
    await assertMergeOutput(
      output,
      files.map((f) => ctx.resolvePath(f)),
      'an artifact to merge',
    );
    const artifacts: ModelArtifact[] = [];
    let registry: ModelRegistry | undefined;
    for (const f of files) {
      const loaded = await loadArtifact(ctx, f, opts.modelPackage ?? []);
      artifacts.push(loaded.artifact);
      registry ??= loaded.registry;
    }
    const first = artifacts[0] as ModelArtifact;
    const model = (registry as ModelRegistry).get(first.kind);
    const merged = mergeModelArtifacts(artifacts, { model, labels: files });
    await writeModelArtifact(output, merged, { pretty: opts.pretty === true });
    const s = artifactSummary(merged);
    ctx.printSummary(
      {
        command: 'merge-models',
        output: opts.output,
        shards: files.length,
        ...s,
      },
      {
        human: [
          `[stb] Merged ${files.length} shards: a ${merged.kind} model of ${s.source.events} statements in ${s.source.sessions} sessions (${s.source.templates} templates, ${merged.sessions.classes.length} session classes) → ${opts.output}`,
        ],
      },
    );
  });
  addExamples(cmd, [
    'stb merge-models shard-0.json shard-1.json shard-2.json shard-3.json -o model.json',
    'stb merge-models /results/model-shard-*.json.gz -o model.json.gz',
  ]);
}
