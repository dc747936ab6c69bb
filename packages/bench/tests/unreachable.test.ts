import { isStbError } from '@stb/core';
import { runBench } from '../src/runner';
import { TraceBuilder, template } from './helpers/trace';

// Port 1 on loopback: nothing listens, so connecting is refused at once.
describe('an unreachable database', () => {
  it.each([
    ['postgres', 'postgres://stb:secret@127.0.0.1:1/nowhere'],
    ['mysql', 'mysql://stb:secret@127.0.0.1:1/nowhere'],
  ])(
    'fails with STB_DB_UNREACHABLE before the run starts (%s)',
    async (plugin, target) => {
      const b = new TraceBuilder(plugin === 'mysql' ? 'mysql' : 'postgres');
      b.add('s', template('postgres', 'SELECT 1', 'SELECT'));
      let progress = 0;
      const err: unknown = await runBench(b.trace(), {
        target,
        mode: 'closed',
        workers: 2,
        onProgress: () => progress++,
        progressIntervalMs: 1,
      }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isStbError(err, 'STB_DB_UNREACHABLE')).toBe(true);
      const message = (err as Error).message;
      expect(message).toMatch(
        new RegExp(
          `^\\[stb\\] \\[db:${plugin}\\] Cannot connect to ${plugin}://stb:\\*\\*\\*@127\\.0\\.0\\.1:1/nowhere: .*ECONNREFUSED.*Check that the server runs and the target URL is right\\.$`,
        ),
      );
      expect(message).not.toContain('secret');
      expect(progress).toBe(0);
    },
    30_000,
  );
});
