import { createRng } from '@stb/core';
import type { Rng } from '@stb/core';
import type { LogFormat } from '@stb/parser';
import type { SequenceModel } from '@stb/models';
import type { DbPlugin } from '@stb/bench';
import { z } from 'zod';
import {
  describeDbPlugin,
  describeLogFormat,
  describeSequenceModel,
  resolveTestFramework,
} from '../src/index';
import type { TestFramework } from '../src/index';

/** A framework that records a suite's tests, so the suite can be run against broken plugins. */
function recorder() {
  const tests: { name: string; fn: () => unknown }[] = [];
  const before: (() => unknown)[] = [];
  const after: (() => unknown)[] = [];
  const framework: TestFramework = {
    describe: (_name, fn) => fn(),
    it: (name, fn) => void tests.push({ name, fn }),
    expect: (actual) => expect(actual),
    beforeAll: (fn) => void before.push(fn),
    afterAll: (fn) => void after.push(fn),
  };
  /** Runs every test; returns the names of the failed ones. */
  const failures = async (): Promise<string[]> => {
    for (const fn of before) await fn();
    const failed: string[] = [];
    for (const t of tests)
      await Promise.resolve()
        .then(t.fn)
        .catch(() => failed.push(t.name));
    for (const fn of after) await fn();
    return failed;
  };
  return { framework, tests, failures };
}

/** `MYLOG <session> <sql>` lines; anything else is invalid. */
function myLog(bug?: 'zero-based' | 'greedy-detect' | 'throws' | 'bad-name') {
  const format: LogFormat<{ upper?: boolean }> = {
    kind: 'log-format',
    name: bug === 'bad-name' ? 'MyLog' : 'my-log',
    apiVersion: 1,
    dialect: 'postgres',
    options: z.object({ upper: z.boolean().optional() }),
    detect: (sample) =>
      bug === 'greedy-detect'
        ? 0.9
        : sample.length === 0
          ? 0
          : sample.filter((l) => l.startsWith('MYLOG ')).length / sample.length,
    async *parse(lines, _options, ctx) {
      for await (const { text, line } of lines) {
        const m = /^MYLOG (\S+) (.+)$/.exec(text);
        if (!m) {
          if (bug === 'throws') throw new Error('bad line');
          ctx.report('invalid', line, 'not a MYLOG line');
          continue;
        }
        yield {
          sessionId: m[1] as string,
          sql: m[2] as string,
          source: {
            file: ctx.file,
            line: bug === 'zero-based' ? line - 1 : line,
          },
          dialect: 'postgres',
        };
      }
    },
  };
  return format;
}
const LINES = ['MYLOG a SELECT 1', 'MYLOG b SELECT 2', 'MYLOG a COMMIT'];
const logSuite = (format: LogFormat<{ upper?: boolean }>) => {
  const r = recorder();
  describeLogFormat(format, {
    samples: [
      { name: 'three', lines: LINES, expectedEvents: 3, expectedSessions: 2 },
    ],
    framework: r.framework,
  });
  return r.failures();
};

describe('describeLogFormat', () => {
  it('passes a correct plugin', async () => {
    expect(await logSuite(myLog())).toEqual([]);
  });
  it.each([
    [
      'zero-based',
      'three: events pass the RawQueryEvent schema, with the expected counts',
    ],
    ['greedy-detect', 'detect scores garbage and empty input below 0.3'],
    ['throws', "three: damaged lines under onInvalid 'skip' never throw"],
    [
      'bad-name',
      'has the plugin shape: kind, kebab-case name, apiVersion 1, options accepting {}',
    ],
  ] as const)('catches a %s plugin', async (bug, test) => {
    expect(await logSuite(myLog(bug))).toContain(test);
  });
});

type Uniform = { stateVersion: number; ids: string[]; hook?: () => void };
let shared = 0;
/** Uniform over the seen ids, ending with probability 1/4 after each id. */
function uniform(bug?: 'global-random' | 'unknown-id' | 'function-in-state') {
  const model: SequenceModel<Record<string, never>, Uniform> = {
    kind: 'model',
    name: 'uniform',
    apiVersion: 1,
    options: z.object({}),
    async fit(source) {
      const ids = new Set<string>();
      for await (const s of source()) for (const t of s.templates) ids.add(t);
      const state: Uniform = { stateVersion: 1, ids: [...ids] };
      if (bug === 'function-in-state') state.hook = () => undefined;
      return state;
    },
    createSampler: (state) => ({
      *nextSession(rng: Rng) {
        const r = bug === 'global-random' ? createRng(shared++) : rng;
        do {
          yield bug === 'unknown-id'
            ? 'nope'
            : (state.ids[r.int(state.ids.length)] as string);
        } while (r.next() < 0.75);
      },
    }),
  };
  return model;
}
const modelSuite = (model: SequenceModel<Record<string, never>, Uniform>) => {
  const r = recorder();
  describeSequenceModel(model, { framework: r.framework });
  return r.failures();
};

describe('describeSequenceModel', () => {
  it('passes a correct plugin', async () => {
    expect(await modelSuite(uniform())).toEqual([]);
  });
  it.each([
    [
      'global-random',
      'repeats itself under the same seed and differs under another',
    ],
    ['unknown-id', 'samples only known template ids, and sessions end'],
    [
      'function-in-state',
      'has a structured-clone-safe state (and a JSON round trip through parseState)',
    ],
  ] as const)('catches a %s plugin', async (bug, test) => {
    expect(await modelSuite(uniform(bug))).toContain(test);
  });
});

describe('describeDbPlugin', () => {
  it('checks the shape even when the target is unavailable', async () => {
    const r = recorder();
    const plugin = {
      kind: 'db',
      name: 'Bad_Name',
      apiVersion: 1,
      options: z.object({}),
      dialect: 'postgres',
      capabilities: {
        prepared: true,
        transactions: true,
        maxConnections: null,
        cancel: false,
      },
      dependencies: [],
      connect: () => Promise.reject(new Error('unreachable')),
    } as unknown as DbPlugin<Record<string, never>>;
    describeDbPlugin(plugin, {
      target: async () => null,
      framework: r.framework,
    });
    expect(r.tests.length).toBeGreaterThanOrEqual(5);
    expect(await r.failures()).toEqual([
      'has the plugin shape: kind, kebab-case name, apiVersion 1, capabilities, dependencies',
    ]);
  });
});

describe('resolveTestFramework', () => {
  it('takes jest globals, prefers overrides and names what is missing', () => {
    const it2 = () => undefined;
    expect(resolveTestFramework({ it: it2 }).it).toBe(it2);
    expect(resolveTestFramework().describe).toBe(describe);
    const g = globalThis as Record<string, unknown>;
    const saved = g['afterAll'];
    g['afterAll'] = undefined;
    try {
      expect(() => resolveTestFramework()).toThrow(/No `afterAll` function/);
    } finally {
      g['afterAll'] = saved;
    }
  });
});
