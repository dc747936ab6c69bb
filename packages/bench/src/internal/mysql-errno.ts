import type { ExecOutcome } from '../bound-query';
import { errorOutcome } from '../db-plugin';

/**
 * The outcome of a server error number: the errno as code and class; 1927 (connection killed) and
 * 2006/2013 (server gone, connection lost) lose the connection. Shared by `mysql` and `mysql-lean`.
 */
export function mysqlErrnoOutcome(errno: number): ExecOutcome {
  const lost = errno === 1927 || errno === 2006 || errno === 2013;
  return errorOutcome(String(errno), String(errno), lost);
}
