/**
 * A custom DB plugin: PostgreSQL through `pg`, with a per-statement timeout and a tag comment
 * prepended to every statement (so the benchmark's queries are easy to find in
 * pg_stat_activity, pg_stat_statements or the server log).
 *
 * The runner imports this module itself (also inside worker threads) from the descriptor's
 * `module` URL and uses its `plugin` export: plugins cross threads as data, never as objects.
 */
import { z } from 'zod';
import {
  createPlaceholderTranslator,
  defineDbPlugin,
  loadDriver,
  redactSecrets,
  unreachableError,
} from '@stb/bench';
import type { DbPlugin } from '@stb/bench';
// The built-in postgres plugin's helpers: value conversion and SQLSTATE → outcome mapping.
import { pgErrorOutcome, toPgValue } from '@stb/bench/db/postgres';
import type { PgLib } from '@stb/bench/db/postgres';

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
        convert: toPgValue,
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
            return pgErrorOutcome(err, broken);
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
