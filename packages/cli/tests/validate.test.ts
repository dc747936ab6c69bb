import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  createTraceHeader,
  type TraceEvent,
  ValidationReport,
} from '@stb/core';

import {
  type MemoryTrace,
  readSampleTrace,
  sampleLogPath,
} from '../../validator/tests/helpers/sample-trace';
import { runStb } from './helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'stb-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SAMPLE = 'pg-tpcb-simple-logduration';
let sample: MemoryTrace;

function writeTraceFile(name: string, events: TraceEvent[]): string {
  const file = path.join(dir, name);
  const header = createTraceHeader({
    dialect: 'postgres',
    timeResolutionUs: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  const lines = [header, ...sample.templates, ...events].map((r) =>
    JSON.stringify(r),
  );
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

// The sample log through @stb/parser and @stb/extractor, written as trace files.
let original: string;
let slower: string;
beforeAll(async () => {
  sample = await readSampleTrace(SAMPLE);
  original = writeTraceFile('original.jsonl', sample.events);
  const t0 = sample.events[0]?.startUs ?? 0;
  slower = writeTraceFile(
    'slower.jsonl',
    sample.events.map((e) => ({ ...e, startUs: t0 + (e.startUs - t0) * 3 })),
  );
});

describe('stb validate', () => {
  it('scores a trace against itself 1.0 and writes the HTML and JSON reports', async () => {
    const html = path.join(dir, 'report.html');
    const json = path.join(dir, 'report.json');
    const r = await runStb([
      'validate',
      '--original',
      original,
      '--generated',
      original,
      '--report',
      html,
      '--json',
      json,
      '--min-score',
      '0.99',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.toString('utf8'));
    expect(summary).toMatchObject({
      command: 'validate',
      score: 1,
      passed: true,
      jsonReport: json,
    });
    const report = ValidationReport.parse(
      JSON.parse(readFileSync(json, 'utf8')),
    );
    expect(report.score).toBe(1);
    expect(report.original.dialect).toBe('postgres');
    expect(readFileSync(html, 'utf8')).toContain('<svg');
  });

  it('exits 1 below --min-score and prints a readable table', async () => {
    const json = path.join(dir, 'slower.json');
    const r = await runStb([
      'validate',
      '--original',
      original,
      '--generated',
      slower,
      '--min-score',
      '0.99',
      '--json-report',
      json,
      '--weights',
      'durations=0',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /Fidelity of .*slower\.jsonl against .*original\.jsonl: 0\.\d{4} \(BELOW --min-score 0\.99\)/,
    );
    expect(r.stderr).toMatch(/Inter-arrival times\s+0\.\d{3}\s+w 1/);
    const report = ValidationReport.parse(
      JSON.parse(readFileSync(json, 'utf8')),
    );
    expect(report.passed).toBe(false);
    expect(report.weights['durations']).toBe(0);
  });

  it('parses a raw log given as --original on the fly', async () => {
    // The same log in two formats: stderr (as the trace was made from) and csvlog.
    for (const file of ['postgresql.log.gz', 'postgresql.csv.gz']) {
      const json = path.join(dir, `raw-${file}.json`);
      const raw = sampleLogPath(SAMPLE, file);
      const r = await runStb([
        'validate',
        '--original',
        raw,
        '--generated',
        original,
        '--json-report',
        json,
        '--min-score',
        '0.99',
      ]);
      expect(r.stderr).toMatch(
        /Fidelity of .*original\.jsonl against .*postgresql\.(log|csv)\.gz: 1\.0000 \(passes --min-score 0\.99\)/,
      );
      expect(r.code).toBe(0);
      const report = ValidationReport.parse(
        JSON.parse(readFileSync(json, 'utf8')),
      );
      expect(report.score).toBe(1);
      expect(report.original.events).toBe(sample.events.length);
      expect(report.original.templates).toBe(sample.templates.length);
    }
  });

  it('scores a raw-log original against a perturbed trace below 1', async () => {
    const r = await runStb([
      'validate',
      '--original',
      sampleLogPath(SAMPLE),
      '--generated',
      slower,
      '--min-score',
      '0.99',
      '--weights',
      'durations=0',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/BELOW --min-score 0\.99/);
    expect(r.stderr).toMatch(/Inter-arrival times\s+0\.\d{3}\s+w 1/);
  });

  it('refuses a raw log that no format recognises with exit 3', async () => {
    const junk = path.join(dir, 'junk.log');
    writeFileSync(junk, 'not a log line\nnor this one\n');
    const r = await runStb([
      'validate',
      '--original',
      junk,
      '--generated',
      original,
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^\[stb\] \[parser\] Cannot tell the log format/);
    expect(r.stderr).not.toContain('not a log line');
  });

  it('rejects bad options with exit 2 and missing files with exit 3', async () => {
    const bad = await runStb([
      'validate',
      '--original',
      original,
      '--generated',
      original,
      '--weights',
      'bogus=1',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown weight `bogus`/);
    const score = await runStb([
      'validate',
      '--original',
      original,
      '--generated',
      original,
      '--min-score',
      '1.5',
    ]);
    expect(score.code).toBe(2);
    const missing = await runStb([
      'validate',
      '--original',
      path.join(dir, 'nope.jsonl'),
      '--generated',
      original,
    ]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^\[stb\]/);
    // one bench result without the other
    const half = await runStb([
      'validate',
      '--original',
      original,
      '--generated',
      original,
      '--bench-original',
      original,
    ]);
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(
      /^\[stb\] \[cli\] --bench-original and --bench-generated go together/m,
    );
  });
});
