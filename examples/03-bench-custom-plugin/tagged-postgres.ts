/**
 * A custom DB plugin: PostgreSQL through `pg`, with a per-statement timeout and a tag comment
 * prepended to every statement (so the benchmark's queries are easy to find in
 * pg_stat_activity, pg_stat_statements or the server log).
 *
 * The runner imports this module itself (also inside worker threads) from the descriptor's
 * `module` URL and uses its `plugin` export: plugins cross threads as data, never as objects.
 */
import { z } from 'zod';
import type { ParamValue } from '@stb/core';
import {
  createPlaceholderTranslator,
  defineDbPlugin,
  errorOutcome,
  loadDriver,
  redactSecrets,
  unreachableError,
} from '@stb/bench';
import type { DbPlugin, ExecOutcome } from '@stb/bench';

/** Options of the `tagged-postgres` plugin (validated by the runner with this schema). */
export const TaggedPostgresOptions = z.object({
  url: z.string().min(1),
  /** Server-side statement timeout (0 = none). */
  statementTimeoutMs: z.number().int().nonnegative().default(5000),
  /** Put in a comment before every statement and used as application_name. */
  tag: z
    .string()
    .regex(/^[\w.-]+$/)
    .default('stb-example'),
});
export type TaggedPostgresOptions = z.infer<typeof TaggedPostgresOptions>;

interface PgResult {
  rowCount: number | null;
  rows: unknown[];
}
interface PgClient {
  connect(): Promise<void>;
  query(config: unknown): Promise<PgResult>;
  end(): Promise<void>;
  on(event: 'error', fn: (err: Error) => void): void;
}
interface PgLib {
  Client: new (config: unknown) => PgClient;
}

const toPg = (p: ParamValue): unknown =>
  p.t === 'bytes' ? Buffer.from(p.v, 'hex') : p.v;

function outcomeOf(err: unknown, broken: boolean): ExecOutcome {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code))
    // SQLSTATE: 57014 is a statement timeout, class 08 a lost connection.
    return errorOutcome(
      code,
      code.slice(0, 2),
      broken || code.startsWith('08'),
    );
  return errorOutcome(undefined, broken ? 'connection' : 'client', broken);
}

/** The plugin. */
export const plugin: DbPlugin<TaggedPostgresOptions> =
  defineDbPlugin<TaggedPostgresOptions>({
    kind: 'db',
    name: 'tagged-postgres',
    apiVersion: 1,
    options: TaggedPostgresOptions,
    dialect: 'postgres',
    capabilities: {
      prepared: true,
      transactions: true,
      maxConnections: null,
      cancel: false,
    },
    dependencies: ['pg'],
    async connect(options) {
      const pg = await loadDriver<PgLib>(
        { plugin: 'tagged-postgres', pkg: 'pg', lib: undefined },
        () => import('pg'),
      );
      const client = new pg.Client({
        connectionString: options.url,
        application_name: options.tag,
        statement_timeout: options.statementTimeoutMs,
        connectionTimeoutMillis: 5000,
      });
      let broken = false;
      client.on('error', () => {
        broken = true;
      });
      try {
        await client.connect();
      } catch (err) {
        await client.end().catch(() => undefined);
        throw unreachableError(
          'tagged-postgres',
          redactSecrets(options.url),
          err,
        );
      }
      const translator = createPlaceholderTranslator({
        style: 'dollar',
        convert: toPg,
      });
      const comment = `/* ${options.tag} */ `;
      let closed = false;
      const close = async (): Promise<void> => {
        if (closed) return;
        closed = true;
        await client.end().catch(() => undefined);
      };
      return {
        async execute(query) {
          const t = translator.translate(query);
          try {
            // A named statement is prepared once per connection, then only bound and executed.
            const r = await client.query({
              name: `tag_${t.key}`.slice(0, 63),
              text: comment + t.text,
              values: t.values,
              rowMode: 'array',
            });
            return { ok: true, rows: r.rowCount ?? r.rows.length };
          } catch (err) {
            return outcomeOf(err, broken);
          }
        },
        async serverVersion() {
          const r = await client.query({
            text: "SELECT split_part(version(), ' on ', 1), current_setting('statement_timeout'), current_setting('application_name')",
            rowMode: 'array',
          });
          const [version, timeout, app] = (r.rows[0] ?? []) as string[];
          return `${version} (statement_timeout=${timeout}, application_name=${app})`;
        },
        close,
        [Symbol.asyncDispose]: close,
      };
    },
  });
