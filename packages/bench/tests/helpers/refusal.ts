import type { DbPlugin } from '../../src/db-plugin';

/**
 * Connects `plugin` to `url` and expects the refusal that `unreachableError` builds:
 * `STB_DB_UNREACHABLE`, `[stb] [db:<plugin>] Cannot connect to <target>: <reason>. Check …`,
 * where `target` is the URL as the message shows it (secrets redacted).
 */
export async function expectUnreachable(
  plugin: DbPlugin,
  url: string,
  expected: { target: string; reason: string },
): Promise<void> {
  const err = await plugin.connect({ url }).then(
    async (s) => {
      await s.close();
      return null;
    },
    (e: unknown) => e,
  );
  expect({
    code: (err as { code?: unknown } | null)?.code,
    // node's URL throws a TypeError of the main realm, which is not `instanceof Error` in jest's:
    // there the reason reads `TypeError: Invalid URL` (in a plain process, `Invalid URL`)
    message: (err as Error | null)?.message.replace(': TypeError: ', ': '),
  }).toEqual({
    code: 'STB_DB_UNREACHABLE',
    message: `[stb] [db:${plugin.name}] Cannot connect to ${expected.target}: ${expected.reason}. Check that the server runs and the target URL is right.`,
  });
}
