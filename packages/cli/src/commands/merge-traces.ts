import { mergeTraceFiles, writeTrace } from '@stb/core';
import type { MergeTraceStats } from '@stb/core';
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { addExamples } from '../context';
import { assertMergeOutput, unknownTraceExtension } from '../outputs';

/** Options of `stb merge-traces`. */
export interface MergeTracesCommandOptions {
  output: string;
}

/** `stb merge-traces`: traces in start-time order → one trace in start-time order (k-way merge). */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('merge-traces')
    .description(
      'Merge traces that are each in start-time order (the shards of `stb generate --shard i/n`, the traces of consecutive log parts) into one, by start time (k-way merge, bounded memory; each trace keeps its order).',
    )
    .argument('<traces...>', 'traces to merge (.jsonl[.gz], .json, .csv)')
    .requiredOption(
      '-o, --output <path>',
      'merged trace (.jsonl, .jsonl.gz, .json, .csv; - for stdout)',
    );
  cmd.action(async (files: string[], opts: MergeTracesCommandOptions) => {
    const output = opts.output === '-' ? '-' : ctx.resolvePath(opts.output);
    await assertMergeOutput(
      output,
      files.map((f) => ctx.resolvePath(f)),
      'a trace to merge',
    );
    const odd = unknownTraceExtension(opts.output, '--output', undefined);
    if (odd !== undefined) ctx.log.warn(odd);
    const stats: MergeTraceStats = { steppedBack: [] };
    const written = await writeTrace(
      output,
      mergeTraceFiles(
        files.map((f) => ctx.resolvePath(f)),
        { labels: files, signal: ctx.signal, stats },
      ),
      { signal: ctx.signal },
    );
    const steppedBack = stats.steppedBack.reduce((a, b) => a + b, 0);
    const human = [
      `[stb] Merged ${files.length} traces: ${written.events} statements, ${written.templates} templates → ${opts.output}`,
    ];
    if (steppedBack > 0)
      human.push(
        `[stb] ${steppedBack} of them start before a statement above them in their trace (a log_min_duration_statement log stamps ends): each trace's order was kept.`,
      );
    ctx.printSummary(
      {
        command: 'merge-traces',
        output: opts.output,
        inputs: files.length,
        events: written.events,
        templates: written.templates,
        steppedBack,
      },
      { human },
    );
  });
  addExamples(cmd, [
    'for i in 0 1 2 3; do stb generate -m model.json -n 4000000 --shard $i/4 -o g$i.jsonl & done; wait',
    'stb merge-traces g0.jsonl g1.jsonl g2.jsonl g3.jsonl -o generated.jsonl.gz',
  ]);
}
