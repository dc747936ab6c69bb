import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isStbError } from '../errors';
import { classifyInputHead, detectInputKind } from './detect-input';

const header =
  '{"kind":"header","format":"stb-trace","version":1,"dialect":"postgres"}';

test.each([
  [`${header}\n{"kind":"template"}\n`, 'trace'],
  [`\uFEFF  ${header}\n`, 'trace'],
  [`{"header":${header},"templates":[],"events":[]}`, 'trace'],
  [
    `{\n  "header": {\n    "kind": "header",\n    "format": "stb-trace"`,
    'trace',
  ],
  [
    'time,startUs,sessionId,templateId,params,durationUs,outcome,txn,sql\n',
    'trace',
  ],
  ['{"format":"stb-model","version":1}', 'model'],
  ['{\n  "format": "stb-model"', 'model'],
  [
    '{"timestamp":"2024-01-01 00:00:00.000 UTC","pid":1,"message":"statement: SELECT 1"}\n',
    'log',
  ],
  [
    '[{"textPayload":"x","logName":"projects/p/logs/cloudsql.googleapis.com%2Fpostgres.log"}]',
    'log',
  ],
  ['{"records":[{"properties":{"message":"x"}}]}', 'log'],
  ['{"kind":"template","id":"t"}\n', 'log'],
  ['2024-01-01 00:00:00.000 UTC [1] LOG:  statement: SELECT 1\n', 'log'],
  ['@timestamp,@message\n', 'log'],
  ['', 'log'],
] as const)('%j is a %s', (text, kind) => {
  expect(classifyInputHead(text)).toBe(kind);
});

const dir = mkdtempSync(join(tmpdir(), 'stb-detect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('reads files by content, gzip included, never by name', async () => {
  const csvNamedLog = join(dir, 'trace.csv');
  writeFileSync(
    csvNamedLog,
    '2024-01-01 00:00:00 UTC [1] LOG:  statement: SELECT 1\n',
  );
  const gzTrace = join(dir, 'x.log.gz');
  writeFileSync(gzTrace, gzipSync(`${header}\n`));
  const csvTrace = join(dir, 'export.txt');
  writeFileSync(
    csvTrace,
    'time,startUs,sessionId,templateId,params,durationUs,outcome,txn,sql\n',
  );
  expect(await detectInputKind(csvNamedLog)).toBe('log');
  expect(await detectInputKind(gzTrace)).toBe('trace');
  expect(await detectInputKind(csvTrace)).toBe('trace');
  expect(await detectInputKind('-')).toBe('log');
  const err = await detectInputKind(join(dir, 'missing')).catch(
    (e: unknown) => e,
  );
  expect(isStbError(err, 'STB_INPUT_NOT_FOUND')).toBe(true);
});
