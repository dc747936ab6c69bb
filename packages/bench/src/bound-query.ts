import type { ParamValue, QueryType } from '@stb/core';

/**
 * One statement ready to run: the template's text with PostgreSQL-style `$1..$n` placeholders
 * (also for MySQL-dialect traces) and the event's typed parameters. Each {@link DbPlugin}
 * translates placeholders to its driver's style (see {@link createPlaceholderTranslator}).
 */
export interface BoundQuery {
  readonly templateId: string;
  readonly text: string;
  readonly params: readonly ParamValue[];
  readonly queryType: QueryType;
}

/** What executing one statement produced. */
export interface ExecOutcome {
  readonly ok: boolean;
  /** Rows returned (SELECT) or affected (DML). */
  readonly rows: number;
  /** Rows affected, when the driver reports it separately. */
  readonly affected?: number;
  /** Server error code (SQLSTATE, MySQL errno) or a client-side code (`ECONNRESET`). */
  readonly errorCode?: string;
  /** Error class for aggregation: SQLSTATE class (`23`, `57`), MySQL errno, `connection`, `timeout`, `client`. */
  readonly errorClass?: string;
  /**
   * The server's error message with literals removed (quoted strings and numbers become `?`), so
   * it names the failure without carrying parameter values. Set with {@link withErrorMessage}.
   */
  readonly errorMessage?: string;
  /** True when the connection is unusable afterwards (the runner reconnects). */
  readonly connectionLost?: boolean;
  /**
   * When the request was handed to the socket, ms on the `performance.timeOrigin +
   * performance.now()` clock of the thread that called `execute`. With {@link doneAt}, the runner
   * times the service from the wire instead of around its own call (issue 16): what it spends
   * before the write and after the read is then left out. Plugins that cannot tell leave both out.
   */
  readonly sentAt?: number;
  /** When the last byte of the answer was read from the socket (same clock as {@link sentAt}). */
  readonly doneAt?: number;
}
