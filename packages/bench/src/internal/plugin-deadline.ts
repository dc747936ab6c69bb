import { PluginError } from '@stb/core';
import type { BoundQuery, ExecOutcome } from '../bound-query';
import { errorOutcome, withErrorMessage } from '../db-plugin';
import type { DbExecuteContext, DbPlugin, DbSession } from '../db-plugin';
import { settleWithin } from './settle-within';
import {
  CLOSE_WAIT_MS,
  DEADLINE_CANCEL_GRACE_MS,
  StatementDeadline,
} from './statement-deadline';

/**
 * The runner's statement deadline for a plugin without one of its own (ms): 5 minutes, the
 * built-in plugins' default `query_timeout`.
 */
export const PLUGIN_STATEMENT_TIMEOUT_MS = 300_000;

/**
 * How long one `connect` attempt of such a plugin may take before it counts as failed (ms): the
 * session then tries again until the reconnect timeout, as after a refused connection.
 */
export const PLUGIN_CONNECT_TIMEOUT_MS = 30_000;

/** How long its `serverVersion` may take before the result goes without one (ms). */
const SERVER_VERSION_WAIT_MS = 5000;

/** A thrown error's stand-in on its way through the deadline (rethrown, never recorded). */
const THREW: ExecOutcome = { ok: true, rows: 0 };

/** The limits {@link guardedConnect} puts on a plugin without a deadline of its own (ms). */
export interface PluginLimits {
  /** Default {@link PLUGIN_STATEMENT_TIMEOUT_MS}. */
  readonly statementTimeoutMs?: number | undefined;
  /** Default {@link PLUGIN_CONNECT_TIMEOUT_MS}. */
  readonly connectTimeoutMs?: number | undefined;
}

/**
 * `open` as the runner calls it: unchanged for a plugin that bounds its own statements
 * (`capabilities.ownDeadline`, every built-in one), else with the runner's deadline around every
 * call that waits on the database ({@link guardSession}), and each `connect` attempt given
 * {@link PLUGIN_CONNECT_TIMEOUT_MS}. A third-party plugin whose statement or connect never
 * settles would otherwise hold its session, and a run without `--duration`, for ever.
 */
export function guardedConnect(
  plugin: DbPlugin,
  open: () => Promise<DbSession>,
  limits: PluginLimits = {},
): () => Promise<DbSession> {
  if (plugin.capabilities.ownDeadline === true) return open;
  const statementMs = limits.statementTimeoutMs ?? PLUGIN_STATEMENT_TIMEOUT_MS;
  const connectMs = limits.connectTimeoutMs ?? PLUGIN_CONNECT_TIMEOUT_MS;
  return async () => {
    let late = false;
    const opening = call(open);
    const session = await settleWithin(
      opening.catch((err: unknown) => {
        if (late) return undefined;
        throw err;
      }),
      connectMs,
      undefined,
    );
    if (session === undefined) {
      late = true;
      // a connection that opens after all is closed, not leaked
      void opening.then(
        (s) => call(() => s.close()).catch(() => undefined),
        () => undefined,
      );
      throw new PluginError(
        'STB_DB_UNREACHABLE',
        `[stb] [db:${plugin.name}] The plugin's connect did not settle within ${String(connectMs)} ms.`,
        {
          pluginKind: 'db',
          pluginName: plugin.name,
          details: { timeoutMs: connectMs },
        },
      );
    }
    return guardSession(session, statementMs, plugin.name);
  };
}

/**
 * `inner` with the runner's statement deadline (`ms`) around each statement, as the built-in
 * plugins have their own ({@link StatementDeadline}): a statement still running after `ms` is
 * cancelled through the plugin's `cancel` when it has one, and its error counts as class
 * `timeout`. When the cancel fails or is missing, the connection is given up (its `close` called,
 * waited for at most {@link CLOSE_WAIT_MS}); the statement then ends as a lost connection of class
 * `timeout`, when the plugin ends it after the close or {@link DEADLINE_CANCEL_GRACE_MS} after the
 * deadline at the latest, and the runner opens another connection. `prepare`,
 * `cancel`, `serverVersion` and `close` are bounded too. `runBatch` is not passed on: the runner
 * then hands the session one statement at a time, each under the deadline.
 */
export function guardSession(
  inner: DbSession,
  ms: number,
  pluginName: string,
): DbSession {
  let given = false;
  const closeInner = (): Promise<void> =>
    settleWithin(
      call(() => inner.close()).catch(() => undefined),
      CLOSE_WAIT_MS,
      undefined,
    );
  const cancelInner = (): Promise<boolean> =>
    inner.cancel === undefined
      ? Promise.resolve(false)
      : settleWithin(
          call(() => inner.cancel?.() ?? Promise.resolve()).then(
            () => true,
            () => false,
          ),
          DEADLINE_CANCEL_GRACE_MS,
          false,
        );
  const deadline = new StatementDeadline({
    ms,
    cancel: cancelInner,
    giveUp: () => {
      if (given) return;
      given = true;
      void closeInner();
    },
    // no apostrophe: messages lose quoted text (withErrorMessage)
    cancelName:
      inner.cancel === undefined
        ? `a cancel (the ${pluginName} plugin has none)`
        : `the ${pluginName} plugin cancel`,
  });
  const gone = (): ExecOutcome =>
    withErrorMessage(errorOutcome('ETIMEDOUT', 'timeout', true), {
      message: `the connection was given up after a statement ran past ${String(ms)} ms`,
    });
  /** One call that waits on the server (a statement, a prepare), under the deadline. */
  const guarded = async (
    run: () => Promise<ExecOutcome>,
  ): Promise<ExecOutcome> => {
    // after a deadline's cancel on its way (see StatementDeadline.held), which may give the
    // connection up; no await when none is (a microtask per statement otherwise)
    const held = deadline.held();
    if (held !== undefined) await held;
    if (given) return gone();
    // a throw goes through the deadline as a stand-in, and is rethrown unless the deadline
    // ended the statement first (then it is the lost connection the deadline made of it)
    let thrown: unknown;
    const o = await deadline.run(
      run,
      (r) => r,
      (err) => {
        thrown = err;
        return THREW;
      },
    );
    if (o === THREW) throw thrown;
    return o;
  };
  const close = async (): Promise<void> => {
    deadline.dispose();
    if (given) return;
    given = true;
    await closeInner();
  };
  const noSuch = (): Promise<never> => Promise.reject(new Error('not offered'));
  return {
    execute: (query: BoundQuery, ctx?: DbExecuteContext) =>
      guarded(() => inner.execute(query, ctx)),
    ...(inner.prepare !== undefined
      ? {
          prepare: (q: BoundQuery) =>
            guarded(() => inner.prepare?.(q) ?? noSuch()),
        }
      : {}),
    ...(inner.cancel !== undefined
      ? { cancel: () => cancelInner().then(() => undefined) }
      : {}),
    ...(inner.serverVersion !== undefined
      ? {
          serverVersion: async () => {
            const v = await settleWithin(
              call(() => inner.serverVersion?.() ?? noSuch()).catch(
                () => undefined,
              ),
              SERVER_VERSION_WAIT_MS,
              undefined,
            );
            if (v === undefined)
              throw new Error(
                `no server version within ${String(SERVER_VERSION_WAIT_MS)} ms`,
              );
            return v;
          },
        }
      : {}),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** `f()`, with a synchronous throw turned into a rejection (an async function's own). */
async function call<T>(f: () => Promise<T>): Promise<T> {
  return f();
}
