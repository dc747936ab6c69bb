import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BenchResult, computeTemplateId } from '@stb/core';
import { PG_TRACE_HEADER, runStb } from './helpers';

// `stb bench` against a target lost for good in the middle of the run (a proxy in front of the
// shared PostgreSQL closes every connection and stops listening): the sessions cannot reconnect
// within --reconnect-timeout and are aborted. The run must not look like a success: exit 3 with
// one line saying so, the result written, its outage open until the end of the run. Until
// 2026-12-06 it exited 0 with status `completed`, and the outage lasted only until its last
// failed query (14 ms for a target down 30 s).

const required = process.env['STB_REQUIRE_DB'] === '1';
const PG = { host: '127.0.0.1', port: 5432 };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'stb-target-lost-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 4 sessions running `SELECT $1::int` every 5 ms for 10 s. */
function writeTrace(file: string): void {
  const text = 'SELECT $1::int';
  const id = computeTemplateId('postgres', text);
  const lines: unknown[] = [
    PG_TRACE_HEADER,
    { kind: 'template', id, text, queryType: 'SELECT', tables: [], slots: [] },
  ];
  const t0 = 1_700_000_000_000_000;
  for (let i = 0; i < 2000; i++)
    for (let s = 0; s < 4; s++)
      lines.push({
        kind: 'event',
        startUs: t0 + i * 5000 + s * 100,
        sessionId: `s${s}`,
        templateId: id,
        params: [{ t: 'int', v: i }],
      });
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

/** A proxy to the shared server; `lose()` closes every connection and stops listening. */
async function startProxy(): Promise<{ port: number; lose(): void }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const up = connect(PG.port, PG.host);
    for (const s of [client, up]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(up).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    lose: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

/** Whether the shared PostgreSQL answers a TCP connect. */
function reachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(PG.port, PG.host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

it('exits 3, saying so, when the target is lost for good; the result holds the open outage', async () => {
  if (!(await reachable())) {
    if (required)
      throw new Error('PostgreSQL is not reachable on 127.0.0.1:5432');
    console.warn('skipped: PostgreSQL is not reachable on 127.0.0.1:5432');
    return;
  }
  const trace = path.join(dir, 'trace.jsonl');
  writeTrace(trace);
  const out = path.join(dir, 'result.json');
  const proxy = await startProxy();
  const timer = setTimeout(() => proxy.lose(), 1500);
  try {
    const r = await runStb(
      [
        'bench',
        '-i',
        trace,
        '--target',
        `postgres://postgres@127.0.0.1:${String(proxy.port)}/postgres`,
        '--no-metrics',
        '--reconnect-timeout',
        '1s',
        '-o',
        out,
      ],
      { timeoutMs: 40_000 },
    );
    expect(r.stderr).toMatch(
      /^\[stb\] \[bench\] The target became unreachable \d+\.\d s into the run and still was when it ended: 4 of 4 sessions were aborted and \d+ events not run, so the result \(in .*result\.json\) covers only what ran before\.$/m,
    );
    expect(r.code).toBe(3);
    const result = BenchResult.parse(JSON.parse(readFileSync(out, 'utf8')));
    const outage = result.faults.outages?.at(-1);
    expect(outage?.unresolved).toBe(true);
    // open until the end of the run: the sessions tried to reconnect for 1 s after it began
    expect(outage?.durationMs ?? 0).toBeGreaterThanOrEqual(900);
    expect(result.overall.count).toBeGreaterThan(0);
  } finally {
    clearTimeout(timer);
    proxy.lose();
  }
}, 60_000);
