// Soak of `stb bench` in open loop against PostgreSQL: runs the built CLI as a real process for
// SOAK_MINUTES (default 30) at SOAK_RATE queries/s (default 200), sampling the process's RSS
// (/proc/<pid>/status VmRSS, worker threads included) and the number of backends of the scratch
// database in pg_stat_activity every SAMPLE_SECONDS (default 10). Flat RSS and a stable backend
// count mean no leak of memory or connections over a long run.
// Build first (`npx nx run-many -t build`). Not part of `npm test`; `npm run bench -- soak`.
// Prints progress to stderr and one JSON object as the last stdout line.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { computeTemplateId } from '@stb/core';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const RATE = Number(process.env.SOAK_RATE ?? 200);
const SAMPLE_S = Number(process.env.SAMPLE_SECONDS ?? 10);
const SESSIONS = 64;
const CONNECTIONS = 8;
const ROWS = 64 * 1000;
const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const CLI = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../dist/cli.cjs',
);
const log = (m) => process.stderr.write(`[soak] ${m}\n`);

const dbName = `stb_test_soak_${randomBytes(4).toString('hex')}`;
const url = `postgres://postgres@127.0.0.1:5432/${dbName}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'stb-soak-'));
const tracePath = path.join(dir, 'soak.jsonl');
const resultPath = path.join(dir, 'result.json');

async function withClient(conn, fn) {
  const c = new pg.Client({ connectionString: conn });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function tpl(text, queryType, slots) {
  return {
    kind: 'template',
    id: computeTemplateId('postgres', text),
    text,
    queryType,
    tables: queryType === 'TCL' ? [] : ['soak_t'],
    slots: slots.map((type) => ({ type, column: null })),
  };
}

/**
 * Sessions of `BEGIN; SELECT; UPDATE (own rows only, so no lock waits); COMMIT`, and now and
 * then a statement that fails (division by zero), so error accounting is soaked too.
 */
async function writeTrace(totalEvents) {
  const T = {
    begin: tpl('BEGIN', 'TCL', []),
    select: tpl('SELECT v FROM soak_t WHERE id = $1', 'SELECT', ['int']),
    update: tpl('UPDATE soak_t SET v = v + $1 WHERE id = $2', 'UPDATE', [
      'int',
      'int',
    ]),
    commit: tpl('COMMIT', 'TCL', []),
    fail: tpl('SELECT 1 / $1', 'SELECT', ['int']),
  };
  const out = createWriteStream(tracePath);
  const write = async (rec) => {
    if (!out.write(`${JSON.stringify(rec)}\n`)) await once(out, 'drain');
  };
  await write({
    kind: 'header',
    format: 'stb-trace',
    version: 1,
    dialect: 'postgres',
    source: { tool: 'soak.bench.mjs' },
    timeResolutionUs: 1,
    createdAt: new Date().toISOString(),
  });
  for (const t of Object.values(T)) await write(t);
  let t = 1_700_000_000_000_000;
  let n = 0;
  let round = 0;
  const perRow = ROWS / SESSIONS;
  while (n < totalEvents) {
    for (let s = 0; s < SESSIONS && n < totalEvents; s++) {
      const sessionId = `s${s}`;
      const id = s * perRow + ((round * 7919) % perRow) + 1;
      const ev = (templateId, params) => ({
        kind: 'event',
        startUs: (t += 100),
        sessionId,
        templateId,
        params,
      });
      const group =
        round % 50 === 0
          ? [ev(T.fail.id, [{ t: 'int', v: 0 }])]
          : [
              ev(T.begin.id, []),
              ev(T.select.id, [{ t: 'int', v: id }]),
              ev(T.update.id, [
                { t: 'int', v: 1 },
                { t: 'int', v: id },
              ]),
              ev(T.commit.id, []),
            ];
      for (const e of group) await write(e);
      n += group.length;
    }
    round++;
  }
  out.end();
  await once(out, 'finish');
}

const rssKiB = (pid) => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
};

/** Least-squares slope of y over x. */
function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function main() {
  await withClient(ADMIN, (c) => c.query(`CREATE DATABASE ${dbName}`));
  try {
    await withClient(url, (c) =>
      c.query(
        `CREATE TABLE soak_t (id int PRIMARY KEY, v bigint NOT NULL);
         INSERT INTO soak_t SELECT g, 0 FROM generate_series(1, ${ROWS}) g`,
      ),
    );
    const events = Math.ceil(RATE * MINUTES * 60 * 1.2) + 1000;
    await writeTrace(events);
    log(
      `trace: ${events} events, ${SESSIONS} sessions; running ${MINUTES} min at ${RATE} q/s`,
    );
    const args = [
      CLI,
      'bench',
      '-i',
      tracePath,
      '-t',
      url,
      '--mode',
      'open',
      '--rate',
      String(RATE),
      '-c',
      String(CONNECTIONS),
      '--duration',
      `${MINUTES * 60}s`,
      '--no-metrics',
      '-o',
      resultPath,
      '--quiet',
    ];
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b) => {
      stderr += b;
    });
    const exited = once(child, 'exit');
    // It must stop by itself: a watchdog at duration + 2 min records a failure instead of hanging.
    const watchdog = setTimeout(
      () => child.kill('SIGKILL'),
      (MINUTES * 60 + 120) * 1000,
    );
    const samples = [];
    const monitor = await (async () => {
      const c = new pg.Client({ connectionString: ADMIN });
      await c.connect();
      return c;
    })();
    let running = true;
    void exited.then(() => {
      running = false;
    });
    while (running) {
      await new Promise((r) => setTimeout(r, SAMPLE_S * 1000));
      if (!running) break;
      const rss = rssKiB(child.pid);
      const { rows } = await monitor.query(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
        [dbName],
      );
      const s = {
        t: (performance.now() - started) / 1000,
        rssMiB: rss / 1024,
        backends: rows[0].n,
      };
      if (!Number.isNaN(rss)) samples.push(s);
      log(
        `t=${s.t.toFixed(0)}s rss=${s.rssMiB.toFixed(1)} MiB backends=${s.backends}`,
      );
    }
    const [code, signal] = await exited;
    clearTimeout(watchdog);
    const elapsedS = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    const { rows: after } = await monitor.query(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
      [dbName],
    );
    await monitor.end();
    if (code !== 0) {
      log(stderr);
      throw new Error(`stb bench exited with ${code ?? signal}`);
    }
    const result = JSON.parse(readFileSync(resultPath, 'utf8'));
    // Steady state: leave out the first two minutes (JIT, pools and buffers growing).
    const steady = samples.filter((s) => s.t >= Math.min(120, MINUTES * 20));
    const rssSteady = steady.map((s) => s.rssMiB);
    const backends = steady.map((s) => s.backends);
    // RSS is a sawtooth (the heap grows until V8 collects): compare its peaks per 5-minute
    // bucket, early against late; a leak raises the late peaks.
    const buckets = new Map();
    for (const s of samples) {
      const k = Math.floor(s.t / 300);
      buckets.set(k, Math.max(buckets.get(k) ?? 0, s.rssMiB));
    }
    const peaks = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
    const steadyPeaks = peaks.filter(([k]) => k >= 1).map(([, v]) => v);
    const third = Math.max(1, Math.floor(steadyPeaks.length / 3));
    const earlyPeak = Math.max(...steadyPeaks.slice(0, third));
    const latePeak = Math.max(...steadyPeaks.slice(-third));
    const slopePer10Min =
      slope(
        steady.map((s) => s.t),
        rssSteady,
      ) * 600;
    const rows = [
      { metric: 'run length', value: elapsedS, unit: 's' },
      { metric: 'queries executed', value: result.overall.count, unit: '' },
      { metric: 'achieved rate', value: result.overall.qps, unit: 'q/s' },
      {
        metric: 'failed queries (1 in 50 groups fails by design)',
        value: result.overall.errors,
        unit: '',
      },
      { metric: 'RSS at 2 min', value: rssSteady[0] ?? NaN, unit: 'MiB' },
      { metric: 'RSS at end', value: rssSteady.at(-1) ?? NaN, unit: 'MiB' },
      {
        metric: 'RSS max (steady state)',
        value: Math.max(...rssSteady),
        unit: 'MiB',
      },
      {
        metric: 'RSS trend (least squares over the sawtooth, steady state)',
        value: slopePer10Min,
        unit: 'MiB per 10 min',
      },
      {
        metric: 'RSS peak, first third after 5 min',
        value: earlyPeak,
        unit: 'MiB',
      },
      { metric: 'RSS peak, last third', value: latePeak, unit: 'MiB' },
      {
        metric: 'RSS peak growth, last third vs first third',
        value: ((latePeak - earlyPeak) / earlyPeak) * 100,
        unit: '%',
        target: 'flat (< 5 %)',
      },
      {
        metric: 'pg_stat_activity backends min (steady state)',
        value: Math.min(...backends),
        unit: '',
      },
      {
        metric: 'pg_stat_activity backends max (steady state)',
        value: Math.max(...backends),
        unit: '',
        target: `stable, ≤ ${CONNECTIONS + 1}`,
      },
      {
        metric: 'pg_stat_activity backends 1 s after exit',
        value: after[0].n,
        unit: '',
        target: '0',
      },
    ];
    const notes = `${SESSIONS} sessions (BEGIN; SELECT; UPDATE of the session's own rows; COMMIT, and 1 group in 50 a failing SELECT 1/0) over ${CONNECTIONS} connections, open loop (Poisson) at ${RATE} q/s for ${MINUTES} min, samples every ${SAMPLE_S} s. RSS peak per 5 min: ${peaks.map(([, v]) => v.toFixed(0)).join(' ')} MiB; all samples: ${rssSteady.map((v) => v.toFixed(0)).join(' ')} MiB; backends ${[...new Set(backends)].join('/')}.`;
    process.stdout.write(
      `${JSON.stringify({
        title: `stb bench soak: ${MINUTES} min open loop against PostgreSQL`,
        command: `SOAK_MINUTES=${MINUTES} SOAK_RATE=${RATE} npm run bench -- soak`,
        rows,
        notes,
      })}\n`,
    );
  } finally {
    await withClient(ADMIN, (c) =>
      c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`),
    ).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  log(`FAILED: ${err.stack ?? err}`);
  process.exitCode = 1;
});
