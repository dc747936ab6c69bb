import type { DbSession } from '../../src/db-plugin';
import { nowMs } from '../../src/internal/wire';

/**
 * Runs `SELECT pg_sleep(0.05)` on a session and checks its wire times: both given, the write
 * and the read inside the call, at least the sleep between them.
 */
export async function expectSleepWireTimes(s: DbSession): Promise<void> {
  const t0 = nowMs();
  const out = await s.execute({
    templateId: 'wire-times',
    text: 'SELECT pg_sleep($1)',
    params: [{ t: 'float', v: 0.05 }],
    queryType: 'SELECT',
  });
  const t1 = nowMs();
  expect(out.ok).toBe(true);
  const sent = out.sentAt ?? NaN;
  const done = out.doneAt ?? NaN;
  expect(sent).toBeGreaterThanOrEqual(t0);
  expect(done).toBeLessThanOrEqual(t1);
  expect(done - sent).toBeGreaterThanOrEqual(50);
}
