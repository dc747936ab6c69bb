/**
 * Issue 14: SIGINT/SIGTERM at seeded random points of parse (one thread and `--workers 2`),
 * generate, validate and bench, on real processes. Whatever the moment: exit 0 with a complete,
 * valid output, or exit 130 with an `[stb]` line, no output and no `.tmp` file.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRng, readTraceRecords } from '@stb/core';
import { CLI_PATH, PG_STATEMENT_LOG, runStb } from './helpers';

jest.setTimeout(180_000);

const PG_LOG = PG_STATEMENT_LOG;
const root = mkdtempSync(path.join(os.tmpdir(), 'stb-sig-'));
const trace = path.join(root, 'trace.jsonl');
const model = path.join(root, 'model.json');

beforeAll(async () => {
  expect((await runStb(['parse', '-i', PG_LOG, '-o', trace])).code).toBe(0);
  expect((await runStb(['learn', '-i', trace, '-o', model])).code).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * Resolves once the command is under way: it holds one of its inputs open, or its output (or a
 * temporary file for it) appeared. The random delay counts from there, not from Node's start-up,
 * which on a loaded machine can take seconds (a signal then gets Node's default action, as for
 * any program that has not started yet).
 */
async function underway(
  pid: number,
  inputs: readonly string[],
  dir: string,
): Promise<void> {
  for (let i = 0; i < 6000; i++) {
    try {
      if (readdirSync(dir).length > 0) return;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        let target = '';
        try {
          target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        if (inputs.includes(target)) return;
      }
    } catch {
      return; // exited already, or no /proc
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Case {
  name: string;
  args: (out: string) => string[];
  out: string;
  /** Checks a complete output (exit 0). */
  valid: (out: string) => Promise<boolean>;
}

const isTrace = async (f: string): Promise<boolean> => {
  let events = 0;
  for await (const r of readTraceRecords(f)) if (r.kind === 'event') events++;
  return events > 0;
};
const isJson = async (f: string): Promise<boolean> => {
  const { readFile } = await import('node:fs/promises');
  JSON.parse(await readFile(f, 'utf8'));
  return true;
};

const cases: Case[] = [
  {
    name: 'parse',
    args: (o) => ['parse', '-i', PG_LOG, '-o', o],
    out: 'p.jsonl.gz',
    valid: isTrace,
  },
  {
    // The parse and extraction threads must end with the main one, whatever they are doing.
    name: 'parse --workers 2',
    args: (o) => ['parse', '-i', PG_LOG, '--workers', '2', '-o', o],
    out: 'p.jsonl.gz',
    valid: isTrace,
  },
  {
    name: 'generate',
    args: (o) => ['generate', '-m', model, '-n', '300000', '-o', o],
    out: 'g.jsonl.gz',
    valid: isTrace,
  },
  {
    name: 'validate',
    args: (o) => [
      'validate',
      '--original',
      trace,
      '--generated',
      trace,
      '--json-report',
      o,
    ],
    out: 'r.json',
    valid: isJson,
  },
  {
    name: 'bench',
    args: (o) => [
      'bench',
      '-i',
      trace,
      '-t',
      'sqlite::memory:',
      '--setup',
      path.join(root, 'schema.sql'),
      '--mode',
      'open',
      '--rate',
      '2000',
      '--no-metrics',
      '-o',
      o,
    ],
    out: 'b.json',
    valid: isJson,
  },
];

// Seeded: the same moments on every run (they still land at different points on a busy machine).
const rng = createRng(14);
const probes = cases.flatMap((c) =>
  (['SIGINT', 'SIGTERM'] as const).map((sig) => ({
    name: `${c.name}: ${sig} ${Math.round(rng.next() * 1500)} ms into the run`,
    c,
    sig,
  })),
);

describe('signals at random points (issue 14)', () => {
  beforeAll(async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(root, 'schema.sql'), 'SELECT 1;\n');
  });
  it.concurrent.each(probes.map((p) => [p.name, p] as const))(
    '%s',
    async (name, p) => {
      const delay = Number(/ (\d+) ms into/.exec(name)?.[1]);
      const dir = mkdtempSync(path.join(root, 'run-'));
      const out = path.join(dir, p.c.out);
      const child = spawn(process.execPath, [CLI_PATH, ...p.c.args(out)], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr?.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      // 'close', not 'exit': at 'exit' the last of stderr may still be in the pipe (an `[stb]`
      // line read as missing on a loaded machine)
      const exit = new Promise<{ code: number | null; signal: string | null }>(
        (r) => child.once('close', (code, signal) => r({ code, signal })),
      );
      await underway(child.pid ?? 0, [PG_LOG, trace, model], dir);
      const timer = setTimeout(() => child.kill(p.sig), delay);
      const { code, signal } = await exit;
      clearTimeout(timer);
      if (signal !== null) {
        // The one way a signal may end the process: it arrived while Node was tearing down after
        // the command had finished (its signal watchers are closed then, so the default action
        // applies). The output must then be complete and valid, with no stray file.
        expect(signal).toBe(p.sig);
        expect(await p.c.valid(out)).toBe(true);
        expect(
          readdirSync(dir).filter(
            (f) => f.endsWith('.tmp') || f.startsWith('.'),
          ),
        ).toEqual([]);
        return;
      }
      expect([0, 130]).toContain(code);
      const stray = readdirSync(dir).filter(
        (f) => f.endsWith('.tmp') || f.startsWith('.'),
      );
      expect(stray).toEqual([]);
      if (code === 130) {
        expect(stderr).toMatch(/^\[stb\] .*(abort|interrupt|stopped|signal)/im);
        if (p.c.name !== 'bench') expect(existsSync(out)).toBe(false);
      } else {
        expect(await p.c.valid(out)).toBe(true);
      }
    },
  );
});
