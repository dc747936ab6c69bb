import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { StbError } from '@stb/core';
import type { JsonObject } from '@stb/core';
import { knexDialect } from './db/knex';
import { redactSecrets } from './db-plugin';

/**
 * Where a worker finds a DB plugin: a module specifier, the export holding the plugin and its
 * options. Plain data, so it crosses threads (functions never do).
 */
export interface PluginDescriptor {
  /** Module specifier, e.g. `@stb/bench/db/postgres`, or a file URL. */
  readonly module: string;
  /** Export name of the plugin (default `plugin`). */
  readonly exportName: string;
  /** Plugin options (validated by the plugin's schema). */
  readonly options: JsonObject;
  /** Plugin name, for messages. */
  readonly name: string;
  /** SQL dialect of the target. */
  readonly dialect: string;
  /** The target as given, with credentials redacted. */
  readonly display: string;
}

const invalid = (target: string, why: string): StbError =>
  new StbError(
    'STB_DB_TARGET_INVALID',
    `[stb] [bench] Invalid target \`${redactSecrets(target)}\`: ${why}. Use postgres://… (or postgres+lean://…, postgres+native://…), mysql://… (or mysql+lean://…), sqlite:<path>|sqlite::memory:, pglite:[dir], knex:<client>:<connection> or a JSON/JS config file.`,
    { details: { target: redactSecrets(target) } },
  );

function builtin(
  name: string,
  dialect: string,
  rest: { options: JsonObject; display: string },
): PluginDescriptor {
  const { options, display } = rest;
  return {
    module: `@stb/bench/db/${name}`,
    exportName: 'plugin',
    options,
    name,
    dialect,
    display: redactSecrets(display),
  };
}

function fromConfig(config: unknown, source: string): PluginDescriptor {
  if (typeof config !== 'object' || config === null)
    throw invalid(source, 'the config file must hold an object');
  const c = config as Record<string, unknown>;
  if (typeof c['module'] === 'string') {
    const mod = c['module'];
    return {
      module: mod.startsWith('.') ? pathToFileURL(resolve(mod)).href : mod,
      exportName:
        typeof c['exportName'] === 'string' ? c['exportName'] : 'plugin',
      options: (c['options'] ?? {}) as JsonObject,
      name: typeof c['name'] === 'string' ? c['name'] : mod,
      dialect: typeof c['dialect'] === 'string' ? c['dialect'] : 'unknown',
      display: source,
    };
  }
  if (typeof c['client'] === 'string' && c['connection'] !== undefined)
    return builtin('knex', knexDialect(c['client']), {
      // the knex config's own keys, and the plugin's statement deadline next to them
      options: JSON.parse(
        JSON.stringify({
          client: c['client'],
          connection: c['connection'],
          queryTimeoutMs: c['queryTimeoutMs'],
        }),
      ) as JsonObject,
      display: source,
    });
  throw invalid(
    source,
    'a config file needs `client` and `connection` (knex) or `module` and `options` (any plugin)',
  );
}

/**
 * Refuses a database URL the drivers could not parse (`postgres://[::1:5432/db`, a port above
 * 65535) before anything connects, as a usage error naming the URL. A host-less URL
 * (`postgres://user@/db`, a Unix socket) is accepted, as `pg` accepts it.
 */
function checkUrl(t: string): void {
  const port = /^[a-z]+:\/\/[^/?#]*:(\d+)(?:[/?#]|$)/i.exec(t)?.[1];
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535))
    throw invalid(t, `port ${port} is outside 1..65535`);
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    try {
      url = new URL(t.replace('@/', '@localhost/'));
    } catch {
      throw invalid(
        t,
        'the URL is malformed (check the brackets of an IPv6 host, the port, and percent-encode special characters of the password)',
      );
    }
  }
  if (url.port !== '' && !(Number(url.port) >= 1 && Number(url.port) <= 65535))
    throw invalid(t, `port ${url.port} is outside 1..65535`);
}

/**
 * Resolves a target URL or config file to a {@link PluginDescriptor}.
 * @throws StbError `STB_DB_TARGET_INVALID` for an unknown scheme or a malformed config.
 * @example
 * await resolveTarget('postgres://postgres@127.0.0.1/test'); // { module: '@stb/bench/db/postgres', … }
 */
export async function resolveTarget(target: string): Promise<PluginDescriptor> {
  const t = target.trim();
  if (/^postgres(ql)?\+lean:\/\//i.test(t)) {
    const url = t.replace(/^(postgres(ql)?)\+lean:/i, '$1:');
    checkUrl(url);
    return builtin('pg-lean', 'postgres', { options: { url }, display: t });
  }
  if (/^postgres(ql)?\+native:\/\//i.test(t)) {
    const url = t.replace(/^(postgres(ql)?)\+native:/i, '$1:');
    checkUrl(url);
    return builtin('pg-native', 'postgres', { options: { url }, display: t });
  }
  if (/^postgres(ql)?:\/\//i.test(t)) {
    checkUrl(t);
    return builtin('postgres', 'postgres', { options: { url: t }, display: t });
  }
  if (/^(mysql|mariadb)\+lean:\/\//i.test(t)) {
    const url = t.replace(/^(mysql|mariadb)\+lean:/i, 'mysql:');
    checkUrl(url);
    return builtin('mysql-lean', 'mysql', { options: { url }, display: t });
  }
  if (/^(mysql|mariadb):\/\//i.test(t)) checkUrl(t);
  if (/^(mysql|mariadb):\/\//i.test(t))
    return builtin('mysql', 'mysql', {
      options: { url: t.replace(/^mariadb:/i, 'mysql:') },
      display: t,
    });
  if (/^sqlite:/i.test(t)) {
    const path = t.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw invalid(t, 'give a path or `:memory:`');
    return builtin('sqlite', 'sqlite', { options: { path }, display: t });
  }
  if (/^pglite:/i.test(t)) {
    const dir = t.slice('pglite:'.length).replace(/^\/\/(?=\/)/, '');
    return builtin('pglite', 'postgres', {
      options: dir === '' ? {} : { dataDir: dir },
      display: t,
    });
  }
  if (/^knex:/i.test(t)) {
    const rest = t.slice('knex:'.length);
    const i = rest.indexOf(':');
    if (i <= 0) throw invalid(t, 'write knex:<client>:<connection>');
    const client = rest.slice(0, i);
    const connection = rest.slice(i + 1);
    return builtin('knex', knexDialect(client), {
      options: {
        client,
        connection: /sqlite/i.test(client)
          ? { filename: connection }
          : connection,
      },
      display: t,
    });
  }
  const ext = extname(t).toLowerCase();
  if (ext === '.json') {
    let text: string;
    try {
      text = await readFile(t, 'utf8');
    } catch (err) {
      throw new StbError(
        'STB_INPUT_NOT_FOUND',
        `[stb] [bench] Cannot read target config ${t}. Check the path.`,
        { cause: err, details: { file: t } },
      );
    }
    try {
      return fromConfig(JSON.parse(text), t);
    } catch (err) {
      if (err instanceof StbError) throw err;
      throw invalid(t, 'the file is not valid JSON');
    }
  }
  if (ext === '.js' || ext === '.mjs' || ext === '.cjs') {
    const mod = (await import(pathToFileURL(resolve(t)).href)) as {
      default?: unknown;
    };
    return fromConfig(mod.default ?? mod, t);
  }
  throw invalid(t, 'unknown scheme');
}
