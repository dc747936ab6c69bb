// `stb merge-traces` on traces that `stb parse` wrote from a log_min_duration_statement log (the
// RDS-like capture of a real PostgreSQL 15 server): those lines stamp a statement's end, so the
// trace's starts (end − duration) step back within a session. The merge keeps each trace's order
// and counts the step-backs; until 2026-12-05 it refused these traces as "not in start-time order".
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runStb } from './helpers';

const FIXTURE = path.resolve(
  __dirname,
  '../../parser/tests/fixtures/generated/pg-mindur-rds',
);
const dir = mkdtempSync(path.join(tmpdir(), 'stb-cli-merge-traces-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (f: string): string => path.join(dir, f);

interface Ev {
  startUs: number;
  sessionId: string;
  templateId: string;
}

const events = (file: string): Ev[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"kind":"event"'))
    .map((l) => JSON.parse(l) as Ev);

/** Events that start before an event above them in the same trace. */
function stepBacks(evs: readonly Ev[]): number {
  let latest = -Infinity;
  let n = 0;
  for (const e of evs)
    if (e.startUs < latest) n++;
    else latest = e.startUs;
  return n;
}

const bySession = (evs: readonly Ev[]): Map<string, string[]> => {
  const m = new Map<string, string[]>();
  for (const e of evs) {
    const l = m.get(e.sessionId) ?? [];
    l.push(`${e.startUs} ${e.templateId}`);
    m.set(e.sessionId, l);
  }
  return m;
};

it('merges the traces of a log_min_duration_statement log, each in its own order', async () => {
  // the stderr and the csvlog of one capture: session ids differ (pid@time against %c), so
  // each session's events come from one input
  for (const [log, out] of [
    ['postgresql.log.gz', 'stderr.jsonl'],
    ['postgresql.csv.gz', 'csv.jsonl'],
  ] as const) {
    const r = await runStb([
      'parse',
      '-q',
      '-i',
      path.join(FIXTURE, log),
      '-o',
      at(out),
    ]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
  }
  const inputs: [Ev[], Ev[]] = [
    events(at('stderr.jsonl')),
    events(at('csv.jsonl')),
  ];
  const expectedBack: [number, number] = [
    stepBacks(inputs[0]),
    stepBacks(inputs[1]),
  ];
  // the fixture is one that steps back, or this test shows nothing
  expect(expectedBack[0]).toBeGreaterThan(0);

  const r = await runStb([
    'merge-traces',
    '--json',
    at('stderr.jsonl'),
    at('csv.jsonl'),
    '-o',
    at('merged.jsonl'),
  ]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  const summary = JSON.parse(r.stdout.toString()) as {
    events: number;
    steppedBack: number;
  };
  const merged = events(at('merged.jsonl'));
  expect(summary.events).toBe(inputs[0].length + inputs[1].length);
  expect(merged).toHaveLength(summary.events);
  expect(summary.steppedBack).toBe(expectedBack[0] + expectedBack[1]);

  // every session's statements in their input's order
  const want = new Map([...bySession(inputs[0]), ...bySession(inputs[1])]);
  expect(want.size).toBe(bySession(inputs[0]).size + bySession(inputs[1]).size);
  expect(bySession(merged)).toEqual(want);
  // and by start: each event at the latest start of its input so far, never decreasing
  const inputOf = new Map<string, number>();
  inputs.forEach((evs, i) => evs.forEach((e) => inputOf.set(e.sessionId, i)));
  const latest = [-Infinity, -Infinity];
  let last = -Infinity;
  for (const e of merged) {
    const i = inputOf.get(e.sessionId) as number;
    latest[i] = Math.max(latest[i] as number, e.startUs);
    expect(latest[i]).toBeGreaterThanOrEqual(last);
    last = latest[i];
  }
}, 60_000);
