import type {
  Dialect,
  InputLine,
  OnInvalid,
  PluginBase,
  RawQueryEvent,
} from '@stb/core';

/**
 * What a log-format plugin gets besides its lines: where the lines come from, and how to report
 * lines it does not turn into events.
 */
export interface LogFormatContext {
  /** The input's name: a file path or `<stdin>`. */
  readonly file: string;
  /** Index of the input within the parse call (session ids are prefixed with it by the host). */
  readonly fileIndex: number;
  /**
   * Reports a line (an entry, with its continuation lines) that yields no event, by kind:
   * `connection`, `disconnection`, `checkpoint`, `error`, `duration-only`, `parse`, `bind`,
   * `other`… The kind `invalid` marks a line that could not be parsed: the host applies the
   * {@link LogFormatContext.onInvalid} policy to it (and throws `STB_PARSE_INVALID_LINE` under
   * `'throw'`, so a plugin must not catch what `report` throws).
   */
  report(kind: string, line: number, reason?: string): void;
  /**
   * Reports one invalid record that spans lines `first..last` (a csvlog record whose quoted field
   * never closed, skipped up to the next record start). Same policy as `report('invalid', …)`,
   * but the host counts every skipped line, so a loss is measured in lines. Optional for hosts:
   * call it as `ctx.reportInvalidSpan?.(…) ?? ctx.report('invalid', first, reason)`.
   */
  reportInvalidSpan?(first: number, last: number, reason: string): void;
  /** What the host does with `invalid` reports. */
  readonly onInvalid: OnInvalid;
  /** Aborts a long parse. */
  readonly signal?: AbortSignal;
  /**
   * Tells the host the finest time difference this input resolves, in µs, when it is only known
   * after reading (e.g. `%t` vs `%m` in a PostgreSQL prefix). Optional for hosts.
   */
  setTimeResolutionUs?(us: number): void;
}

/**
 * A log-format plugin: turns the lines of one input into {@link RawQueryEvent}s.
 * Session ids it yields are local to the input; the host prefixes them when several inputs are
 * parsed in one call.
 */
export interface LogFormat<TOptions = unknown> extends PluginBase<TOptions> {
  readonly kind: 'log-format';
  /** The SQL dialect of the statements in this format. */
  readonly dialect: Dialect;
  /** Default time resolution of the format in µs; absent when it has no times. */
  readonly timeResolutionUs?: number;
  /** Confidence (0..1) that the sample lines (the first lines of an input) are in this format. */
  detect?(sample: readonly string[]): number;
  /** Parses the lines of one input. Must report every line it does not turn into an event. */
  parse(
    lines: AsyncIterable<InputLine>,
    options: TOptions,
    ctx: LogFormatContext,
  ): AsyncIterable<RawQueryEvent>;
  /**
   * Optional fast path of {@link LogFormat.parse}: the same events in the same order, from lines
   * given in arrays and as arrays (one `await` per array instead of one per line and event).
   * The host uses it when present.
   */
  parseBatches?(
    lines: AsyncIterable<InputLine[]>,
    options: TOptions,
    ctx: LogFormatContext,
  ): AsyncIterable<RawQueryEvent[]>;
}

/**
 * Identity helper that pins a log-format plugin's option type.
 * @example
 * export const plugin = defineLogFormat({
 *   kind: 'log-format', name: 'my-format', apiVersion: 1, dialect: 'postgres',
 *   options: z.object({}),
 *   detect: (sample) => (sample[0]?.startsWith('MYLOG') ? 1 : 0),
 *   async *parse(lines, _options, ctx) { … },
 * });
 */
export function defineLogFormat<TOptions>(
  plugin: LogFormat<TOptions>,
): LogFormat<TOptions> {
  return plugin;
}
