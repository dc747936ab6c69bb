import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LstmOptions } from '../src';

describe('docs/models-lstm.md', () => {
  const doc = readFileSync(
    join(__dirname, '../../../docs/models-lstm.md'),
    'utf8',
  );

  it('documents every option with its default', () => {
    const defaults = LstmOptions.parse({}) as Record<string, unknown>;
    for (const key of Object.keys(LstmOptions.shape)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${key}\` |`));
      expect(row).toBeDefined();
      const value = defaults[key];
      if (typeof value === 'number')
        expect(row?.replace(/\s/g, '')).toContain(`|${value}|`);
      else if (typeof value === 'string') expect(row).toContain(`\`${value}\``);
    }
  });
});
