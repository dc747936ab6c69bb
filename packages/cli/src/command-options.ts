import type { Command } from 'commander';
import { Option } from 'commander';
import { MAX_LINE_LENGTH } from '@stb/core';
import {
  parseLineLength,
  parsePositiveInt,
  parseSeed,
  parseShare,
  parseUtcOffset,
} from './options';

/** `-f/--format` and the parser filters, for commands that read logs. */
export function addLogOptions(cmd: Command): Command {
  return cmd
    .option('-f, --format <name>', 'log format (default: detected per file)')
    .option(
      '--format-package <packages...>',
      'load log formats from these npm packages or module paths (their `plugin` / `plugins` export); detected like the built-in ones, or named with --format',
    )
    .option(
      '--prefix <log_line_prefix>',
      "PostgreSQL stderr logs: the server's log_line_prefix, when it is not one of the common ones detected (implies --format postgres-stderr; e.g. '%t [%p]: user=%u,db=%d ')",
    )
    .option(
      '--utc-offset <offset>',
      'MySQL/MariaDB logs: the UTC offset of their local timestamps (e.g. +02:00; default +00:00)',
      parseUtcOffset,
    )
    .option(
      '--max-line-length <chars>',
      `longest log line accepted, in characters (default 67108864 = 64 Mi, at most ${MAX_LINE_LENGTH}); a longer one is bad input (exit 3)`,
      parseLineLength,
    )
    .option(
      '--max-invalid <share>',
      'fail (exit 3) when more than this share of log lines is invalid (default 1%; e.g. 5%, 0.05, 100% to keep going whatever is lost)',
      parseShare,
    )
    .option('--database <names...>', 'keep only statements of these databases')
    .option('--user <names...>', 'keep only statements of these users')
    .option(
      '--application <names...>',
      'keep only statements of these applications',
    )
    .option(
      '--exclude-session <ids...>',
      'drop these sessions (an id, or /regex/), e.g. a benchmark client setup connection',
    );
}

/** The model options shared by `learn` and `generate`. */
export function addModelOptions(cmd: Command): Command {
  return cmd
    .option(
      '--model-package <packages...>',
      'load sequence models from these npm packages or module paths (e.g. @stb/model-lstm)',
    )
    .option('--order <k>', 'markov: context length 1..3', parsePositiveInt)
    .option('--states <n>', 'hmm: number of hidden states', parsePositiveInt)
    .option(
      '--model-option <key=value...>',
      'any option of the sequence model (value parsed as JSON when it can be)',
    )
    .option(
      '--privacy',
      'strict privacy: also numbers only as quantile curves, and no value of any type seen in fewer than k sessions (see docs/privacy.md)',
    )
    .option(
      '--no-privacy',
      'copy source values verbatim into the model and the generated trace (same as --keep-literals)',
    )
    .option(
      '--keep-literals',
      'copy source values verbatim, rare ones included: the model and its output then hold source data',
    )
    .option(
      '--privacy-k <k>',
      'distinct sessions a literal must occur in to be kept verbatim (default 5)',
      parsePositiveInt,
    );
}

/** `--seed`. */
export function addSeedOption(cmd: Command, what: string): Command {
  return cmd.addOption(
    new Option('--seed <n>', `seed of ${what}`).argParser(parseSeed).default(1),
  );
}
