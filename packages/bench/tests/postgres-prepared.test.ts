import { plugin } from '../src/db/postgres';
import type { BoundQuery } from '../src/bound-query';
import type { DbSession } from '../src/db-plugin';
import { usePgDatabase } from './helpers/db';

const db = usePgDatabase();

const q = (
  templateId: string,
  text: string,
  params: BoundQuery['params'] = [],
): BoundQuery => ({ templateId, text, params, queryType: 'SELECT' });

/** Rows of `SELECT … FROM pg_prepared_statements WHERE name = $1` on the session itself. */
async function preparedNamed(
  session: DbSession,
  name: string,
): Promise<number> {
  const out = await session.execute(
    q('probe', 'SELECT 1 FROM pg_prepared_statements WHERE name = $1', [
      { t: 'string', v: name },
    ]),
  );
  expect(out.ok).toBe(true);
  return out.rows;
}

// The query config's fixed part (name, text, rowMode, queryMode) sits in a per-statement
// prototype, which pg's copy of the config keeps: the statement must still be prepared under
// its name on the server (prepared) and unnamed (extended), and every query gets its own values.
describe('postgres plugin query configs', () => {
  it.each([
    ['prepared', 1],
    ['extended', 0],
  ] as const)(
    '%s: named statements on the server: %d',
    async (protocol, named) => {
      const url = db.url();
      if (url === null) return;
      const session = await plugin.connect({ url }, { protocol });
      try {
        const series = q('t1', 'SELECT generate_series(1, $1)');
        for (const n of [3, 5, 2]) {
          const out = await session.execute({
            ...series,
            params: [{ t: 'int', v: n }],
          });
          expect(out).toMatchObject({ ok: true, rows: n });
        }
        expect(await preparedNamed(session, 'stb_t1')).toBe(named);
      } finally {
        await session.close();
      }
    },
  );
});
