/**
 * The URL and option reading the lean plugins (`pg-lean`, `mysql-lean`; issue 16) share: the
 * target URL parsed as an `http:` URL, its refusal of TLS, host, port, user, password and
 * database as written, and the two timeouts (an option, else a positive URL parameter, else the
 * default). Each plugin adds its protocol's fallbacks (PostgreSQL's environment variables, the
 * default port).
 */

/** Default statement deadline of the lean paths (ms). */
export const LEAN_QUERY_TIMEOUT_MS = 300_000;
/** Default connect timeout of the lean paths (ms). */
const LEAN_CONNECT_TIMEOUT_MS = 10_000;

/** The options of a lean plugin that {@link parseLeanUrl} reads. */
export interface LeanUrlOptions {
  readonly url: string;
  readonly connectTimeoutMs?: number | undefined;
  readonly queryTimeoutMs?: number | undefined;
}

/** How one protocol's lean target URL is read. */
export interface LeanUrlDialect {
  /** The target's schemes (with an optional `+lean`), replaced by `http:` to parse the URL. */
  readonly scheme: RegExp;
  /** Why the URL asks for TLS, which the lean path does not speak (thrown), or undefined. */
  readonly tlsRefusal: (params: URLSearchParams) => string | undefined;
  /** The URL parameter of the connect timeout, and its unit in ms. */
  readonly connectTimeout: { readonly param: string; readonly unitMs: number };
}

/** A lean target URL's parts, as written (a plugin applies its own fallbacks). */
export interface LeanUrl {
  readonly params: URLSearchParams;
  /** Host name without IPv6 brackets; '' when the URL names none. */
  readonly host: string;
  /** Port as written; '' when the URL names none. */
  readonly port: string;
  /** Decoded user name; '' when absent. */
  readonly user: string;
  /** Decoded password; '' when absent. */
  readonly password: string;
  /** Decoded database name; '' when absent. */
  readonly database: string;
  /** The option, else a positive connect-timeout parameter, else 10 s. */
  readonly connectTimeoutMs: number;
  /** The option, else a positive `query_timeout` parameter (ms), else {@link LEAN_QUERY_TIMEOUT_MS}. */
  readonly queryTimeoutMs: number;
}

/** A URL parameter's value when it is a positive number, else undefined. */
function positiveParam(
  params: URLSearchParams,
  name: string,
): number | undefined {
  const v = Number(params.get(name) ?? NaN);
  return v > 0 ? v : undefined;
}

/**
 * Reads a lean plugin's target URL and timeout options.
 * @throws TypeError for a URL that does not parse, Error for a URL that asks for TLS, URIError
 * for a malformed escape in the user, password or database.
 */
export function parseLeanUrl(
  o: LeanUrlOptions,
  dialect: LeanUrlDialect,
): LeanUrl {
  const url = new URL(o.url.replace(dialect.scheme, 'http:'));
  const params = url.searchParams;
  const refusal = dialect.tlsRefusal(params);
  if (refusal !== undefined) throw new Error(refusal);
  const dec = decodeURIComponent;
  const { param, unitMs } = dialect.connectTimeout;
  const connect = positiveParam(params, param);
  return {
    params,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port,
    user: dec(url.username),
    password: dec(url.password),
    database: dec(url.pathname.slice(1)),
    connectTimeoutMs:
      o.connectTimeoutMs ??
      (connect !== undefined ? connect * unitMs : LEAN_CONNECT_TIMEOUT_MS),
    queryTimeoutMs:
      o.queryTimeoutMs ??
      positiveParam(params, 'query_timeout') ??
      LEAN_QUERY_TIMEOUT_MS,
  };
}
