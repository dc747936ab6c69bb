/**
 * `@stb/testkit`: conformance suites for SQL Trace Bench plugin authors. Each suite is one call
 * in a test file and registers its tests with jest's or vitest's `describe`/`it`/`expect`.
 * @packageDocumentation
 */

/** The log-format conformance suite (`@stb/parser` plugins). */
export { describeLogFormat } from './log-format';
/** Options of {@link describeLogFormat} and one sample log. */
export type { DescribeLogFormatOptions, LogFormatSample } from './log-format';
/** The sequence-model conformance suite (`@stb/models` plugins). */
export { describeSequenceModel } from './sequence-model';
/** Options of {@link describeSequenceModel}. */
export type { DescribeSequenceModelOptions } from './sequence-model';
/** The DB plugin conformance suite (`@stb/bench` plugins). */
export { describeDbPlugin } from './db-plugin';
/** Options of {@link describeDbPlugin} and the scratch target it writes to. */
export type { DescribeDbPluginOptions, DbTestTarget } from './db-plugin';
/** Picks the test functions a suite uses: an override, else jest or vitest globals. */
export { resolveTestFramework } from './framework';
/** The test functions and matchers a suite needs. */
export type { TestFramework, TestExpectation } from './framework';
/** In-memory traces for tests: templates with ids computed from their text, events per session. */
export { TraceBuilder, template, interleave } from './trace-builder';
/** Private PostgreSQL/MariaDB instances on a free port with a scratch data directory. */
export {
  SCRATCH_DB_BINARIES,
  canStartScratch,
  freePort,
  startScratchMariadb,
  startScratchPostgres,
} from './scratch-db';
/** A started scratch server. */
export type { ScratchServer } from './scratch-db';
