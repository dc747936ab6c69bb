import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { traceJsonSchema } from '@stb/core';

describe('trace JSON Schema', () => {
  it('matches the reviewed snapshot', () => {
    expect(traceJsonSchema()).toMatchSnapshot();
  });

  it('is what the build publishes as @stb/core/trace.schema.json', () => {
    const pkg = JSON.parse(
      readFileSync(path.join(__dirname, '../package.json'), 'utf8'),
    ) as { exports: Record<string, unknown> };
    expect(pkg.exports['./trace.schema.json']).toBe('./dist/trace.schema.json');
    const built = path.join(__dirname, '../dist/trace.schema.json');
    // The test target depends on build; when run alone before any build, only the snapshot applies.
    if (!existsSync(built)) return;
    expect(JSON.parse(readFileSync(built, 'utf8'))).toEqual(traceJsonSchema());
  });
});
