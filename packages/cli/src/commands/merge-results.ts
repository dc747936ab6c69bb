import { writeFileAtomic } from '@stb/core';
import type { BenchResult } from '@stb/core';
import { mergeBenchResults } from '@stb/bench';
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { addExamples } from '../context';
import { assertMergeOutput } from '../outputs';
import { readBenchResult } from './compare';

/** Options of `stb merge-results`. */
export interface MergeResultsCommandOptions {
  output: string;
}

/** `stb merge-results`: the results of the n shards of `stb bench --shard i/n` → one result. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('merge-results')
    .description(
      'Merge the results of every shard of `stb bench --shard i/n` into one result (exact HDR histogram merge, counts summed, QPS over the union of the measured windows).',
    )
    .argument('<results...>', 'the n shard results (any order)')
    .requiredOption('-o, --output <path>', 'merged result JSON');
  cmd.action(async (files: string[], opts: MergeResultsCommandOptions) => {
    const output = ctx.resolvePath(opts.output);
    await assertMergeOutput(
      output,
      files.map((f) => ctx.resolvePath(f)),
      'a result to merge',
    );
    const results: BenchResult[] = [];
    for (const f of files)
      results.push(await readBenchResult(ctx.resolvePath(f), f));
    const merged = mergeBenchResults(results, { labels: files });
    await writeFileAtomic(output, `${JSON.stringify(merged, null, 2)}\n`);
    const o = merged.overall;
    ctx.printSummary(
      {
        command: 'merge-results',
        output: opts.output,
        shards: files.length,
        count: o.count,
        qps: o.qps,
        latencyMs: o.latencyMs,
      },
      {
        human: [
          `[stb] Merged ${files.length} shard results: ${o.count} executions, ${o.qps} qps, p50 ${o.latencyMs.p50} ms, p99 ${o.latencyMs.p99} ms → ${opts.output}`,
        ],
      },
    );
  });
  addExamples(cmd, [
    'stb merge-results r0.json r1.json r2.json r3.json -o result.json',
    'stb compare baseline.json result.json',
  ]);
}
