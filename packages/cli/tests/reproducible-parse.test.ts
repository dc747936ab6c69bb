import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PG_STATEMENT_LOG, runStb } from './helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'stb-cli-repro-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('stb parse with SOURCE_DATE_EPOCH', () => {
  it('writes byte-identical traces, whatever the threads, with the header dated by it', async () => {
    const env = { SOURCE_DATE_EPOCH: '1764547200' };
    const outs: Buffer[] = [];
    for (const [i, workers] of ['0', '0', '2'].entries()) {
      const out = path.join(dir, `t${i}.jsonl`);
      const r = await runStb(
        ['parse', '-i', PG_STATEMENT_LOG, '-o', out, '--workers', workers],
        { env },
      );
      expect(r.code).toBe(0);
      outs.push(readFileSync(out));
    }
    expect(outs[1]?.equals(outs[0] as Buffer)).toBe(true);
    expect(outs[2]?.equals(outs[0] as Buffer)).toBe(true);
    const header = JSON.parse(
      (outs[0] as Buffer).toString('utf8').split('\n')[0] as string,
    ) as { createdAt: string };
    expect(header.createdAt).toBe('2025-12-01T00:00:00.000Z');
  });
});
