import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The trace contract (DESIGN.md, "The trace file"). Every shape that crosses a stage is declared
 * here, as a zod schema and its inferred type under the same name. Wire schemas never use
 * `.transform()` or `.default()`, so what is read is exactly what is written.
 */

/**
 * Trace format version written in every header record. Version 2 added `conn` (the session's
 * connection attributes) to events; readers accept version 1 traces, which have none.
 */
export const TRACE_FORMAT_VERSION = 2 as const;

/** SQL dialects a trace can be in. */
export const DIALECTS = ['postgres', 'mysql'] as const;
/** SQL dialect of a trace. */
export const Dialect = z.enum(DIALECTS);
export type Dialect = z.infer<typeof Dialect>;

/** Statement classes. TCL = BEGIN/COMMIT/ROLLBACK/SAVEPOINT…; UTILITY = SET/SHOW/VACUUM/EXPLAIN/COPY… */
export const QUERY_TYPES = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'DDL',
  'TCL',
  'UTILITY',
  'OTHER',
] as const;
export const QueryType = z.enum(QUERY_TYPES);
export type QueryType = z.infer<typeof QueryType>;

/** Types a parameter value can have. */
export const PARAM_TYPES = [
  'int',
  'float',
  'bigint',
  'string',
  'bool',
  'null',
  'timestamp',
  'date',
  'uuid',
  'json',
  'bytes',
  'list',
] as const;
export const ParamType = z.enum(PARAM_TYPES);
export type ParamType = z.infer<typeof ParamType>;

/**
 * A typed parameter value.
 * - `int`: a safe integer; `bigint`: decimal digits as a string (beyond ±2^53).
 * - `float`: a finite number; `string`: text; `bool`; `null`.
 * - `timestamp`: the literal as written (ISO-8601 or the server's text form); `date`: `YYYY-MM-DD`.
 * - `uuid`: canonical text; `json`: JSON text; `bytes`: lowercase hex without prefix.
 * - `list`: values of a squashed IN-list or multi-row VALUES.
 */
export type ParamValue =
  | { t: 'int'; v: number }
  | { t: 'float'; v: number }
  | { t: 'bigint'; v: string }
  | { t: 'string'; v: string }
  | { t: 'bool'; v: boolean }
  | { t: 'null'; v: null }
  | { t: 'timestamp'; v: string }
  | { t: 'date'; v: string }
  | { t: 'uuid'; v: string }
  | { t: 'json'; v: string }
  | { t: 'bytes'; v: string }
  | { t: 'list'; v: ParamValue[] };

export const ParamValue: z.ZodType<ParamValue> = z.lazy(() =>
  z.discriminatedUnion('t', [
    z.object({
      t: z.literal('int'),
      v: z.number().int().describe('A safe integer (±2^53−1).'),
    }),
    z.object({
      t: z.literal('float'),
      v: z.number().describe('A finite number.'),
    }),
    z.object({
      t: z.literal('bigint'),
      v: z
        .string()
        .regex(/^-?\d+$/)
        .describe('Decimal digits, for integers beyond ±2^53.'),
    }),
    z.object({ t: z.literal('string'), v: z.string().describe('Text.') }),
    z.object({
      t: z.literal('bool'),
      v: z.boolean().describe('true or false.'),
    }),
    z.object({ t: z.literal('null'), v: z.null().describe('SQL NULL.') }),
    z.object({
      t: z.literal('timestamp'),
      v: z
        .string()
        .describe(
          "The literal as written (ISO-8601 or the server's text form).",
        ),
    }),
    z.object({
      t: z.literal('date'),
      v: z.string().describe('`YYYY-MM-DD` as written.'),
    }),
    z.object({
      t: z.literal('uuid'),
      v: z.string().describe('Canonical text form.'),
    }),
    z.object({
      t: z.literal('json'),
      v: z.string().describe('JSON text.'),
    }),
    z.object({
      t: z.literal('bytes'),
      v: z
        .string()
        .regex(/^[0-9a-f]*$/)
        .describe('Lowercase hex without prefix.'),
    }),
    z.object({
      t: z.literal('list'),
      v: z
        .array(ParamValue)
        .describe('Values of a squashed IN-list or multi-row VALUES.'),
    }),
  ]),
);

/** Where a trace came from (free-form, JSON-safe). */
export const TraceSource = z
  .object({
    /** Input files, in the order their index prefixes session ids. */
    files: z.array(z.string()).optional(),
    /** Log formats detected or forced, per file. */
    formats: z.array(z.string()).optional(),
    /** `parse` for traces made from logs, `generate` for synthetic ones. */
    tool: z.string().optional(),
    /**
     * For generated traces: model kind, artifact hash, seed, options, and `thinkResolutionUs`
     * where the model's log stamped coarser than 1 µs (its resolution × the time scale: the think
     * times are drawn from that log's, stamps' rounding included; replay chains gaps below it).
     */
    generator: z
      .record(z.string(), z.unknown())
      .describe(
        "Generated traces: model kind, artifact hash, seed, options; `thinkResolutionUs`, its think times' resolution (its model's log's × the time scale), when coarser than 1 µs.",
      )
      .optional(),
  })
  .catchall(z.unknown());
export type TraceSource = z.infer<typeof TraceSource>;

/** First record of every trace. */
export const TraceHeader = z.object({
  kind: z
    .literal('header')
    .describe('Record kind; the header is always first.'),
  format: z.literal('stb-trace').describe('Marks the file as a trace.'),
  version: z
    .literal(TRACE_FORMAT_VERSION)
    .describe('Trace format version (`TRACE_FORMAT_VERSION`).'),
  dialect: Dialect.describe('SQL dialect of every statement in the trace.'),
  source: TraceSource.describe(
    'Where the trace came from: input files, formats, tool, generator settings.',
  ),
  /** The finest time difference the source could resolve, µs (MariaDB general log: 1_000_000). */
  timeResolutionUs: z
    .number()
    .int()
    .positive()
    .describe(
      'Finest time difference the source could resolve, µs (MariaDB general log: 1000000).',
    ),
  /** ISO-8601 time the trace was written. */
  createdAt: z.string().describe('ISO-8601 time the trace was written.'),
});
export type TraceHeader = z.infer<typeof TraceHeader>;

/** How a template was made. */
export const TEMPLATE_PATHS = [
  'libpg-query',
  'node-sql-parser',
  'lexer',
] as const;
export const TemplatePath = z.enum(TEMPLATE_PATHS);
export type TemplatePath = z.infer<typeof TemplatePath>;

/** One parameter slot of a template. */
export const TemplateSlot = z.object({
  type: ParamType.describe('Parameter type seen in this slot.'),
  /** The column the slot is compared with or assigned to (`pgbench_accounts.aid`), or null. */
  column: z
    .string()
    .nullable()
    .describe(
      'Column the slot is compared with or assigned to (`pgbench_accounts.aid`), or null.',
    ),
  /** Syntactic context where known: `=`, `<`, `IN`, `LIMIT`, `OFFSET`, `VALUES`, `SET`… */
  context: z
    .string()
    .optional()
    .describe('Syntactic context: `=`, `<`, `IN`, `LIMIT`, `VALUES`, `SET`…'),
});
export type TemplateSlot = z.infer<typeof TemplateSlot>;

/** Transaction boundary a statement marks (`COMMIT PREPARED` and `ROLLBACK TO` mark none). */
export const TxnBoundary = z.enum(['begin', 'end']);
export type TxnBoundary = z.infer<typeof TxnBoundary>;

/** A statement shape: normalised SQL with `$n` slots. Written before the first event using it. */
export const QueryTemplate = z.object({
  kind: z
    .literal('template')
    .describe('Record kind; a template precedes its first event.'),
  /** {@link computeTemplateId} of the dialect and normalised text. */
  id: z
    .string()
    .regex(/^[0-9a-f]{16}$/)
    .describe(
      'First 16 hex digits of SHA-256 over `dialect + "\\n" + normalised text`.',
    ),
  /** Normalised SQL; constants replaced by `$1…$n` in order of appearance. */
  text: z
    .string()
    .describe(
      'Normalised SQL; constants replaced by `$1…$n` in order of appearance.',
    ),
  queryType: QueryType.describe('Statement class.'),
  /** Tables read or written, schema-qualified where the SQL qualifies them. */
  tables: z
    .array(z.string())
    .describe(
      'Tables read or written, schema-qualified where the SQL qualifies them.',
    ),
  slots: z.array(TemplateSlot).describe('One entry per `$n` slot, in order.'),
  /** libpg-query fingerprint (PostgreSQL), to join with other tools. */
  fingerprint: z
    .string()
    .optional()
    .describe(
      'libpg-query fingerprint (PostgreSQL), to join with other tools.',
    ),
  /** Which path normalised the statement. */
  path: TemplatePath.optional().describe(
    'Which path normalised the statement.',
  ),
  /**
   * Transaction boundary: `begin` (BEGIN, START TRANSACTION) or `end` (COMMIT, END, ROLLBACK,
   * ABORT); absent for other statements. Decided by the extractor; `templateFacts` falls back to
   * the text for records without `writes`.
   */
  boundary: TxnBoundary.optional().describe(
    'Transaction boundary: `begin` (BEGIN, START TRANSACTION) or `end` (COMMIT, END, ROLLBACK, ABORT; not `COMMIT PREPARED` or `ROLLBACK TO`). Absent for other statements.',
  ),
  /** Whether the statement writes (INSERT/UPDATE/DELETE/MERGE/DDL, utility statements other than SET/SHOW/EXPLAIN). */
  writes: z
    .boolean()
    .optional()
    .describe(
      'Whether the statement writes: INSERT/UPDATE/DELETE/MERGE/DDL, or a utility statement other than SET/SHOW/EXPLAIN. When absent (older traces), readers decide from the text (`templateFacts`).',
    ),
  /** Number of events using the template, when the writer knew it (e.g. a generated trace). */
  count: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('Number of events using the template, when the writer knew it.'),
});
export type QueryTemplate = z.infer<typeof QueryTemplate>;

/** Outcome of a statement: `ok: false` for failed statements, with SQLSTATE or server error code. */
export const Outcome = z.object({
  ok: z.boolean().describe('False for a statement the server failed.'),
  code: z
    .string()
    .optional()
    .describe('SQLSTATE (PostgreSQL) or server error code (MySQL).'),
});
export type Outcome = z.infer<typeof Outcome>;

/**
 * What a session connected as: the user, the database and the application name, as far as the
 * log names them. Sessions are grouped by these first when a model is learned (docs/models.md).
 */
export const ConnAttributes = z.object({
  user: z.string().optional().describe('User (role) the session connected as.'),
  database: z
    .string()
    .optional()
    .describe('Database the session connected to.'),
  application: z
    .string()
    .optional()
    .describe('Application name (`application_name`) the client set.'),
});
export type ConnAttributes = z.infer<typeof ConnAttributes>;

/**
 * One text per distinct set of connection attributes, whatever the key order ('' when none is set):
 * what models and the validator group sessions by.
 * @example
 * connKey({ application: 'web', user: 'app' }); // '{"user":"app","application":"web"}'
 */
export function connKey(conn: ConnAttributes): string {
  const o: ConnAttributes = {};
  if (conn.user !== undefined) o.user = conn.user;
  if (conn.database !== undefined) o.database = conn.database;
  if (conn.application !== undefined) o.application = conn.application;
  return Object.keys(o).length === 0 ? '' : JSON.stringify(o);
}

/** One executed (or synthesised) statement. */
export const TraceEvent = z.object({
  kind: z.literal('event').describe('Record kind.'),
  /** Statement start, integer epoch µs. */
  startUs: z.number().int().describe('Statement start, integer epoch µs.'),
  /** One connection; prefixed by the input file's index when several files are parsed. */
  sessionId: z
    .string()
    .describe(
      "One connection; prefixed by the input file's index when several files are parsed.",
    ),
  templateId: z
    .string()
    .describe('Id of a template record that precedes this event.'),
  params: z
    .array(ParamValue)
    .describe('Typed values of the template slots, in slot order.'),
  durationUs: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('Execution time, µs, when logged.'),
  outcome: Outcome.optional().describe(
    'Present when known; `ok: false` for failed statements.',
  ),
  /** Index of the transaction within its session (0-based), when known. */
  txn: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe(
      'Index of the transaction within its session (0-based), when known.',
    ),
  /** Executable SQL with parameters inlined, when rendered by the generator. */
  sql: z
    .string()
    .optional()
    .describe(
      'Executable SQL with parameters inlined, when rendered by the generator.',
    ),
  /** The session's connection attributes, on its first event only (version 2). */
  conn: ConnAttributes.optional().describe(
    "The session's connection attributes (user, database, application name), on the session's first event only, when the log names them. Later events of the session carry none. Since trace version 2.",
  ),
});
export type TraceEvent = z.infer<typeof TraceEvent>;

/** Any record of a trace file. */
export const TraceRecord = z.discriminatedUnion('kind', [
  TraceHeader,
  QueryTemplate,
  TraceEvent,
]);
export type TraceRecord = z.infer<typeof TraceRecord>;

/** The whole-file JSON form of a trace: `{ header, templates, events }`. */
export const TraceDocument = z.object({
  header: TraceHeader,
  templates: z.array(QueryTemplate),
  events: z.array(TraceEvent),
});
export type TraceDocument = z.infer<typeof TraceDocument>;

/** A bound parameter as a log shows it: `$n = '…'` (text) or `NULL`. */
export const RawParam = z.object({
  /** 1-based `$n` index. */
  index: z.number().int().positive(),
  /** The value as text, or null for SQL NULL. */
  value: z.string().nullable(),
});
export type RawParam = z.infer<typeof RawParam>;

/** What a log yields for one statement, before template extraction. */
export const RawQueryEvent = z.object({
  /** Statement start, integer epoch µs; absent where the source has no times (plain SQL). */
  startUs: z.number().int().optional(),
  /** The connection, unique within the whole parse (file index prefix included). */
  sessionId: z.string(),
  user: z.string().optional(),
  database: z.string().optional(),
  application: z.string().optional(),
  /** Client host (and port) where logged. */
  client: z.string().optional(),
  /** The SQL text as logged (may hold `$n` or `?` placeholders). */
  sql: z.string(),
  /** Bound parameters of an extended-protocol or prepared execution. */
  params: z.array(RawParam).optional(),
  durationUs: z.number().int().nonnegative().optional(),
  /** Prepared statement name for `execute <name>`, when logged. */
  preparedName: z.string().optional(),
  /** Transaction id where the log prefix has it (`%x`, `%v`). */
  transactionId: z.string().optional(),
  /** Set when the server reported this statement failed. */
  error: z
    .object({ code: z.string().optional(), message: z.string().optional() })
    .optional(),
  /** Input file and 1-based line of the entry's first line. */
  source: z.object({ file: z.string(), line: z.number().int().positive() }),
  /** Index of the input file within the parse call. */
  fileIndex: z.number().int().nonnegative().optional(),
  /** Dialect the log belongs to. */
  dialect: Dialect,
});
export type RawQueryEvent = z.infer<typeof RawQueryEvent>;

/**
 * The stable template id: first 16 hex digits of SHA-256 over `dialect + "\n" + normalisedText`.
 * The same statement shape gets the same id on every machine and run.
 */
export function computeTemplateId(
  dialect: Dialect,
  normalisedText: string,
): string {
  return createHash('sha256')
    .update(`${dialect}\n${normalisedText}`)
    .digest('hex')
    .slice(0, 16);
}

/** Creates a header record with the current time. */
export function createTraceHeader(options: {
  dialect: Dialect;
  source?: TraceSource;
  timeResolutionUs?: number;
  createdAt?: string;
}): TraceHeader {
  return {
    kind: 'header',
    format: 'stb-trace',
    version: TRACE_FORMAT_VERSION,
    dialect: options.dialect,
    source: options.source ?? {},
    timeResolutionUs: options.timeResolutionUs ?? 1,
    createdAt: options.createdAt ?? new Date().toISOString(),
  };
}
