// Issue 13 ("Faithful load"): a trace generated with -n equal to the original's statements loads a
// database the way the original did: statements/s, sessions open at once and session count, on real
// logs (a pgbench -R log with duration logging, and a pool of long-lived connections beside
// connect-per-transaction signups). Runs the `stb` command as a real process.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readTraceRecords, templateFacts } from '@stb/core';
import { SAMPLES_DIR, runStb } from './helpers';

const LOAD_DIR = path.resolve(__dirname, '../../../fixtures/load');
const dir = mkdtempSync(path.join(tmpdir(), 'stb-cli-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Shape {
  events: number;
  perS: number;
  sessions: number;
  concurrency: number;
  openTxns: number;
}

/** Load shape (as ../shared/tools/fidelity-samples.sh computes it) and transactions left open. */
async function shape(file: string): Promise<Shape> {
  const sessions = new Map<string, [number, number]>();
  const boundary = new Map<string, string | undefined>();
  const inTxn = new Map<string, boolean>();
  let n = 0;
  let first = Infinity;
  let last = -Infinity;
  for await (const e of readTraceRecords(file)) {
    if (e.kind === 'template')
      boundary.set(e.id, templateFacts(e).boundary ?? undefined);
    if (e.kind !== 'event') continue;
    n++;
    first = Math.min(first, e.startUs);
    last = Math.max(last, e.startUs);
    const s = sessions.get(e.sessionId);
    if (s) {
      s[0] = Math.min(s[0], e.startUs);
      s[1] = Math.max(s[1], e.startUs);
    } else sessions.set(e.sessionId, [e.startUs, e.startUs]);
    const b = boundary.get(e.templateId);
    if (b === 'begin') inTxn.set(e.sessionId, true);
    if (b === 'end') inTxn.set(e.sessionId, false);
  }
  const spanS = (last - first) / 1e6;
  let busy = 0;
  for (const [a, b] of sessions.values()) busy += (b - a) / 1e6;
  return {
    events: n,
    perS: n / spanS,
    sessions: sessions.size,
    concurrency: busy / spanS,
    openTxns: [...inTxn.values()].filter(Boolean).length,
  };
}

async function stb(args: string[]): Promise<void> {
  const r = await runStb(args);
  if (r.code !== 0 && !(args[0] === 'validate' && r.code === 1))
    throw new Error(`stb ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
}

describe('issue 13: generated traces keep the original load', () => {
  it.each([
    [
      'pg-tpcb-simple-logduration',
      path.join(SAMPLES_DIR, 'pg-tpcb-simple-logduration/postgresql.log.gz'),
    ],
    [
      'pg-mixed-pool-short',
      path.join(LOAD_DIR, 'pg-mixed-pool-short/postgresql.log.gz'),
    ],
  ])(
    '%s: statements/s, concurrency and sessions within 5 %, 5 % and 10 %; exact -n; no open transaction',
    async (name, log) => {
      const o = path.join(dir, `${name}.o.jsonl`);
      const m = path.join(dir, `${name}.model.json`);
      const g = path.join(dir, `${name}.g.jsonl`);
      const v = path.join(dir, `${name}.v.json`);
      await stb(['parse', '-q', '-i', log, '-o', o]);
      const so = await shape(o);
      await stb(['learn', '-q', '-m', 'markov', '-i', o, '-o', m]);
      await stb([
        'generate',
        '-q',
        '-m',
        m,
        '-n',
        String(so.events),
        '--seed',
        '11',
        '-o',
        g,
      ]);
      await stb([
        'validate',
        '-q',
        '--original',
        o,
        '--generated',
        g,
        '--json-report',
        v,
      ]);
      const sg = await shape(g);
      expect(sg.events).toBe(so.events);
      expect(sg.openTxns).toBe(0);
      expect(sg.perS / so.perS).toBeGreaterThan(0.95);
      expect(sg.perS / so.perS).toBeLessThan(1.05);
      expect(sg.concurrency / so.concurrency).toBeGreaterThan(0.95);
      expect(sg.concurrency / so.concurrency).toBeLessThan(1.05);
      expect(
        Math.abs(sg.sessions - so.sessions) / so.sessions,
      ).toBeLessThanOrEqual(0.1);
      const report = JSON.parse(readFileSync(v, 'utf8')) as {
        properties: { id: string; score: number | null }[];
      };
      const score = (id: string): number =>
        report.properties.find((p) => p.id === id)?.score ?? 0;
      // the duration-logged think times (0.35–0.56 before the extractor's start fix); issue 13's
      // bar is 0.85 per property (dispatched pools draw between-transaction gaps from the class's
      // schedule, not from each connection's think times: 0.90 on pg-mixed-pool-short)
      expect(score('thinkTime')).toBeGreaterThanOrEqual(0.85);
      expect(score('interArrival')).toBeGreaterThan(0.9);
      expect(score('burstiness')).toBeGreaterThanOrEqual(0.8);
      expect(score('statementRate')).toBeGreaterThan(0.9);
      expect(score('concurrency')).toBeGreaterThan(0.9);
      expect(score('sessionLength')).toBeGreaterThan(0.85);
    },
    120_000,
  );

  it('stb inspect shows the session classes and the concurrency the model produces', async () => {
    const m = path.join(dir, 'pg-mixed-pool-short.model.json');
    const r = await runStb(['inspect', m]);
    expect(r.code).toBe(0);
    const out = r.stdout.toString('utf8');
    expect(out).toMatch(/Session classes \(\d+\):/);
    expect(out).toMatch(/pooled connections/);
    // classes by connection attributes first: the pool and the signups are two applications
    expect(out).toMatch(/pooled connections of bench@bench\/pool-app/);
    expect(out).toMatch(/sessions of bench@bench\/signup/);
    expect(out).toMatch(
      /Concurrency: \d+\.\d+ sessions open at once in the source/,
    );
  }, 60_000);

  it("a generated session connects as one of its class's connection attributes, in the original's mix", async () => {
    const count = (file: string): Map<string, number> => {
      const m = new Map<string, number>();
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line.startsWith('{"kind":"event"')) continue;
        const ev = JSON.parse(line) as { conn?: { application?: string } };
        const app = ev.conn?.application;
        if (app !== undefined) m.set(app, (m.get(app) ?? 0) + 1);
      }
      return m;
    };
    const o = count(path.join(dir, 'pg-mixed-pool-short.o.jsonl'));
    const g = count(path.join(dir, 'pg-mixed-pool-short.g.jsonl'));
    expect([...g.keys()].sort()).toEqual(['pool-app', 'signup']);
    expect([...o.keys()].sort()).toEqual(['pool-app', 'signup']);
    const share = (m: Map<string, number>): number =>
      (m.get('signup') ?? 0) /
      ((m.get('signup') ?? 0) + (m.get('pool-app') ?? 0));
    expect(Math.abs(share(g) - share(o))).toBeLessThan(0.05);
  }, 60_000);

  it('generating from a log twice with one seed gives byte-identical files', async () => {
    const log = path.join(LOAD_DIR, 'pg-two-apps-web/postgresql.log.gz');
    const a = path.join(dir, 'a.jsonl');
    const b = path.join(dir, 'b.jsonl');
    for (const out of [a, b])
      await stb([
        'generate',
        '-q',
        '-m',
        'markov',
        '-i',
        log,
        '-n',
        '300',
        '--seed',
        '5',
        '--no-save-model',
        '-o',
        out,
      ]);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  }, 120_000);
});
