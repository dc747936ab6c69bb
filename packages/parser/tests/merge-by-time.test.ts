import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { RawQueryEvent } from '@stb/core';
import { parseLogBatches } from '../src/index';
import { SAMPLES, parseAll, scratchDir } from './helpers';

const { dir, file } = scratchDir('stb-parser-merge-');

// A real pgbench log (4 clients at once, 8 s): every line with its continuation lines.
const LOG = gunzipSync(
  readFileSync(
    path.join(SAMPLES, 'pg-tpcb-simple-logduration/postgresql.log.gz'),
  ),
).toString('utf8');
const ENTRY = /^(\S+ \S+ \S+) \[(\d+)\]/;

/** The log's entries (a line and its tab continuation lines). */
function entries(text: string): { time: string; pid: number; text: string }[] {
  const out: { time: string; pid: number; text: string }[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = ENTRY.exec(line);
    if (m) out.push({ time: m[1] as string, pid: Number(m[2]), text: line });
    else (out[out.length - 1] as { text: string }).text += '\n' + line;
  }
  return out;
}

const join = (es: { text: string }[]) => es.map((e) => e.text + '\n').join('');

/** The largest step back in time over a sequence of events (0 when never back). */
function largestStepBack(events: readonly RawQueryEvent[]): number {
  let max = -Infinity;
  let back = 0;
  for (const ev of events) {
    const t = ev.startUs as number;
    if (t < max) back = Math.max(back, max - t);
    max = Math.max(max, t);
  }
  return back;
}

/** Each file's own events (by the file index), in order: what the merge must keep. */
function perFile(events: readonly RawQueryEvent[], n: number): string[][] {
  const out: string[][] = Array.from({ length: n }, () => []);
  for (const ev of events)
    (out[ev.fileIndex as number] as string[]).push(
      `${ev.source?.line} ${ev.sql}`,
    );
  return out;
}

describe('several inputs are merged by time', () => {
  it('two logs of the same 8 s (the clients split by pid): the merge steps back no further than either file does', async () => {
    const all = entries(LOG);
    const a = file('even.log', join(all.filter((e) => e.pid % 2 === 0)));
    const b = file('odd.log', join(all.filter((e) => e.pid % 2 === 1)));
    const alone = [await parseAll(a), await parseAll(b)];
    expect(alone[0]?.events.length).toBeGreaterThan(1000);
    expect(alone[1]?.events.length).toBeGreaterThan(1000);
    const within = Math.max(...alone.map((r) => largestStepBack(r.events)));
    // One after the other, the second file would go back to the start: 8 s.
    expect(
      largestStepBack([
        ...(alone[0]?.events ?? []),
        ...(alone[1]?.events ?? []),
      ]),
    ).toBeGreaterThan(5_000_000);
    for (const inputs of [
      [a, b],
      [b, a],
    ]) {
      const merged = await parseAll(inputs);
      expect(largestStepBack(merged.events)).toBeLessThanOrEqual(within);
      const first = inputs[0] === a ? 0 : 1;
      expect(perFile(merged.events, 2)).toEqual([
        (alone[first]?.events ?? []).map((e) => `${e.source?.line} ${e.sql}`),
        (alone[1 - first]?.events ?? []).map(
          (e) => `${e.source?.line} ${e.sql}`,
        ),
      ]);
      // Sessions stay apart per input; the summary adds the files' up.
      expect(merged.summary.sessions).toBe(
        (alone[0]?.summary.sessions ?? 0) + (alone[1]?.summary.sessions ?? 0),
      );
      expect(merged.summary.files.map((f) => f.file)).toEqual(inputs);
      expect(merged.summary.complete).toBe(true);
    }
  });

  it('rotated logs given in any order come out in time order, each as parsed alone', async () => {
    const all = entries(LOG);
    const cut = all[Math.floor(all.length / 2)]?.time as string;
    const early = file('early.log', join(all.filter((e) => e.time < cut)));
    const late = file('late.log', join(all.filter((e) => e.time >= cut)));
    const e1 = (await parseAll(early)).events;
    const e2 = (await parseAll(late)).events;
    const merged = await parseAll([late, early]);
    expect(
      merged.events.map((e) => `${e.fileIndex} ${e.source?.line}`),
    ).toEqual([
      ...e1.map((e) => `1 ${e.source?.line}`),
      ...e2.map((e) => `0 ${e.source?.line}`),
    ]);
    expect(merged.summary.files.map((f) => [f.file, f.events])).toEqual([
      [late, e2.length],
      [early, e1.length],
    ]);
  });

  it('logs without times keep the order they were given in', async () => {
    const a = file('a.sql', 'SELECT 1;\nSELECT 2;\n');
    const b = file('b.sql', 'SELECT 3;\nSELECT 4;\n');
    const r = await parseAll([b, a]);
    expect(r.events.map((e) => e.sql)).toEqual([
      'SELECT 3',
      'SELECT 4',
      'SELECT 1',
      'SELECT 2',
    ]);
  });

  it('an input with no kept event is counted as parsed alone; every format is known before the first batch', async () => {
    const pg = file(
      'some.log',
      join(entries(LOG).filter((e) => e.pid % 2 === 0)),
    );
    const bad = file(
      'bad.log',
      `${entries(LOG)[0]?.text}\nnot a log line\nnor this one\n`,
    );
    const empty = file('empty.log', '');
    const options = { onInvalid: 'collect' as const };
    const alone = await parseAll(bad, options);
    expect(alone.events).toHaveLength(0);
    const progress: string[] = [];
    const run = parseLogBatches([pg, bad, empty], {
      ...options,
      onProgress: (p) => progress.push(p.file),
    });
    let formats: string[] | undefined;
    let n = 0;
    for await (const batch of run) {
      formats ??= run.summary().files.map((f) => f.format);
      n += batch.length;
    }
    expect(formats).toEqual(['postgres-stderr', 'postgres-stderr', 'none']);
    const s = run.summary();
    expect(s.events).toBe(n);
    expect(s.files[1]).toEqual({ ...alone.summary.files[0], fileIndex: 1 });
    expect(s.invalid).toEqual(alone.summary.invalid);
    expect(s.invalidLines).toBe(alone.summary.invalidLines);
    expect(s.skipped['invalid']).toBe(2);
    expect(s.linesRead).toBe(
      (s.files[0]?.linesRead ?? 0) + (alone.summary.linesRead ?? 0),
    );
    expect(progress).toContain(bad);
  });

  it('a bad input fails before any event of the others is given', async () => {
    const pg = file('ok.log', join(entries(LOG).slice(0, 200)));
    const run = parseLogBatches([pg, path.join(dir, 'missing.log')]);
    const got: RawQueryEvent[][] = [];
    await expect(
      (async () => {
        for await (const b of run) got.push(b);
      })(),
    ).rejects.toMatchObject({ code: 'STB_INPUT_NOT_FOUND' });
    expect(got).toHaveLength(0);
  });

  // Open files are counted in /proc (Linux).
  (existsSync('/proc/self/fd') ? it : it.skip)(
    'leaving a merge early or aborting it closes every open input',
    async () => {
      const all = entries(LOG);
      // Large enough that neither is read to its end (and closed) before the abort.
      const a = file(
        'abort-even.log',
        join(all.filter((e) => e.pid % 2 === 0)).repeat(20),
      );
      const b = file(
        'abort-odd.log',
        join(all.filter((e) => e.pid % 2 === 1)).repeat(20),
      );
      const openLogs = () =>
        readdirSync('/proc/self/fd').filter((fd) => {
          try {
            return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
          } catch {
            return false;
          }
        }).length;
      // Closing a file handle completes on a later turn of the event loop.
      const settled = () => new Promise((r) => setTimeout(r, 50));
      // Leaving the loop early (the iterator's return).
      let open = 0;
      let batches = 0;
      for await (const _ of parseLogBatches([a, b])) {
        open = Math.max(open, openLogs());
        if (++batches === 2) break;
      }
      expect(open).toBe(2);
      await settled();
      expect(openLogs()).toBe(0);
      // Aborting.
      const ac = new AbortController();
      const run = parseLogBatches([a, b], { signal: ac.signal });
      open = 0;
      batches = 0;
      await expect(
        (async () => {
          for await (const _ of run) {
            open = Math.max(open, openLogs());
            if (++batches === 2) ac.abort();
          }
        })(),
      ).rejects.toMatchObject({ code: 'STB_ABORTED' });
      expect(open).toBe(2);
      await settled();
      expect(openLogs()).toBe(0);
    },
  );
});
