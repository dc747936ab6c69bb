// An output that is also one of the command's inputs is refused before any work (exit 2, one
// `[stb]` line naming the option and the input), by any name of the file (a symlink too), and the
// input is left as it was: `stb learn -i trace.jsonl -o trace.jsonl` wrote the model over the
// trace until 2026-12-05. Runs the built CLI as real processes.
import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PG_STATEMENT_LOG, runStb } from './helpers';

jest.setTimeout(120_000);

const dir = mkdtempSync(path.join(os.tmpdir(), 'stb-same-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (f: string): string => path.join(dir, f);

beforeAll(async () => {
  const log = gunzipSync(readFileSync(PG_STATEMENT_LOG))
    .toString('utf8')
    .split('\n')
    .slice(0, 3000)
    .join('\n');
  writeFileSync(at('src.log'), `${log}\n`);
  for (const [args, out] of [
    [['parse', '-i', at('src.log')], 'src.jsonl'],
    [['learn', '-i', at('src.jsonl')], 'src-model.json'],
    [
      ['bench', '-i', at('src.jsonl'), '-t', 'sqlite::memory:', '--no-metrics'],
      'src-result.json',
    ],
  ] as const) {
    const r = await runStb([
      ...args,
      args[0] === 'bench' ? '--out' : '-o',
      at(out),
    ]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  }
});

/** Each row: a command whose output (the last `SAME`) is also one of its inputs (`SAME`). */
const rows: { name: string; file: string; args: string[]; option: RegExp }[] = [
  {
    name: 'parse -o the log',
    file: 'src.log',
    args: ['parse', '-i', 'SAME', '-o', 'SAME'],
    option: /--output.*-i/,
  },
  {
    name: 'parse --workers 2 -o the log',
    file: 'src.log',
    args: ['parse', '-i', 'SAME', '-o', 'SAME', '--workers', '2'],
    option: /--output.*-i/,
  },
  {
    name: 'learn -o the trace',
    file: 'src.jsonl',
    args: ['learn', '-i', 'SAME', '-o', 'SAME'],
    option: /--output.*-i/,
  },
  {
    name: 'generate -o the model',
    file: 'src-model.json',
    args: ['generate', '-m', 'SAME', '-n', '10', '-o', 'SAME'],
    option: /--output.*-m/,
  },
  {
    name: 'generate -o the trace it learns from',
    file: 'src.jsonl',
    args: ['generate', '-m', 'markov', '-i', 'SAME', '-n', '10', '-o', 'SAME'],
    option: /--output.*-i/,
  },
  {
    name: 'validate --report the generated trace',
    file: 'src.jsonl',
    args: [
      'validate',
      '--original',
      'OTHER',
      '--generated',
      'SAME',
      '--report',
      'SAME',
    ],
    option: /--report.*--generated/,
  },
  {
    name: 'bench --out the trace',
    file: 'src.jsonl',
    args: [
      'bench',
      '-i',
      'SAME',
      '-t',
      'sqlite::memory:',
      '--no-metrics',
      '--out',
      'SAME',
    ],
    option: /--out.*-i/,
  },
  {
    name: 'merge-traces -o one of the traces',
    file: 'src.jsonl',
    args: ['merge-traces', 'OTHER', 'SAME', '-o', 'SAME'],
    option: /--output.*a trace to merge/,
  },
  {
    name: 'compare --report the baseline',
    file: 'src-result.json',
    args: ['compare', 'SAME', 'SAME', '--report', 'SAME'],
    option: /--report.*the baseline/,
  },
  {
    name: 'compare --json-report the candidate',
    file: 'src-result.json',
    args: ['compare', 'OTHER_RESULT', 'SAME', '--json-report', 'SAME'],
    option: /--json-report.*the candidate/,
  },
  {
    name: 'merge-results -o one of the results',
    file: 'src-result.json',
    args: ['merge-results', 'SAME', '-o', 'SAME'],
    option: /--output.*a result to merge/,
  },
];

describe('an output that is also an input is refused', () => {
  it.each(
    rows.flatMap((r) => [
      [r.name, r, false] as const,
      [`${r.name} (by a symlink)`, r, true] as const,
    ]),
  )('%s', async (_name, row, viaLink) => {
    const caseDir = mkdtempSync(path.join(dir, 'case-'));
    const file = path.join(caseDir, row.file);
    copyFileSync(at(row.file), file);
    const other = path.join(caseDir, 'other.jsonl');
    copyFileSync(at('src.jsonl'), other);
    const link = path.join(caseDir, `link-${row.file}`);
    symlinkSync(file, link);
    const before = readFileSync(file);
    // the input by its name, the output by the same name or by the symlink
    let outputs = 0;
    const args = row.args.map((a) => {
      if (a === 'OTHER') return other;
      if (a === 'OTHER_RESULT') return at('src-result.json');
      if (a !== 'SAME') return a;
      const isOutput =
        ++outputs === row.args.filter((x) => x === 'SAME').length;
      return isOutput && viaLink ? link : file;
    });
    const r = await runStb(args, { cwd: caseDir, timeoutMs: 60_000 });
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('[stb]'));
    expect({ code: r.code, lines }).toMatchObject({ code: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/is also what the command reads/);
    expect(lines[0]).toMatch(row.option);
    expect(readFileSync(file).equals(before)).toBe(true);
  });
});

it('stb compare writes its reports atomically: a full disk is exit 3 naming the file', async () => {
  const r = await runStb([
    'compare',
    at('src-result.json'),
    at('src-result.json'),
    '--report',
    '/dev/full',
  ]);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('[stb]'));
  expect({ code: r.code, lines }).toMatchObject({ code: 3 });
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/\/dev\/full.*ENOSPC/);
});
