import { StbError } from '@stb/core';
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { addExamples } from '../context';

/** `stb generate`. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('generate')
    .description('(in progress)')
    .action(async () => {
      void ctx;
      throw new StbError(
        'STB_INTERNAL',
        '[stb] [cli] `stb generate` is not implemented yet.',
      );
    });
  addExamples(cmd, ['stb generate --help']);
}
