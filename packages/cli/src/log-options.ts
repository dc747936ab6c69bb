import type { ParseFilters } from '@stb/parser';

/*
 * The log options of the commands that read logs (`parse`, `learn`, `generate`), turned into
 * parser options. Kept apart from `learn.ts` so `stb parse` does not load the model packages.
 */

/** Log options shared by the commands that read logs. */
export interface LogCliOptions {
  format?: string;
  database?: string[];
  user?: string[];
  application?: string[];
  excludeSession?: string[];
  prefix?: string;
  utcOffset?: string;
  /** Most invalid lines tolerated, as a share of lines read (`--max-invalid`, default 0.01). */
  maxInvalid?: number;
  /** Longest line accepted, in UTF-16 units (`--max-line-length`, default 64 Mi). */
  maxLineLength?: number;
  /** Log-format plugin packages (`--format-package`). */
  formatPackage?: string[];
}

/** The forced log format: `--format`, or PostgreSQL stderr when only `--prefix` is given. */
export function toLogFormat(o: LogCliOptions): string | undefined {
  return o.format ?? (o.prefix !== undefined ? 'postgres-stderr' : undefined);
}

/** Per-format parser options from the command line (`--prefix`, `--utc-offset`). */
export function toFormatOptions(
  o: LogCliOptions,
): Record<string, unknown> | undefined {
  const f: Record<string, unknown> = {};
  if (o.prefix !== undefined) f['postgres-stderr'] = { prefix: o.prefix };
  if (o.utcOffset !== undefined) {
    f['mysql-general'] = { utcOffset: o.utcOffset };
    f['mysql-slow'] = { utcOffset: o.utcOffset };
  }
  return Object.keys(f).length > 0 ? f : undefined;
}

/** Parser filters from the command line. */
export function toFilters(o: LogCliOptions): ParseFilters | undefined {
  const f: ParseFilters = {};
  if (o.database) f.databases = o.database;
  if (o.user) f.users = o.user;
  if (o.application) f.applications = o.application;
  if (o.excludeSession)
    f.excludeSessions = o.excludeSession.map((p) =>
      p.length > 2 && p.startsWith('/') && p.endsWith('/')
        ? new RegExp(p.slice(1, -1))
        : p,
    );
  return Object.keys(f).length > 0 ? f : undefined;
}
