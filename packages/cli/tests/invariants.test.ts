/**
 * Issue 14, "a failure never looks like success": one table of probes over every command, each
 * checked against the same invariants:
 * - the expected exit code, and never 70 (70 is for real bugs);
 * - a failure prints exactly one `[stb]` line, naming the file, line or option;
 * - no `.tmp` (or any stray file) is left behind, and a failed command leaves no output;
 * - exit 0 only with the output present and valid.
 * Runs the built CLI as real processes (build first).
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readTraceRecords } from '@stb/core';
import { runStb, SAMPLES_DIR } from './helpers';

jest.setTimeout(240_000);

const root = mkdtempSync(path.join(os.tmpdir(), 'stb-inv-'));
const fx = (name: string): string => path.join(root, 'fx', name);
const PG_CSV = path.join(
  SAMPLES_DIR,
  'pg-tpcb-simple-logstatement',
  'postgresql.csv.gz',
);
const PG_LOG = path.join(
  SAMPLES_DIR,
  'pg-tpcb-simple-logstatement',
  'postgresql.log.gz',
);

/** A small tmpfs that fills up, when we may mount one (root on Linux); else undefined. */
let fullDir: string | undefined;

function tmpfsFull(): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0)
    return undefined;
  const dir = path.join(root, 'full');
  mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], {
      stdio: 'ignore',
    });
    // fill it, leaving a few KiB: small writes succeed, real outputs hit ENOSPC
    writeFileSync(path.join(dir, 'ballast'), Buffer.alloc(56 * 1024));
    return dir;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  mkdirSync(path.join(root, 'fx'));
  writeFileSync(fx('empty.jsonl'), '');
  writeFileSync(fx('newlines.jsonl'), '\n\n\n');
  writeFileSync(fx('empty.gz'), gzipSync(Buffer.alloc(0)));
  writeFileSync(fx('empty.log'), '');
  // a real trace and model from the shared sample
  const t = await runStb(['parse', '-i', PG_LOG, '-o', fx('trace.jsonl')]);
  expect(t.code).toBe(0);
  const m = await runStb([
    'learn',
    '-i',
    fx('trace.jsonl'),
    '-o',
    fx('model.json'),
  ]);
  expect(m.code).toBe(0);
  writeFileSync(fx('empty-model.json'), '');
  // a header-only trace: valid, but nothing to run or validate
  const head = readFileSync(fx('trace.jsonl'), 'utf8').split('\n', 1)[0];
  writeFileSync(fx('header-only.jsonl'), `${head}\n`);
  // a log whose lines mostly do not match the prefix of its first lines (a mixed log_line_prefix)
  const log = gunzipSync(readFileSync(PG_LOG))
    .toString('utf8')
    .split('\n')
    .slice(0, 2000);
  writeFileSync(
    fx('mixed.log'),
    log.map((l, i) => (i < 100 ? l : `XX ${l}`)).join('\n'),
  );
  // 20 copies of the sample (21 MB): its trace is written while the parse goes on, so a full
  // disk is met with more to write, not at the final flush (that hung, or exited 70, until
  // 2026-12-05)
  writeFileSync(
    fx('big.log'),
    Buffer.concat(Array(20).fill(gunzipSync(readFileSync(PG_LOG)))),
  );
  fullDir = tmpfsFull();
});

afterAll(() => {
  if (fullDir !== undefined)
    try {
      execFileSync('umount', [fullDir], { stdio: 'ignore' });
    } catch {
      // left for the OS
    }
  rmSync(root, { recursive: true, force: true });
});

interface Row {
  name: string;
  /** Arguments; `OUT` is replaced by the row's output path (in its own directory). */
  args: string[];
  code: number;
  /** The one `[stb]` line of a failure must match this (file, line or option named). */
  says?: RegExp;
  /** Output file name inside the row's directory (checked: absent on failure, valid on 0). */
  out?: string;
  /** Put the output in the full file system instead (skipped when none could be mounted). */
  onFullDisk?: boolean;
}

const BENCH = ['bench', '--no-metrics', '-t', 'sqlite::memory:'];
const inputs = [
  ['zero-byte', 'empty.jsonl'],
  ['newline-only', 'newlines.jsonl'],
  ['empty gzip', 'empty.gz'],
] as const;

const rows: Row[] = [
  // empty inputs, for every command that reads one
  ...inputs.flatMap(([what, f]): Row[] => [
    {
      name: `parse: ${what} input`,
      args: ['parse', '-i', fx(f), '-o', 'OUT'],
      code: 3,
      says: new RegExp(f.replace('.', '\\.')),
      out: 'out.jsonl',
    },
    {
      name: `learn: ${what} input`,
      args: ['learn', '-i', fx(f), '-o', 'OUT'],
      code: 3,
      says: new RegExp(f.replace('.', '\\.')),
      out: 'model.json',
    },
    {
      name: `generate: ${what} input`,
      args: ['generate', '-i', fx(f), '-n', '10', '-o', 'OUT'],
      code: 3,
      says: new RegExp(f.replace('.', '\\.')),
      out: 'gen.jsonl',
    },
    {
      name: `validate: ${what} generated trace`,
      args: [
        'validate',
        '--original',
        fx('trace.jsonl'),
        '--generated',
        fx(f),
        '--min-score',
        '0.9',
        '--json-report',
        'OUT',
      ],
      code: 3,
      says: new RegExp(f.replace('.', '\\.')),
      out: 'r.json',
    },
    {
      name: `validate: ${what} original`,
      args: [
        'validate',
        '--original',
        fx(f),
        '--generated',
        fx('trace.jsonl'),
        '--report',
        'OUT',
      ],
      code: 3,
      says: new RegExp(f.replace('.', '\\.')),
      out: 'r.html',
    },
    {
      name: `inspect: ${what} file`,
      args: ['inspect', fx(f)],
      code: 3,
      says: new RegExp(f.replace('.', '\\.')),
    },
    {
      name: `bench: ${what} trace`,
      args: [...BENCH, '-i', fx(f), '-o', 'OUT'],
      code: 3,
      says: new RegExp(f.replace('.', '\\.')),
      out: 'result.json',
    },
  ]),
  {
    name: 'inspect: zero-byte model artifact',
    args: ['inspect', fx('empty-model.json')],
    code: 3,
    says: /empty-model\.json/,
  },
  {
    name: 'bench: header-only trace (nothing to run)',
    args: [...BENCH, '-i', fx('header-only.jsonl'), '-o', 'OUT'],
    code: 3,
    says: /header-only\.jsonl.*no events/,
    out: 'result.json',
  },
  {
    name: 'validate: header-only generated trace',
    args: [
      'validate',
      '--original',
      fx('trace.jsonl'),
      '--generated',
      fx('header-only.jsonl'),
    ],
    code: 3,
    says: /header-only\.jsonl.*no events/,
  },
  // unwritable outputs: checked before any work
  {
    name: 'bench: --out in a missing directory',
    args: [...BENCH, '-i', fx('trace.jsonl'), '-o', 'missing-dir/result.json'],
    code: 3,
    says: /missing-dir.*--out/,
  },
  {
    name: 'parse: --output is a directory',
    args: ['parse', '-i', PG_LOG, '-o', fx('')],
    code: 3,
    says: /--output.*directory/,
  },
  {
    name: 'generate: --output in a missing directory',
    args: ['generate', '-m', fx('model.json'), '-o', 'nope/x.jsonl'],
    code: 3,
    says: /nope.*--output/,
  },
  {
    name: 'validate: --report in a missing directory',
    args: [
      'validate',
      '--original',
      fx('trace.jsonl'),
      '--generated',
      fx('trace.jsonl'),
      '--report',
      'nope/r.html',
    ],
    code: 3,
    says: /nope.*--report/,
  },
  {
    name: 'learn: --output in a missing directory',
    args: ['learn', '-i', fx('trace.jsonl'), '-o', 'nope/m.json'],
    code: 3,
    says: /nope.*--output/,
  },
  // a full disk: /dev/full and a full tmpfs, plain and gzip
  {
    name: 'generate: /dev/full',
    args: ['generate', '-m', fx('model.json'), '-n', '5000', '-o', '/dev/full'],
    code: 3,
    says: /\/dev\/full.*ENOSPC/,
  },
  ...['x.jsonl.gz', 'x.jsonl', 'x.csv', 'x.json'].map((f): Row => ({
    name: `generate: full disk, ${f}`,
    args: ['generate', '-m', fx('model.json'), '-n', '20000', '-o', 'OUT'],
    code: 3,
    says: /ENOSPC/,
    out: f,
    onFullDisk: true,
  })),
  {
    name: 'parse: /dev/full',
    args: ['parse', '-i', PG_LOG, '-o', '/dev/full'],
    code: 3,
    says: /\/dev\/full.*ENOSPC/,
  },
  ...['p.jsonl.gz', 'p.jsonl', 'p.json'].map((f): Row => ({
    name: `parse: full disk, ${f}`,
    args: ['parse', '-i', PG_LOG, '-o', 'OUT'],
    code: 3,
    says: /ENOSPC/,
    out: f,
    onFullDisk: true,
  })),
  {
    name: 'parse: /dev/full, a 21 MB log',
    args: ['parse', '-i', fx('big.log'), '-o', '/dev/full'],
    code: 3,
    says: /\/dev\/full.*ENOSPC/,
  },
  ...['b.jsonl', 'b.csv'].map((f): Row => ({
    name: `parse: full disk, a 21 MB log, ${f}`,
    args: ['parse', '-i', fx('big.log'), '-o', 'OUT'],
    code: 3,
    says: /ENOSPC/,
    out: f,
    onFullDisk: true,
  })),
  {
    name: 'parse: a line longer than --max-line-length exits 3, naming the line and the option',
    args: ['parse', '-i', PG_LOG, '--max-line-length', '80', '-o', 'OUT'],
    code: 3,
    says: /Line \d+ of .*postgresql\.log\.gz.*longer than 80 .*--max-line-length/,
    out: 'long.jsonl',
  },
  // bad records: resynchronised and counted, or refused above --max-invalid
  {
    name: 'parse: a log that loses 95 % of its lines exits 3',
    args: ['parse', '-i', fx('mixed.log'), '-o', 'OUT'],
    code: 3,
    says: /mixed\.log`?:101.*--max-invalid/,
    out: 'mixed.jsonl',
  },
  {
    name: 'parse: the same log with --max-invalid 100% completes',
    args: [
      'parse',
      '-i',
      fx('mixed.log'),
      '--max-invalid',
      '100%',
      '-o',
      'OUT',
    ],
    code: 0,
    out: 'mixed.jsonl',
  },
  {
    name: 'parse: a clean csvlog completes',
    args: ['parse', '-i', PG_CSV, '-o', 'OUT'],
    code: 0,
    out: 'csv.jsonl',
  },
  // option bounds
  ...(
    [
      ['generate', '--scale', '1e9', /--scale/],
      ['generate', '--time-scale', '1e-12', /--time-scale/],
      ['generate', '--scale', '0', /--scale/],
      ['bench', '--metrics-port', '70000', /--metrics-port/],
      ['bench', '--metrics-port', '-1', /--metrics-port/],
      ['parse', '--utc-offset', '+99:99', /--utc-offset/],
      ['parse', '--max-invalid', '150%', /--max-invalid/],
      ['parse', '--max-line-length', '0', /--max-line-length/],
      ['parse', '--max-line-length', '1e9', /--max-line-length.*536870888/],
    ] as const
  ).map(([cmd, opt, v, says]): Row => ({
    name: `${cmd}: ${opt} ${v} is refused`,
    args:
      cmd === 'generate'
        ? ['generate', '-m', fx('model.json'), opt, v, '-o', 'OUT']
        : cmd === 'bench'
          ? [...BENCH, '-i', fx('trace.jsonl'), opt, v]
          : ['parse', '-i', PG_LOG, opt, v, '-o', 'OUT'],
    code: 2,
    says,
    out: 'x.jsonl',
  })),
  {
    name: 'learn: a misspelt --model-option lists the valid ones',
    args: [
      'learn',
      '-i',
      fx('trace.jsonl'),
      '--model-option',
      'ordr=3',
      '-o',
      'OUT',
    ],
    code: 2,
    says: /ordr.*Valid options: `order`/,
    out: 'm.json',
  },
  // a run that measures nothing is not a result (a gate would pass on it)
  {
    name: 'bench: a warm-up longer than the trace measures nothing: exit 2, no result',
    args: [
      ...BENCH,
      '-i',
      fx('trace.jsonl'),
      '--warmup',
      '60s',
      '--out',
      'OUT',
    ],
    code: 2,
    says: /Nothing was measured.*--warmup/,
    out: 'result.json',
  },
  {
    name: 'bench: --max-queries within the warm-up measures nothing: exit 2, no result',
    args: [
      ...BENCH,
      '-i',
      fx('trace.jsonl'),
      '--mode',
      'closed',
      '--max-queries',
      '20',
      '--warmup',
      '60s',
      '--out',
      'OUT',
    ],
    code: 2,
    says: /Nothing was measured.*--max-queries \(20\).*--warmup/,
    out: 'result.json',
  },
  // URLs and ports
  ...[
    'postgres://[::1:5432/test',
    'postgres://127.0.0.1:99999/test',
    'mysql://root@127.0.0.1:70000/test',
  ].map((url): Row => ({
    name: `bench: target ${url}`,
    args: [...BENCH.slice(0, 2), '-i', fx('trace.jsonl'), '-t', url],
    code: 2,
    says: /Invalid target/,
  })),
  // commands
  {
    name: 'an unknown command with --help is a usage error',
    args: ['nosuch', '--help'],
    code: 2,
    says: /unknown command 'nosuch'/,
  },
  {
    name: 'a known command with --help exits 0',
    args: ['bench', '--help'],
    code: 0,
  },
];

// Every parse row again with the parse and extraction threads of --workers 2 (option refusals
// aside: they happen before any thread starts): the same exit code, line and output.
rows.push(
  ...rows
    .filter((r) => r.args[0] === 'parse' && r.code !== 2)
    .map((r): Row => ({
      ...r,
      name: r.name.replace(/^parse:/, 'parse --workers 2:'),
      args: [...r.args, '--workers', '2'],
    })),
);

const stray = (dir: string): string[] =>
  readdirSync(dir).filter((f) => f.endsWith('.tmp') || f.startsWith('.'));

describe('invariants of every command (issue 14)', () => {
  it.concurrent.each(rows.map((r) => [r.name, r] as const))(
    '%s',
    async (_name, row) => {
      if (row.onFullDisk && fullDir === undefined) return; // no tmpfs here
      const dir = mkdtempSync(path.join(root, 'row-'));
      const outDir = row.onFullDisk
        ? mkdtempSync(path.join(fullDir as string, 'row-'))
        : dir;
      const out =
        row.out === undefined ? undefined : path.join(outDir, row.out);
      const args = row.args.map((a) => (a === 'OUT' ? (out as string) : a));
      const r = await runStb(args, { cwd: dir, timeoutMs: 90_000 });
      const stbLines = r.stderr
        .split('\n')
        .filter((l) => l.startsWith('[stb]'));
      expect({ code: r.code, stderr: r.stderr }).toMatchObject({
        code: row.code,
      });
      expect(r.code).not.toBe(70);
      if (row.code !== 0) {
        expect(stbLines).toHaveLength(1);
        if (row.says) expect(stbLines[0]).toMatch(row.says);
        if (out !== undefined) expect(existsSync(out)).toBe(false);
      } else if (out !== undefined) {
        let events = 0;
        for await (const rec of readTraceRecords(out))
          if (rec.kind === 'event') events++;
        expect(events).toBeGreaterThan(0);
      }
      expect(stray(dir)).toEqual([]);
      expect(stray(outDir)).toEqual([]);
    },
  );
});
