import { STB_ERROR_CODES, StbError } from '@stb/core';
import { EXIT_CODES, exitCodeFor } from './exit-codes';

describe('exitCodeFor', () => {
  it('maps codes to the documented exit codes', () => {
    const code = (c: (typeof STB_ERROR_CODES)[number]) =>
      exitCodeFor(new StbError(c, 'x'));
    expect(code('STB_USAGE')).toBe(2);
    expect(code('STB_TRACE_SCHEMA_MISMATCH')).toBe(3);
    expect(code('STB_DB_UNREACHABLE')).toBe(3);
    expect(code('STB_PLUGIN_PRIVILEGE_MISSING')).toBe(3);
    expect(code('STB_VALIDATE_FAILED')).toBe(1);
    expect(code('STB_ABORTED')).toBe(130);
    expect(code('STB_INTERNAL')).toBe(70);
  });

  it('gives every core error code one of the documented exit codes', () => {
    const allowed = new Set<number>(Object.values(EXIT_CODES));
    for (const c of STB_ERROR_CODES)
      expect(allowed.has(exitCodeFor(new StbError(c, 'x')))).toBe(true);
  });

  it('treats non-StbError values and unknown codes as internal errors', () => {
    expect(exitCodeFor(new Error('boom'))).toBe(70);
    expect(exitCodeFor({ name: 'StbError', code: 'STB_FROM_THE_FUTURE' })).toBe(
      70,
    );
  });
});
