import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import {
  STOP_TARGET_LOST,
  StbError,
  isStbError,
  openTrace,
  writeFileAtomic,
} from '@stb/core';
import type { BenchIncident, BenchOutage, BenchResult } from '@stb/core';
import {
  createBenchRunner,
  createMetricsRegistry,
  formatBenchResult,
  startMetricsServer,
} from '@stb/bench';
import type { BenchMode, MetricsServer, Protocol, SqlScript } from '@stb/bench';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import type { CliContext } from '../context';
import { addExamples } from '../context';
import { EXIT_CODES, type ExitCode } from '../exit-codes';
import { requireEvents } from '../non-empty';
import {
  parseDurationUs,
  parseNonNegativeInt,
  parsePort,
  parsePositiveInt,
  parsePositiveNumber,
  parseSeed,
} from '../options';
import { assertWritable, inputsOf } from '../outputs';

/** Options of `stb bench`. */
export interface BenchCommandOptions {
  input: string;
  target?: string;
  mode: BenchMode;
  speed?: number;
  scheduler?: 'alarm' | 'timer';
  rate?: number;
  arrival: 'poisson' | 'uniform';
  duration?: number;
  stopGrace?: number;
  reconnectTimeout?: number;
  statementTimeout?: number;
  warmup?: number;
  maxQueries?: number;
  connections?: number;
  workers?: number;
  protocol: Protocol;
  readOnly?: boolean;
  dryRun?: boolean;
  shard?: { index: number; count: number };
  failFast?: boolean;
  setup?: string;
  teardown?: string;
  seed: number;
  metrics: boolean;
  metricsHost: string;
  metricsPort: number;
  metricsMaxTemplates?: number;
  out?: string;
}

function parseShard(value: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || !(count > 0) || index >= count)
    throw new InvalidArgumentError(
      `Expected i/n with 0 ≤ i < n (e.g. 0/4), got \`${value}\`.`,
    );
  return { index, count };
}

const seconds = (v: string): number => parseDurationUs(v) / 1e6;

/**
 * Why a run that was not stopped by a signal, did not fail and was no dry run measured no
 * statement; undefined when it measured some. The usual cause is the options for this trace: a
 * warm-up longer than the trace, `--read-only` on a trace that only writes, an open loop whose
 * rate gives no arrival within `--duration`.
 */
export function nothingMeasured(
  result: BenchResult,
  opts: Pick<
    BenchCommandOptions,
    'dryRun' | 'warmup' | 'duration' | 'rate' | 'maxQueries' | 'mode'
  >,
): string | undefined {
  if (result.overall.count > 0 || opts.dryRun === true) return undefined;
  if (
    result.status === 'failed' ||
    result.stopReason === 'signal' ||
    stoppedForLostTarget(result) ||
    stoppedWhileLost(result) !== undefined ||
    (result.sessions.gaveUp ?? 0) > 0 ||
    crashesOf(result).length > 0
  )
    return undefined;
  const ran = result.client?.queries ?? 0;
  const none = '[stb] [cli] Nothing was measured, so no result was written';
  if (ran > 0 && result.warmupSeconds > 0) {
    const end =
      result.status === 'stopped'
        ? '--duration'
        : opts.maxQueries !== undefined
          ? `--max-queries (${opts.maxQueries})`
          : 'the trace';
    return `${none}: all ${ran} statements ran in the ${result.warmupSeconds} s warm-up (--warmup), which the result leaves out, before ${end} ended the run. Shorten --warmup.`;
  }
  if (result.skipped.readOnly > 0)
    return `${none}: --read-only skipped all ${result.skipped.readOnly} statements of the trace (each writes or changes the schema).`;
  if (opts.mode === 'open' && opts.rate !== undefined)
    return `${none}: no arrival came within the run at --rate ${opts.rate}/s${opts.duration !== undefined ? ` and --duration ${opts.duration} s` : ''}. Raise --rate${opts.duration !== undefined ? ' or --duration' : ''}.`;
  return `${none}: no statement ran (${result.skipped.notRun} read and not run; the run ${result.status}${result.stopReason !== undefined ? ` by ${result.stopReason}` : ''}).`;
}

/** Whether the run stopped for `reason` (merged shards join their stop reasons with '; '). */
function stoppedFor(result: BenchResult, reason: string): boolean {
  return result.stopReason?.split('; ').includes(reason) === true;
}

/**
 * Whether the runner stopped the run because a session could not connect within
 * `--reconnect-timeout` (stop reason `target lost`).
 */
function stoppedForLostTarget(result: BenchResult): boolean {
  return stoppedFor(result, STOP_TARGET_LOST);
}

/**
 * The run's worker crashes (`worker-crashed` incidents). Not `faults.workerCrashes`: that also
 * counts the workers given up at a stop (their `aborted` incident says so), which did not crash.
 */
function crashesOf(result: BenchResult): BenchIncident[] {
  return result.faults.incidents.filter((i) => i.kind === 'worker-crashed');
}

/**
 * The outage still open (`unresolved`) when `--duration` stopped the run, if there is one: the
 * target did not answer again (no statement succeeded and no session opened a connection) from
 * its start until the run ended.
 */
function stoppedWhileLost(result: BenchResult): BenchOutage | undefined {
  if (!stoppedFor(result, 'duration')) return undefined;
  return (result.faults.outages ?? []).find((o) => o.unresolved === true);
}

/**
 * What to say when the target was lost for good, undefined when it was not:
 * - the runner stopped the run because a session could not connect within `--reconnect-timeout`
 *   (stop reason `target lost`);
 * - or `--duration` stopped the run while the target was unreachable (an outage still open):
 *   the sessions were reconnecting, and the run's last part measured nothing. Until 2026-12-07
 *   such a run exited 0 when the loss came less than `--reconnect-timeout` before the stop;
 * - or the run ended by itself (no stop) while the target was unreachable (an outage still open),
 *   with sessions aborted.
 *
 * Such a run covers only what ran before the loss, so it does not exit 0 (exit 3, as a target
 * unreachable at the start). A signal says what happened itself (exit 130).
 */
export function targetLost(
  result: BenchResult,
  out: string | undefined,
): string | undefined {
  const open = (result.faults.outages ?? []).find((o) => o.unresolved === true);
  const since =
    open === undefined
      ? 'during the run'
      : `${(open.startMs / 1000).toFixed(1)} s into the run`;
  const lost = `${result.sessions.aborted} of ${result.sessions.total} sessions were aborted and ${result.skipped.notRun} events not run, so the result${out !== undefined ? ` (in ${out})` : ''} covers only what ran before.`;
  if (stoppedForLostTarget(result)) {
    const why = result.faults.incidents.find(
      (i) => i.kind === 'connection-lost',
    );
    return `[stb] [bench] The target became unreachable ${since}, so the run was stopped: ${lost}${why !== undefined ? ` ${why.message}` : ''} To wait longer for it, raise --reconnect-timeout.`;
  }
  const stopped = stoppedWhileLost(result);
  if (stopped !== undefined)
    return `[stb] [bench] The target became unreachable ${since} and still was when --duration stopped the run (an outage of ${(stopped.durationMs / 1000).toFixed(1)} s until the run ended, ${String(stopped.failedQueries)} queries failed), so the result${out !== undefined ? ` (in ${out})` : ''} covers only what ran before.`;
  if (
    open === undefined ||
    result.stopReason !== undefined ||
    result.sessions.aborted === 0
  )
    return undefined;
  return `[stb] [bench] The target became unreachable ${since} and still was when it ended: ${lost}`;
}

/**
 * What to say when sessions gave up connecting (each could not connect for `--reconnect-timeout`,
 * `sessions.gaveUp`) while the run went on, undefined when none did or {@link targetLost} already
 * says it: the server only refused more connections (PostgreSQL 53300, MySQL 1040/1203), so the
 * runner did not stop, or a `--duration` or `--max-queries` stop came first. The run then drove
 * less load than the trace asked for, with fewer sessions than it has, so it does not exit 0
 * (exit 3), nor 2 as a run that measured nothing would. Until 2026-12-06 such a run ended
 * `completed` with exit 0 (`bench-server-full.test.ts`).
 */
export function sessionsGaveUp(
  result: BenchResult,
  out: string | undefined,
): string | undefined {
  const n = result.sessions.gaveUp ?? 0;
  if (n === 0 || result.stopReason === 'signal' || stoppedForLostTarget(result))
    return undefined;
  const last = result.faults.incidents.findLast(
    (i) => i.kind === 'connection-lost',
  );
  return `[stb] [bench] ${String(n)} of ${String(result.sessions.total)} sessions could not connect and were aborted while the run went on (${String(result.skipped.notRun)} events not run in all), so the result${out !== undefined ? ` (in ${out})` : ''} holds less load than the trace's.${last !== undefined ? ` ${last.message}` : ''}`;
}

/**
 * What to say when worker threads crashed, undefined when none did. The other workers went on and
 * the run completed, but the crashed workers' sessions were aborted and the events sent to them
 * and not reported count as not run: the result holds less load than the trace's, so the run does
 * not exit 0. A crash is an uncaught exception or an exit in a worker thread, in a DB plugin or
 * in stb: a bug (exit 70). Until 2026-12-07 such a run exited 0.
 */
export function workersCrashed(
  result: BenchResult,
  out: string | undefined,
): string | undefined {
  const crashes = crashesOf(result);
  const n = crashes.length;
  if (n === 0) return undefined;
  return `[stb] [bench] ${String(n)} worker thread${n === 1 ? '' : 's'} crashed while the run went on (${String(result.sessions.aborted)} of ${String(result.sessions.total)} sessions aborted, ${String(result.skipped.notRun)} events not run in all), so the result${out !== undefined ? ` (in ${out})` : ''} holds less load than the trace's. ${crashes[0]?.message ?? ''} A crash is a bug, in the DB plugin or in stb: rerun with --debug and report it.`;
}

/**
 * How a run that wrote its result ends: the `[stb]` lines to print and the exit code (undefined:
 * 0). A failed run (`--fail-fast`) exits 1, an interrupted one 130 (`interrupted`: a signal came,
 * also one that came while another stop's grace period ran), a lost target or sessions that gave
 * up 3, a crashed worker 70, a dry run with failed statements 1. Where causes overlap, the first
 * one's code wins and every cause's line is printed.
 */
export function runEnding(
  result: BenchResult,
  opts: Pick<BenchCommandOptions, 'dryRun' | 'out'> & { interrupted?: boolean },
): { lines: string[]; code: ExitCode | undefined } {
  const lost = targetLost(result, opts.out);
  const gaveUp = sessionsGaveUp(result, opts.out);
  const crashed = workersCrashed(result, opts.out);
  const lines = (...l: (string | undefined)[]): string[] =>
    l.filter((x): x is string => x !== undefined);
  if (result.status === 'failed')
    return { lines: lines(crashed), code: EXIT_CODES.checkFailed };
  if (result.stopReason === 'signal')
    return {
      lines: [
        `[stb] Interrupted: the run stopped early${opts.out !== undefined ? `; the partial result is in ${opts.out}` : ''}.`,
      ],
      code: EXIT_CODES.aborted,
    };
  // a signal in the grace period of another stop cancelled the statements still running
  if (opts.interrupted === true)
    return {
      lines: [
        `[stb] Interrupted while the run was ending (${result.stopReason !== undefined ? `stopped by ${result.stopReason}` : 'its trace had run out'}): statements still running were cancelled${opts.out !== undefined ? `; the result is in ${opts.out}` : ''}.`,
      ],
      code: EXIT_CODES.aborted,
    };
  if (lost !== undefined || gaveUp !== undefined)
    return { lines: lines(lost, gaveUp, crashed), code: EXIT_CODES.input };
  if (crashed !== undefined)
    return { lines: [crashed], code: EXIT_CODES.internal };
  if (opts.dryRun === true && result.overall.errors > 0)
    return { lines: [], code: EXIT_CODES.checkFailed };
  return { lines: [], code: undefined };
}

/** Bytes of a trace left to hash after the run from which `stb bench` says it is hashing them. */
const LARGE_REST_BYTES = 256 * 2 ** 20;

/**
 * Bytes read at a time when hashing the rest of a trace, into one buffer reused for every read: a
 * 190 MB file took 0.18 s of CPU this way against 0.48–0.50 s through `createReadStream` (64 KiB,
 * a new buffer per read, each new page faulted in), 3 alternating runs, 2026-12-06.
 */
const HASH_READ_BYTES = 2 ** 20;

/**
 * The trace file's SHA-256, for the result's `context.trace`, without a second read of the file
 * before the run: the run's reader hands its bytes over as it reads them (`onRawChunk`), and
 * {@link digest} hashes the rest, which a run that stopped early did not read, after the run. So
 * the first statement does not wait for the whole file to be hashed (seconds on a trace of some
 * GB), and a run that reads the whole trace reads it once. None for stdin or a pipe (their bytes
 * come once).
 */
class TraceHasher {
  readonly #hash = createHash('sha256');
  #bytes = 0;
  #done = false;

  private constructor(private readonly path: string | undefined) {}

  /** A hasher of `path`, or one that gives no hash when `path` is stdin or not a regular file. */
  static async of(path: string): Promise<TraceHasher> {
    const file = path !== '-' && (await stat(path)).isFile();
    return new TraceHasher(file ? path : undefined);
  }

  /** The reader's option that feeds this hasher (none when it gives no hash). */
  get readerOption(): { onRawChunk?: (chunk: Buffer) => void } {
    return this.path === undefined ? {} : { onRawChunk: this.#take };
  }

  /** Hashes the file from where the reader stopped to its end (abortable between reads). */
  async #hashRest(
    path: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const file = await open(path, 'r');
    try {
      const buf = Buffer.allocUnsafe(HASH_READ_BYTES);
      for (let pos = this.#bytes; ;) {
        signal?.throwIfAborted();
        const { bytesRead } = await file.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) return;
        this.#hash.update(buf.subarray(0, bytesRead));
        pos += bytesRead;
      }
    } finally {
      await file.close();
    }
  }

  readonly #take = (chunk: Buffer): void => {
    if (this.#done) return;
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
  };

  /**
   * The file's hash: what the reader gave, then the rest of the file from there, saying so when
   * the rest is large enough to be noticed. After an interruption the rest is hashed only when it
   * is small (`stb merge-results` needs the hash, and it merges stopped shards). When it is not
   * hashed (a large rest after an interruption, a second interruption, the file gone or
   * unreadable), the result has no hash and a line says why: the run's figures are kept.
   */
  async digest(ctx: CliContext): Promise<string | undefined> {
    this.#done = true;
    const path = this.path;
    if (path === undefined) return undefined;
    const none = (why: string): undefined => {
      ctx.log.warn(
        `[stb] The result has no context.trace.hash (\`stb merge-results\` needs it): ${why}.`,
      );
      return undefined;
    };
    const interrupted = ctx.signal.aborted;
    try {
      const rest = (await stat(path)).size - this.#bytes;
      const gib = `${(rest / 2 ** 30).toFixed(1)} GiB`;
      if (interrupted && rest >= LARGE_REST_BYTES)
        return none(`the run was interrupted with ${gib} of ${path} unread`);
      if (rest >= LARGE_REST_BYTES)
        ctx.log.info(
          `Hashing the ${gib} of ${path} the run did not read, for the result's context.trace.hash.`,
        );
      // after an interruption the (small) rest is read whatever comes
      await this.#hashRest(path, interrupted ? undefined : ctx.signal);
    } catch (err) {
      return none(
        ctx.signal.aborted && !interrupted
          ? `interrupted while hashing ${path}`
          : `${path} could not be read again (${(err as Error).message})`,
      );
    }
    return this.#hash.digest('hex');
  }
}

/** `result` with the trace file's hash in its `context.trace` (where the runner puts it). */
function withTraceHash(
  result: BenchResult,
  hash: string | undefined,
): BenchResult {
  if (hash === undefined) return result;
  const { header, path } = result.context.trace;
  return {
    ...result,
    context: {
      ...result.context,
      trace: {
        ...(header ? { header } : {}),
        hash,
        ...(path !== undefined ? { path } : {}),
      },
    },
  };
}

async function readScript(
  path: string | undefined,
  ctx: CliContext,
): Promise<SqlScript | undefined> {
  if (path === undefined) return undefined;
  const file = ctx.resolvePath(path);
  try {
    return { sql: await readFile(file, 'utf8'), name: path };
  } catch (err) {
    throw new StbError(
      'STB_INPUT_NOT_FOUND',
      `[stb] [cli] Cannot read SQL script ${path}. Check the path.`,
      { cause: err, details: { file: path } },
    );
  }
}

/** `stb bench`: run a trace against a database and measure it. */
// Long function: one commander chain, mostly the declaration of the command's 26 options (read top
// to bottom like its --help) and the action that hands them on; splitting it would scatter one
// command's option list.
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('bench')
    .description(
      'Run a trace against a database (replay, closed or open loop) with live Prometheus metrics.',
    )
    .requiredOption(
      '-i, --input <trace>',
      'trace to run (.jsonl[.gz], .json, .csv)',
    )
    .option(
      '-t, --target <url>',
      'postgres://… (postgres+lean://… for the lean wire path, postgres+native://… for libpq on native threads: needs @stb/libpq-loop), mysql://… (mysql+lean://…), sqlite:<path>, pglite:[dir], knex:<client>:<conn>, or a config file (default: pglite: for PostgreSQL traces)',
    )
    .addOption(
      new Option('--mode <mode>', 'timing')
        .choices(['replay', 'closed', 'open'])
        .default('replay'),
    )
    .option('--speed <factor>', 'replay speed factor', parsePositiveNumber)
    .addOption(
      new Option(
        '--scheduler <kind>',
        'replay/open wake-ups: alarm (helper thread, µs resolution, default) or timer (setTimeout, ~1 ms)',
      ).choices(['alarm', 'timer']),
    )
    .option(
      '--rate <qps>',
      'open loop: arrivals per second',
      parsePositiveNumber,
    )
    .addOption(
      new Option('--arrival <process>', 'open loop arrivals')
        .choices(['poisson', 'uniform'])
        .default('poisson'),
    )
    .option('--duration <time>', 'stop after this long (e.g. 60s, 5m)', seconds)
    .option(
      '--stop-grace <time>',
      'on a stop, cancel statements still running after this long (default 5s; a second Ctrl-C cancels at once)',
      seconds,
    )
    .option(
      '--reconnect-timeout <time>',
      'a session that cannot connect for this long (the target is lost) is aborted and the run stops, exit 3 (default 30s; an attempt under way may take up to the connect timeout)',
      seconds,
    )
    .option(
      '--statement-timeout <time>',
      'a third-party plugin without a statement deadline of its own: cancel a statement running this long, then give its connection up (default 5m; refused for the built-in plugins, which take ?query_timeout=<ms> in the URL)',
      seconds,
    )
    .option(
      '--warmup <time>',
      'leave the first part out of the result',
      seconds,
    )
    .option(
      '--max-queries <n>',
      'stop after this many queries',
      parsePositiveInt,
    )
    .option(
      '-c, --connections <n>',
      'connections in all (default 16)',
      parsePositiveInt,
    )
    .option(
      '-w, --workers <n>',
      'worker threads (0 = inline)',
      parseNonNegativeInt,
    )
    .addOption(
      new Option('--protocol <protocol>', 'as pgbench -M')
        .choices(['simple', 'extended', 'prepared'])
        .default('prepared'),
    )
    .option('--read-only', 'skip writes and DDL')
    .option('--dry-run', 'connect and prepare every template; execute nothing')
    .option(
      '--shard <i/n>',
      'run one deterministic share of the sessions',
      parseShard,
    )
    .option('--fail-fast', 'stop at the first failed query (exit 1)')
    .option('--setup <file.sql>', 'SQL run once before the workload')
    .option('--teardown <file.sql>', 'SQL run once after the workload')
    .option('--seed <n>', 'seed of open-loop arrivals', parseSeed, 1)
    .option('--no-metrics', 'do not record or serve Prometheus metrics')
    .option('--metrics-host <host>', 'metrics listen address', '127.0.0.1')
    .option(
      '--metrics-port <port>',
      'metrics port (0 = any free port)',
      parsePort,
      9091,
    )
    .option(
      '--metrics-max-templates <n>',
      'template label values before `other`',
      parsePositiveInt,
    )
    .option('-o, --out <file>', 'write the JSON result here')
    .action(async (opts: BenchCommandOptions) => {
      const input = ctx.resolvePath(opts.input);
      const out =
        opts.out === undefined ? undefined : ctx.resolvePath(opts.out);
      if (out !== undefined)
        await assertWritable(out, '--out', inputsOf([input], '-i'));
      const hasher = await TraceHasher.of(input).catch(() => undefined);
      // interrupted here, nothing has run: say so, since a later interruption writes a result
      const beforeRun = (err: unknown): never => {
        if (ctx.signal.aborted && !isStbError(err, 'STB_ABORTED'))
          throw new StbError(
            'STB_ABORTED',
            `[stb] Interrupted while opening ${opts.input}: nothing was run${out === undefined ? '' : ' and no result was written'}.`,
          );
        throw err;
      };
      const trace = await openTrace(input, {
        signal: ctx.signal,
        ...hasher?.readerOption,
      }).catch(beforeRun);
      const events = await requireEvents(trace.eventBatches, opts.input).catch(
        beforeRun,
      );
      const target =
        opts.target ??
        (trace.header.dialect === 'postgres'
          ? 'pglite:'
          : (() => {
              throw new StbError(
                'STB_USAGE',
                '[stb] [cli] MySQL traces need a --target (e.g. mysql://root@127.0.0.1/test).',
              );
            })());
      // with --no-metrics nothing is recorded for Prometheus, and prom-client is not loaded
      const registry = opts.metrics ? createMetricsRegistry() : undefined;
      let server: MetricsServer | undefined;
      if (registry) {
        server = await startMetricsServer(registry, {
          host: opts.metricsHost,
          port: opts.metricsPort,
        });
        ctx.log.info(`Metrics on ${server.url}`);
      }
      const bar = ctx.progress({ label: 'Benchmarking', unit: 'queries' });
      let result: BenchResult;
      try {
        const run = createBenchRunner(
          {
            header: trace.header,
            templates: trace.catalog,
            events,
          },
          {
            target,
            mode: opts.mode,
            ...(opts.speed !== undefined ? { speed: opts.speed } : {}),
            ...(opts.scheduler !== undefined
              ? { scheduler: opts.scheduler }
              : {}),
            ...(opts.rate !== undefined ? { rate: opts.rate } : {}),
            arrival: opts.arrival,
            ...(opts.duration !== undefined
              ? { durationSeconds: opts.duration }
              : {}),
            ...(opts.stopGrace !== undefined
              ? { stopGraceMs: Math.round(opts.stopGrace * 1000) }
              : {}),
            ...(opts.reconnectTimeout !== undefined
              ? {
                  reconnectTimeoutMs: Math.round(opts.reconnectTimeout * 1000),
                }
              : {}),
            ...(opts.statementTimeout !== undefined
              ? {
                  // in whole ms, never rounded down to none
                  statementTimeoutMs: Math.ceil(opts.statementTimeout * 1000),
                }
              : {}),
            ...(opts.warmup !== undefined
              ? { warmupSeconds: opts.warmup }
              : {}),
            ...(opts.maxQueries !== undefined
              ? { maxQueries: opts.maxQueries }
              : {}),
            ...(opts.connections !== undefined
              ? { connections: opts.connections }
              : {}),
            ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
            protocol: opts.protocol,
            readOnly: opts.readOnly === true,
            dryRun: opts.dryRun === true,
            ...(opts.shard ? { shard: opts.shard } : {}),
            failFast: opts.failFast === true,
            ...(opts.setup ? { setup: await readScript(opts.setup, ctx) } : {}),
            ...(opts.teardown
              ? { teardown: await readScript(opts.teardown, ctx) }
              : {}),
            seed: opts.seed,
            ...(registry ? { registry } : {}),
            ...(opts.metricsMaxTemplates !== undefined
              ? { metricsMaxTemplates: opts.metricsMaxTemplates }
              : {}),
            signal: ctx.signal,
            onProgress: (p) => bar.update(p.queries),
            traceInfo: { path: opts.input },
          },
        );
        result = await run.result;
      } finally {
        bar.stop();
        await server?.close();
      }
      result = withTraceHash(result, await hasher?.digest(ctx));
      // The summary first: whatever happens to the file, the run's figures are not lost.
      ctx.printSummary(result, {
        human: formatBenchResult(result).trimEnd().split('\n'),
      });
      // A run that ended by itself with nothing measured is not a result: a gate reading it
      // (`stb compare`, `stb validate --bench-*`) would pass on an empty window.
      const empty = nothingMeasured(result, opts);
      if (empty !== undefined) throw new StbError('STB_USAGE', empty);
      if (out !== undefined)
        await writeFileAtomic(out, `${JSON.stringify(result, null, 2)}\n`);
      const ending = runEnding(result, {
        ...opts,
        interrupted: ctx.signal.aborted,
      });
      for (const line of ending.lines) ctx.log.error(line);
      if (ending.code !== undefined) ctx.setExitCode(ending.code);
    });
  addExamples(cmd, [
    'stb bench -i trace.jsonl --target postgres://postgres@127.0.0.1/test --mode closed -c 8 --duration 60s',
    'stb bench -i trace.jsonl --target postgres+native://postgres@127.0.0.1/test --mode closed -c 8 --duration 60s',
    'stb bench -i trace.jsonl --target mysql://root@127.0.0.1/test --speed 2 --out result.json',
    'stb bench -i trace.jsonl --mode open --rate 5000 --metrics-port 9091',
    'stb bench -i trace.jsonl --target sqlite::memory: --setup schema.sql --mode closed',
    'stb bench -i trace.jsonl --target postgres://… --shard 0/4   # one of 4 machines',
  ]);
}
