import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TraceRecord } from '../schema';
import { collect } from '../streams';
import { compareSessionIds, mergeTraceFiles } from './trace-merge';
import type { MergeTraceStats } from './trace-merge';

describe('compareSessionIds', () => {
  it('orders a trailing number as a number under one prefix, else by code units', () => {
    const ids = ['s13', 's3', 's100', 's003x', 's20', 'p1', 's03', 'abc'];
    expect([...ids].sort(compareSessionIds)).toEqual([
      'abc',
      'p1',
      's003x',
      's03', // the same number: by code units
      's3',
      's13',
      's20',
      's100',
    ]);
    expect(
      compareSessionIds('s9999999999999999999999', 's10000000000000000000000'),
    ).toBeLessThan(0);
  });
});

describe('mergeTraceFiles', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stb-merge-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const header = {
    kind: 'header',
    format: 'stb-trace',
    version: 1,
    dialect: 'postgres',
    source: { tool: 'generate' },
    timeResolutionUs: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
  };
  const template = {
    kind: 'template',
    id: '00000000000000c1',
    text: 'SELECT 1',
    queryType: 'SELECT',
    tables: [],
    slots: [],
  };
  const ev = (startUs: number, sessionId: string) => ({
    kind: 'event',
    startUs,
    sessionId,
    templateId: '00000000000000c1',
    params: [],
  });
  const write = (name: string, records: unknown[]): string => {
    const f = path.join(dir, name);
    writeFileSync(f, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return f;
  };

  it("gives events of equal start in the generator's session order, whichever shard holds them", async () => {
    // shards of 4: s13 is in shard 1, s3 in shard 3; the sequential run emits s3 first
    const a = write('g1.jsonl', [
      header,
      template,
      ev(10, 's1'),
      ev(20, 's13'),
      ev(30, 's5'),
    ]);
    const b = write('g3.jsonl', [
      header,
      template,
      ev(15, 's7'),
      ev(20, 's3'),
      ev(20, 's7'),
    ]);
    const out = await collect<TraceRecord>(mergeTraceFiles([a, b]));
    expect(
      out.flatMap((r) =>
        r.kind === 'event' ? [`${r.startUs}:${r.sessionId}`] : [],
      ),
    ).toEqual(['10:s1', '15:s7', '20:s3', '20:s7', '20:s13', '30:s5']);
  });

  it('keeps each input in its order: an event that steps back is merged at the latest start before it', async () => {
    // a log_min_duration_statement trace: p2's second statement stamps an earlier start (end −
    // duration) than the statement above it
    const a = write('parsed.jsonl', [
      header,
      template,
      ev(100, 'p1'),
      ev(200, 'p2'),
      ev(150, 'p2'),
      ev(300, 'p1'),
    ]);
    const b = write('other.jsonl', [
      header,
      template,
      ev(120, 'q1'),
      ev(160, 'q1'),
      ev(250, 'q1'),
    ]);
    const stats: MergeTraceStats = { steppedBack: [] };
    const out = await collect<TraceRecord>(mergeTraceFiles([a, b], { stats }));
    expect(
      out.flatMap((r) =>
        r.kind === 'event' ? [`${r.startUs}:${r.sessionId}`] : [],
      ),
    ).toEqual([
      '100:p1',
      '120:q1',
      '160:q1',
      '200:p2',
      '150:p2', // merged at 200, right after the event above it
      '250:q1',
      '300:p1',
    ]);
    expect(stats.steppedBack).toEqual([1, 0]);
    expect(out.filter((r) => r.kind === 'template')).toHaveLength(1);
  });
});
