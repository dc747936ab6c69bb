import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  promises as fsp,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  collect,
  computeTemplateId,
  createTraceHeader,
  readTraceRecords,
  writeTrace,
} from '@stb/core';
import type { TraceRecord } from '@stb/core';

// stdin and stdout are exercised in a real child process running the built package
// (the `test` target depends on `build`).
const DIST = path.resolve(__dirname, '../dist/index.cjs');

let dir: string;
let recordsFile: string;
beforeAll(() => {
  if (!existsSync(DIST))
    throw new Error(`Build @stb/core first (npx tsup): ${DIST} is missing.`);
  dir = mkdtempSync(path.join(os.tmpdir(), 'stb-stdio-'));
  recordsFile = path.join(dir, 'records.json');
  writeFileSync(recordsFile, JSON.stringify(records));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = 'SELECT $1';
const template = {
  kind: 'template' as const,
  id: computeTemplateId('mysql', text),
  text,
  queryType: 'SELECT' as const,
  tables: [],
  slots: [{ type: 'string' as const, column: null }],
};
const records: TraceRecord[] = [
  createTraceHeader({ dialect: 'mysql', createdAt: '2024-01-01T00:00:00Z' }),
  template,
  ...Array.from({ length: 2000 }, (_, i) => ({
    kind: 'event' as const,
    startUs: 1_000_000 * i,
    sessionId: `t${i % 7}`,
    templateId: template.id,
    params: [{ t: 'string' as const, v: `zé "${i}",\n` }],
  })),
];

function runChild(script: string, input?: Buffer): Buffer {
  const r = spawnSync(
    process.execPath,
    ['-e', `const core = require(${JSON.stringify(DIST)});\n${script}`],
    {
      input,
      maxBuffer: 64 << 20,
      env: { ...process.env, RECORDS: recordsFile },
    },
  );
  // EPIPE: the child stopped reading stdin early (e.g. it failed on the first line); fine.
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'EPIPE')
    throw r.error;
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr.toString()}`);
  return r.stdout;
}

const WRITE = (options: string) =>
  `core.writeTrace('-', JSON.parse(require('fs').readFileSync(process.env.RECORDS, 'utf8')), ${options}).then((s) => process.stderr.write(JSON.stringify(s)));`;

describe('stdout', () => {
  it('writes JSON Lines to stdout', () => {
    const out = runChild(WRITE('{}')).toString('utf8');
    const lines = out.trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(records);
  });

  it('writes gzip JSON and CSV to stdout', async () => {
    const gz = runChild(WRITE("{ format: 'json', gzip: true }"));
    const file = path.join(dir, 'from-stdout.json');
    await fsp.writeFile(file, gunzipSync(gz));
    const back = await collect(readTraceRecords(file));
    expect(back).toEqual(records);
    const csv = runChild(
      WRITE(
        `{ format: 'csv', sidecar: ${JSON.stringify(path.join(dir, 'side.json'))} }`,
      ),
    );
    const csvFile = path.join(dir, 'from-stdout.csv');
    await fsp.writeFile(csvFile, csv);
    expect(
      await collect(
        readTraceRecords(csvFile, { sidecar: path.join(dir, 'side.json') }),
      ),
    ).toEqual(records);
  });
});

const READ = (options: string) => `(async () => {
  let n = 0; let last;
  for await (const r of core.readTraceRecords('-', ${options})) { n++; last = r; }
  process.stdout.write(JSON.stringify({ n, last }));
})().catch((e) => { process.stdout.write(JSON.stringify({ code: e.code, line: e.line, source: e.source })); });`;

describe('stdin', () => {
  it('reads a gzip JSONL trace from stdin', async () => {
    const file = path.join(dir, 'in.jsonl.gz');
    await writeTrace(file, records);
    const out = JSON.parse(
      runChild(READ('{}'), await fsp.readFile(file)).toString(),
    ) as unknown;
    expect(out).toEqual({ n: records.length, last: records.at(-1) });
  });

  it('reads a CSV trace from stdin with its sidecar, and needs the sidecar', async () => {
    const file = path.join(dir, 'in.csv');
    await writeTrace(file, records);
    const csv = await fsp.readFile(file);
    const sidecar = path.join(dir, 'in.templates.json');
    const ok = JSON.parse(
      runChild(READ(`{ sidecar: ${JSON.stringify(sidecar)} }`), csv).toString(),
    ) as unknown;
    expect(ok).toEqual({ n: records.length, last: records.at(-1) });
    const missing = JSON.parse(runChild(READ('{}'), csv).toString()) as unknown;
    expect(missing).toEqual({
      code: 'STB_TRACE_MISSING_HEADER',
      line: 1,
      source: '<stdin>',
    });
  });

  it('names stdin and the line of a bad record', () => {
    const lines = records.slice(0, 5).map((r) => JSON.stringify(r));
    lines[3] = '{"kind":"event","startUs":';
    const out = JSON.parse(
      runChild(READ('{}'), gzipSync(lines.join('\n'))).toString(),
    ) as unknown;
    expect(out).toEqual({
      code: 'STB_TRACE_INVALID_JSON',
      line: 4,
      source: '<stdin>',
    });
  });
});
