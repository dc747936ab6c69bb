import { StbError } from '@stb/core';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CliContext } from '../context';
import { addExamples } from '../context';

/** Options of `stb parse`. */
export interface ParseCommandOptions {
  input: string[];
  format?: string;
  output: string;
  outputFormat?: 'jsonl' | 'json' | 'csv';
}

/** `stb parse`: log → trace. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('parse')
    .description(
      'Parse SQL logs into a trace (templates extracted, parameters typed).',
    )
    .requiredOption(
      '-i, --input <files...>',
      'log files (`-` for stdin; .gz ok)',
    )
    .option('-f, --format <name>', 'log format (default: detected per file)')
    .option('-o, --output <path>', 'trace to write (`-` for stdout)', '-')
    .addOption(
      new Option(
        '--output-format <format>',
        'default: from the extension',
      ).choices(['jsonl', 'json', 'csv']),
    )
    .action(async (_opts: ParseCommandOptions) => {
      void ctx;
      throw new StbError(
        'STB_INTERNAL',
        '[stb] [cli] `stb parse` is not implemented yet.',
      );
    });
  addExamples(cmd, [
    'stb parse -i postgresql.log -o trace.jsonl',
    'stb parse -i postgresql.csv.gz --format postgres-csvlog -o trace.jsonl.gz',
    'stb parse -i mariadb-general.log -o - | head',
  ]);
}
