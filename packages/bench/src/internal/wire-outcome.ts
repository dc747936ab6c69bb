import type { ExecOutcome } from '../bound-query';
import { errorOutcome, withErrorMessage } from '../db-plugin';
import type { WireFailure } from './wire-connection';

/**
 * The outcome of a lean wire request the client gave up on (`WireFailure`), as both lean plugins
 * report it: code, class and message; the connection is lost unless the failure is the
 * protocol's own cancel error (`cancelCode`: PostgreSQL's 57014, MySQL's 1317), which leaves it
 * usable.
 */
export function wireFailureOutcome(
  f: WireFailure,
  cancelCode: string,
): ExecOutcome {
  const lost = f.cls === 'connection' || f.code !== cancelCode;
  return withErrorMessage(errorOutcome(f.code, f.cls, lost), {
    message: f.message,
  });
}
