import {
  Dialect,
  ParseError,
  RawQueryEvent,
  parsePluginOptions,
  readLines,
} from '@stb/core';
import type { InputLine, OnInvalid } from '@stb/core';
import type { LogFormat, LogFormatContext } from '@stb/parser';
import { lazy, resolveTestFramework } from './framework';
import type { TestFramework } from './framework';
import {
  expectOptionsAccepted,
  pluginBaseProblems,
  zodIssues,
} from './plugin-shape';

/** One real log the plugin must parse, with the counts it must find. */
export interface LogFormatSample {
  /** Test name. */
  readonly name: string;
  /** The log's lines (give `lines` or `file`). */
  readonly lines?: readonly string[];
  /** A log file, gzip or not (give `lines` or `file`). */
  readonly file?: string;
  /** Events the plugin must yield (e.g. the server's own statement count). */
  readonly expectedEvents: number;
  /** Distinct session ids the plugin must yield, when known. */
  readonly expectedSessions?: number;
  /** Plugin options for this sample (default `{}`). */
  readonly options?: unknown;
}

/** Options of {@link describeLogFormat}. */
export interface DescribeLogFormatOptions {
  /** At least one real sample in the plugin's format. */
  readonly samples: readonly LogFormatSample[];
  /** Lines of other formats or none, which `detect` must score below 0.3. A default set is always added. */
  readonly garbage?: readonly string[];
  /** Lines `detect` sees, as the host's `detectLines` (default 200). */
  readonly detectLines?: number;
  /** Test functions (default: jest or vitest globals). */
  readonly framework?: Partial<TestFramework>;
  /** Timeout of each parse test in ms (default 60 000). */
  readonly timeoutMs?: number;
}

/** Lines that are no SQL server's log. */
const DEFAULT_GARBAGE = [
  'hello world, this is not a log',
  'lorem ipsum dolor sit amet, consectetur adipiscing elit',
  '<html><body><h1>404 Not Found</h1></body></html>',
  '=== build log === step 3/7 passed',
  '    at Object.<anonymous> (/srv/app/index.js:12:7)',
  '',
  '#!/bin/sh',
  'key1=value1;key2=value2',
];

/** What one parse of a sample produced. */
interface ParseResult {
  readonly events: RawQueryEvent[];
  readonly reports: Map<string, number>;
  readonly lastLine: number;
}

async function* linesOf(sample: LogFormatSample): AsyncGenerator<InputLine> {
  if (sample.lines) {
    let line = 0;
    for (const text of sample.lines) yield { text, line: ++line };
    return;
  }
  if (sample.file === undefined) throw new Error('no lines');
  yield* readLines(sample.file);
}

function fileOf(sample: LogFormatSample): string {
  return sample.file ?? `<sample:${sample.name}>`;
}

/** Parses lines as the parser host does (`parseLogs`), with a context that counts reports. */
async function parseWith<TOptions>(
  plugin: LogFormat<TOptions>,
  lines: AsyncIterable<InputLine>,
  run: { file: string; options: unknown; onInvalid: OnInvalid },
): Promise<ParseResult> {
  const options = parsePluginOptions(plugin, run.options);
  const reports = new Map<string, number>();
  let lastLine = 0;
  const counted = (async function* () {
    for await (const l of lines) {
      lastLine = l.line;
      yield l;
    }
  })();
  const ctx: LogFormatContext = {
    file: run.file,
    fileIndex: 0,
    onInvalid: run.onInvalid,
    report(kind, line, reason) {
      reports.set(kind, (reports.get(kind) ?? 0) + 1);
      if (kind === 'invalid' && run.onInvalid === 'throw')
        throw new ParseError(
          'STB_PARSE_INVALID_LINE',
          `[stb] [testkit] Line ${line} of \`${run.file}\` is not valid ${plugin.name}: ${reason ?? 'unparseable line'}.`,
          { position: { source: run.file, line } },
        );
    },
    setTimeResolutionUs: () => undefined,
  };
  const events: RawQueryEvent[] = [];
  for await (const ev of plugin.parse(counted, options, ctx)) events.push(ev);
  return { events, reports, lastLine };
}

/** Every 7th line cut in half and garbage lines spliced in: input a robust parser survives. */
async function* damaged(
  lines: AsyncIterable<InputLine>,
  garbage: readonly string[],
): AsyncGenerator<InputLine> {
  let n = 0;
  for await (const l of lines) {
    n++;
    if (n % 50 === 3) for (const text of garbage) yield { text, line: n++ };
    yield {
      text: n % 7 === 0 ? l.text.slice(0, l.text.length >> 1) : l.text,
      line: n,
    };
  }
}

/**
 * The log-format conformance suite: plugin shape, `detect` on the plugin's own samples and on
 * garbage, events that pass core's `RawQueryEvent` schema with the expected counts, 1-based
 * source lines in order per session, and bad lines under `onInvalid: 'skip'` that never throw.
 * @example
 * import { describeLogFormat } from '@stb/testkit';
 * import { plugin } from '../src';
 * describeLogFormat(plugin, {
 *   samples: [{ name: 'two statements', lines: ['MYLOG s1 SELECT 1', 'MYLOG s1 SELECT 2'], expectedEvents: 2, expectedSessions: 1 }],
 * });
 */
// Long function: a conformance suite: a list of independent `it` cases, each short, registered in
// one describe block.
export function describeLogFormat<TOptions>(
  plugin: LogFormat<TOptions>,
  options: DescribeLogFormatOptions,
): void {
  const { describe, it, expect } = resolveTestFramework(options.framework);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const detectLines = options.detectLines ?? 200;
  const garbage = [...DEFAULT_GARBAGE, ...(options.garbage ?? [])];
  const head = async (sample: LogFormatSample): Promise<string[]> => {
    const out: string[] = [];
    const it = linesOf(sample);
    try {
      for await (const l of it) {
        out.push(l.text);
        if (out.length >= detectLines) break;
      }
    } finally {
      await it.return(undefined);
    }
    return out;
  };

  // Long function: a conformance suite: a list of independent `it` cases, each short, registered in
  // one describe block.
  describe(`log-format plugin ${String(plugin.name)} (conformance)`, () => {
    it('has the plugin shape: kind, kebab-case name, apiVersion 1, options accepting {}', () => {
      expect(pluginBaseProblems(plugin, 'log-format')).toEqual([]);
      expectOptionsAccepted(expect, plugin, {});
      expect(Dialect.safeParse(plugin.dialect).success).toBe(true);
      expect(typeof plugin.parse).toBe('function');
      if (plugin.detect !== undefined)
        expect(typeof plugin.detect).toBe('function');
      if (plugin.timeResolutionUs !== undefined)
        expect(
          Number.isInteger(plugin.timeResolutionUs) &&
            plugin.timeResolutionUs > 0,
        ).toBe(true);
      expect(options.samples.length).toBeGreaterThan(0);
    });

    const detect = plugin.detect?.bind(plugin);
    if (detect) {
      it(
        'detect returns a confidence in 0..1, above 0.5 on its own samples',
        async () => {
          for (const sample of options.samples) {
            const score = detect(await head(sample));
            expect({
              sample: sample.name,
              inRange: score >= 0 && score <= 1,
            }).toEqual({ sample: sample.name, inRange: true });
            expect(score).toBeGreaterThan(0.5);
          }
        },
        timeoutMs,
      );

      it('detect scores garbage and empty input below 0.3', () => {
        const empty = detect([]);
        expect(empty >= 0 && empty <= 1).toBe(true);
        expect(empty).toBeLessThan(0.3);
        expect(detect(garbage)).toBeLessThan(0.3);
        for (const line of garbage)
          expect({ line, low: detect([line]) < 0.3 }).toEqual({
            line,
            low: true,
          });
      });
    }

    for (const sample of options.samples) {
      const parsed = lazy(() =>
        parseWith(plugin, linesOf(sample), {
          file: fileOf(sample),
          options: sample.options ?? {},
          onInvalid: 'throw',
        }),
      );

      it(
        `${sample.name}: events pass the RawQueryEvent schema, with the expected counts`,
        async () => {
          const { events, reports } = await parsed();
          const bad: string[] = [];
          for (const [i, ev] of events.entries()) {
            const issues = zodIssues(RawQueryEvent.safeParse(ev));
            if (issues.length > 0 && bad.length < 5)
              bad.push(`event ${i}: ${issues.join('; ')}`);
            if (ev.dialect !== plugin.dialect && bad.length < 5)
              bad.push(
                `event ${i}: dialect ${ev.dialect}, plugin says ${plugin.dialect}`,
              );
          }
          expect(bad).toEqual([]);
          expect(events).toHaveLength(sample.expectedEvents);
          if (sample.expectedSessions !== undefined)
            expect(new Set(events.map((e) => e.sessionId)).size).toBe(
              sample.expectedSessions,
            );
          expect(reports.get('invalid') ?? 0).toBe(0);
        },
        timeoutMs,
      );

      it(
        `${sample.name}: source lines are 1-based, in the input, in order within each session`,
        async () => {
          const { events, lastLine } = await parsed();
          const last = new Map<string, number>();
          const bad: string[] = [];
          for (const [i, ev] of events.entries()) {
            const { file, line } = ev.source;
            if (
              file !== fileOf(sample) ||
              line < 1 ||
              line > lastLine ||
              !Number.isInteger(line)
            )
              bad.push(`event ${i}: source ${file}:${line}`);
            const prev = last.get(ev.sessionId);
            if (prev !== undefined && line <= prev)
              bad.push(
                `event ${i}: line ${line} after line ${prev} in session ${ev.sessionId}`,
              );
            last.set(ev.sessionId, line);
            if (bad.length >= 5) break;
          }
          expect(bad).toEqual([]);
        },
        timeoutMs,
      );

      it(
        `${sample.name}: damaged lines under onInvalid 'skip' never throw`,
        async () => {
          const { events } = await parseWith(
            plugin,
            damaged(linesOf(sample), garbage),
            {
              file: fileOf(sample),
              options: sample.options ?? {},
              onInvalid: 'skip',
            },
          );
          const bad = events.filter(
            (ev) => !RawQueryEvent.safeParse(ev).success,
          );
          expect(bad).toHaveLength(0);
        },
        timeoutMs,
      );

      it(
        `${sample.name}: a consumer may stop early`,
        async () => {
          const lines = linesOf(sample);
          const ctx: LogFormatContext = {
            file: fileOf(sample),
            fileIndex: 0,
            onInvalid: 'throw',
            report: () => undefined,
          };
          let seen = 0;
          for await (const _ of plugin.parse(
            lines,
            parsePluginOptions(plugin, sample.options ?? {}),
            ctx,
          )) {
            seen++;
            break;
          }
          expect(seen).toBe(Math.min(1, sample.expectedEvents));
        },
        timeoutMs,
      );
    }
  });
}
