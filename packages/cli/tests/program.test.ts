import { runStb } from './helpers';

describe('stb program', () => {
  it('prints help with examples and exit codes, exit 0', async () => {
    const r = await runStb(['--help']);
    expect(r.code).toBe(0);
    const text = r.stdout.toString();
    expect(text).toContain('Usage: stb');
    expect(text).toContain('Exit codes:');
    for (const c of ['parse', 'learn', 'generate', 'inspect'])
      expect(text).toContain(c);
  });

  it.each(['parse', 'learn', 'generate', 'inspect'])(
    '`stb %s --help` has examples',
    async (name) => {
      const r = await runStb([name, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toMatch(/Examples:\n {2}\$ stb /);
    },
  );

  it('maps an unknown option to exit 2 with one [stb] line', async () => {
    const r = await runStb(['parse', '-i', 'x.log', '--no-such-option']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/^\[stb\] unknown option/);
    expect(r.stdout.length).toBe(0);
  });

  it('maps an unknown command to exit 2', async () => {
    const r = await runStb(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^\[stb\] unknown command/);
  });

  it('rejects an invalid --log-level as a usage error', async () => {
    const r = await runStb(['--log-level', 'loud', 'inspect', 'x']);
    expect(r.code).toBe(2);
  });

  it('prints the version', async () => {
    const r = await runStb(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
