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

/**
 * Runs a statement that fails after `pg_sleep(0.05)` (division by zero) and checks the failed
 * outcome: its SQLSTATE and class, the write inside the call, the read (when the plugin tells it)
 * inside the call and after the sleep, and that the session runs the next statement.
 */
export async function expectFailedWireTimes(s: DbSession): Promise<void> {
  const t0 = nowMs();
  const out = await s.execute({
    templateId: 'wire-times-failed',
    text: 'SELECT 1 / (0 * length(pg_sleep($1)::text))',
    params: [{ t: 'float', v: 0.05 }],
    queryType: 'SELECT',
  });
  const t1 = nowMs();
  expect(out).toMatchObject({
    ok: false,
    rows: 0,
    errorCode: '22012',
    errorClass: '22',
    connectionLost: false,
    errorMessage: 'division by zero',
  });
  const sent = out.sentAt ?? NaN;
  expect(sent).toBeGreaterThanOrEqual(t0);
  expect(sent).toBeLessThanOrEqual(t1);
  // the read is told when the ReadyForQuery came in the ErrorResponse's chunk (usual on an idle
  // machine, not always on a busy one): the executor then times the end at the call's return
  const done = out.doneAt ?? NaN;
  if (!Number.isNaN(done)) {
    expect(done).toBeLessThanOrEqual(t1);
    expect(done - sent).toBeGreaterThanOrEqual(50);
  }
  const next = await s.execute({
    templateId: 'wire-times-next',
    text: 'SELECT $1::int AS x',
    params: [{ t: 'int', v: 7 }],
    queryType: 'SELECT',
  });
  expect(next).toMatchObject({ ok: true, rows: 1 });
}
