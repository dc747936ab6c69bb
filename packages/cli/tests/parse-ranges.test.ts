import {
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { LogInputOptions } from '../src/inputs';
import { traceText } from './trace-text';
import { planPgRanges } from '@stb/parser';
import { parseRangesOnThreads, type RangeTaken } from '../src/range-thread';
import { runStb, SAMPLES_DIR } from './helpers';

// `stb parse --workers n --ranges` on one PostgreSQL stderr log (issue 19): threads parse byte
// ranges of it, each alone, and the main thread checks each range against the state a one-thread
// parse has where it starts, renames the sessions the range could not name and has the range
// parsed again from that state when the check fails. Whatever the ranges, the trace and the
// summaries must be the one-thread parse's byte for byte. Ranges of a few hundred bytes put range
// ends between every kind of line: inside transactions, between a statement and its duration,
// before a session's first statement, next to connections and errors. The range threads are the
// built `dist/range-worker.cjs`: build the CLI first.

const GEN = path.resolve(__dirname, '../../parser/tests/fixtures/generated');

/** Every PostgreSQL stderr log of the repository (gzip: unpacked first, ranges need a file). */
const LOGS = [
  ...[
    'pg-tpcb-simple-logstatement',
    'pg-tpcb-simple-logduration',
    'pg-tpcb-prepared-logduration',
    'pg-tpcb-extended-logstatement',
    'pg-webapp-logstatement',
  ].map((d) => path.join(SAMPLES_DIR, d, 'postgresql.log.gz')),
  path.join(GEN, 'pg-logstatement-duration', 'postgresql.log.gz'),
  path.join(GEN, 'pg-mindur-rds', 'postgresql.log.gz'),
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'stb-parse-ranges-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** The trace and summaries of `file` parsed with `extra` (see {@link traceText}). */
function trace(file: string, extra: Partial<LogInputOptions>): Promise<string> {
  return traceText(path.join(dir, `t${n++}.jsonl`), [file], extra);
}

/** `gz` unpacked into the test's directory. */
function unpacked(gz: string): string {
  const file = path.join(
    dir,
    `${path.basename(path.dirname(gz))}-${path.basename(gz, '.gz')}`,
  );
  writeFileSync(file, gunzipSync(readFileSync(gz)));
  return file;
}

/** Why ranges parsed alone were parsed again, over the whole suite (threads only). */
const again = new Map<string, number>();
/** Ranges of 64 KiB parsed alone: how many were exact (`alone`) and parsed again (threads only). */
const large = { alone: 0, again: 0 };

describe('stb parse --workers --ranges on a PostgreSQL stderr log: the one-thread trace', () => {
  it.each(LOGS.map((f) => [`${path.basename(path.dirname(f))}`, f] as const))(
    '%s: ranges of 300 B, 4 KiB and 64 KiB, one and two range threads',
    async (_name, gz) => {
      const file = unpacked(gz);
      const size = statSync(file).size;
      const seq = await trace(file, {});
      expect(seq).toMatch(/"kind":"event"/);
      // `mainParses: false`: every range is parsed alone by a range thread first, so which
      // ranges are parsed again depends on the log only. By default the main thread parses the
      // ranges no thread has started, from the exact state: that depends on the timing.
      for (const [rangeBytes, workers, mainParses] of [
        [300, 1, false],
        [4096, 2, true],
        [65_536, 2, false],
        [65_536, 1, true],
      ] as const) {
        const ranges: RangeTaken[] = [];
        const got = await trace(file, {
          workers,
          ranges: true,
          encodeEvents: true,
          rangeBytes,
          mainParses,
          onRange: (i, how, why) => {
            ranges[i] = how;
            if (mainParses) return;
            if (why !== undefined) {
              const k = why.replace(/session \S+ /, 'session … ');
              again.set(k, (again.get(k) ?? 0) + 1);
            }
            if (rangeBytes === 65_536)
              large[how === 'alone' ? 'alone' : 'again']++;
          },
        });
        expect(got).toBe(seq);
        // Parsed in ranges when the log holds two of them (else one thread parses it).
        const count = size >= 2 * rangeBytes ? Math.ceil(size / rangeBytes) : 0;
        expect(ranges.filter((h) => h !== undefined).length).toBe(count);
        if (!mainParses) expect(ranges).not.toContain('here');
      }
    },
    120_000,
  );

  it('parsed most ranges of 64 KiB alone, and parsed ranges again for every reason met', () => {
    expect(large.alone).toBeGreaterThan(10 * large.again);
    // Small ranges end with sessions open, before connection lines, inside a prelude of parse
    // and bind lines: the checks that send a range back all ran.
    expect([...again.keys()].sort()).toEqual(
      expect.arrayContaining([
        'session … has its first event in the range',
        'session … is still open',
        'session … starts with another line',
      ]),
    );
  });
});

/**
 * A PostgreSQL stderr log with what crosses range ends least simply, written by a seeded
 * generator in the shape PostgreSQL logs (`%m [%p] %q%u@%d/%a `): sessions that connect,
 * disconnect and reconnect with the same pid; `log_statement` statements with their `duration:`
 * lines later (other sessions' lines between); extended-protocol parse, bind and execute lines with
 * `DETAIL: parameters`; ERRORs with and without their STATEMENT; multi-line statements; a session
 * idle in a transaction while more than 10 000 other statements are logged (the processor forces
 * its statement out, and its late `duration:` is reported alone); lines that are not the log's
 * (early on only, so that the later ranges are checked); a last line cut.
 */
function edgeLog(): string {
  let seed = 19;
  const rnd = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  let ms = Date.UTC(2026, 11, 6, 5, 0, 0);
  const lines: string[] = [];
  const at = (): string => {
    ms += 1;
    return new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
  };
  const log = (pid: number, rest: string, who = 'app@shop/web'): void => {
    lines.push(`${at()} [${pid}] ${who} ${rest}`);
  };
  const connect = (pid: number): void => {
    log(
      pid,
      `LOG:  connection received: host=127.0.0.1 port=${40_000 + pid}`,
      '[unknown]@[unknown]/[unknown]',
    );
    log(
      pid,
      'LOG:  connection authorized: user=app database=shop application_name=web',
      'app@shop/[unknown]',
    );
  };
  const pids = [101, 102, 103, 104, 105, 106];
  for (const p of pids) connect(p);
  connect(200);
  log(200, 'LOG:  statement: BEGIN');
  log(200, 'LOG:  statement: SELECT * FROM orders WHERE id = 1 FOR UPDATE');
  /** Sessions whose last statement waits for its `duration:` line. */
  const waiting: number[] = [];
  for (let i = 0; i < 14_000; i++) {
    const pid = pids[Math.floor(rnd() * pids.length)] as number;
    const r = rnd();
    if (waiting.length > 0 && rnd() < 0.3)
      log(
        waiting.shift() as number,
        `LOG:  duration: ${(rnd() * 3).toFixed(3)} ms`,
      );
    if (r < 0.4) {
      log(
        pid,
        `LOG:  statement: UPDATE items SET n = n + ${i % 97} WHERE id = ${i % 13}`,
      );
      if (!waiting.includes(pid) && rnd() < 0.5) waiting.push(pid);
    } else if (r < 0.6) {
      log(
        pid,
        `LOG:  duration: 0.0${i % 10}1 ms  parse <unnamed>: SELECT * FROM items WHERE id = $1`,
      );
      log(
        pid,
        `LOG:  duration: 0.0${i % 10}2 ms  bind <unnamed>: SELECT * FROM items WHERE id = $1`,
      );
      log(pid, `DETAIL:  parameters: $1 = '${i % 50}'`);
      log(pid, `LOG:  execute <unnamed>: SELECT * FROM items WHERE id = $1`);
      log(pid, `DETAIL:  parameters: $1 = '${i % 50}'`);
    } else if (r < 0.7) {
      log(pid, `LOG:  statement: SELECT name,`);
      lines.push(`\t       price`);
      lines.push(`\tFROM items WHERE id = ${i % 7}`);
    } else if (r < 0.75) {
      log(pid, `LOG:  statement: SELECT missing_${i % 3} FROM items`);
      log(
        pid,
        `ERROR:  column "missing_${i % 3}" does not exist at character 8`,
      );
      if (rnd() < 0.7)
        log(pid, `STATEMENT:  SELECT missing_${i % 3} FROM items`);
    } else if (r < 0.77) {
      log(
        pid,
        `LOG:  disconnection: session time: 0:00:01.000 user=app database=shop host=127.0.0.1 port=${40_000 + pid}`,
      );
      const w = waiting.indexOf(pid);
      if (w !== -1) waiting.splice(w, 1);
      connect(pid);
    } else if (r < 0.775 && i < 2000) {
      lines.push(`garbage that is not a log line ${i}`);
    } else {
      log(
        pid,
        `LOG:  statement: SELECT count(*) FROM orders WHERE shop = ${i % 11}`,
      );
    }
    if (i === 10_500) log(200, 'LOG:  duration: 9000.123 ms');
    if (i === 10_800) log(200, 'LOG:  statement: COMMIT');
  }
  return `${lines.join('\n')}\n${at()} [101] app@shop/web LOG:  statement: SELECT 'cut`;
}

describe('stb parse --workers --ranges: a log made to cross range ends badly', () => {
  it('gives the one-thread trace with ranges of 4 KiB, 64 KiB and a third of it', async () => {
    const file = path.join(dir, 'edge.log');
    writeFileSync(file, edgeLog());
    const seq = await trace(file, {});
    expect(seq).toMatch(/"kind":"event"/);
    // The log's own cases are in the one-thread summary.
    for (const kind of [
      'duration-only',
      'invalid',
      'truncated',
      'error',
      'parse',
      'bind',
    ])
      expect(seq).toMatch(new RegExp(`"${kind}":\\d+`));
    // Ranges of about 600 kB: the idle session's statement waits at the end of the first, behind
    // thousands of others, and its `duration:` comes after the processor forced it out.
    const third = Math.floor(statSync(file).size / 2.5);
    for (const [rangeBytes, workers, mainParses] of [
      [4096, 1, false],
      [4096, 2, true],
      [65_536, 2, false],
      [65_536, 1, true],
      [third, 1, false],
    ] as const)
      expect(
        await trace(file, {
          workers,
          ranges: true,
          encodeEvents: true,
          rangeBytes,
          mainParses,
        }),
      ).toBe(seq);
  }, 120_000);
});

describe('the stb binary with --ranges', () => {
  it('writes the one-thread trace, warns when the input cannot be split, refuses no workers', async () => {
    const gz = path.join(
      SAMPLES_DIR,
      'pg-tpcb-simple-logstatement',
      'postgresql.log.gz',
    );
    const file = unpacked(gz);
    const run = async (input: string, args: string[]) => {
      const out = path.join(dir, `bin${n++}.jsonl`);
      const r = await runStb(['parse', '-i', input, '-o', out, ...args]);
      const text = r.code === 0 ? readFileSync(out, 'utf8') : '';
      return { ...r, trace: text.split('\n').slice(1).join('\n') };
    };
    const seq = await run(file, ['--quiet']);
    expect(seq.code).toBe(0);
    // The sample is 1 MB: ranges of the default 8 MiB need a larger log, so the CLI test sees
    // the warning; the library tests above take the ranges themselves.
    const small = await run(file, ['-w', '1', '--ranges']);
    expect(small.code).toBe(0);
    expect(small.stderr).toMatch(
      /^\[stb\] \[cli\] `--ranges`: parsing with the default split instead/m,
    );
    expect(small.trace).toBe(seq.trace);
    const none = await run(file, ['--ranges']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /`--ranges` parses on worker threads: give `--workers 1` or more/,
    );
  }, 60_000);
});

describe('stb parse --workers --ranges: what names a line', () => {
  it('raises the one-thread error, with its line, for invalid UTF-8 in a later range', async () => {
    const text = readFileSync(
      unpacked(
        path.join(
          SAMPLES_DIR,
          'pg-tpcb-simple-logstatement',
          'postgresql.log.gz',
        ),
      ),
    );
    // A statement line with a byte that is not UTF-8, about two thirds into the log.
    const at = text.indexOf('\n', Math.floor(text.length * 0.66)) + 1;
    const line = text.subarray(at, text.indexOf('\n', at) + 1).toString();
    // U+FFFD is EF BF BD in UTF-8: FF BF BD is not UTF-8.
    const bad = Buffer.from(
      line.replace(/statement: .*/, "statement: SELECT 'caf\uFFFD'"),
    );
    bad[bad.indexOf(0xef)] = 0xff;
    const file = path.join(dir, 'bad-utf8.log');
    writeFileSync(
      file,
      Buffer.concat([text.subarray(0, at), bad, text.subarray(at)]),
    );
    const seq = await trace(file, {});
    expect(seq).toMatch(/^error STB_INPUT_ENCODING .*bad-utf8\.log:\d+:/);
    for (const mainParses of [false, true])
      expect(
        await trace(file, {
          workers: 1,
          ranges: true,
          encodeEvents: true,
          rangeBytes: 65_536,
          mainParses,
        }),
      ).toBe(seq);
  }, 60_000);
});

describe('stb parse --ranges on a log that changes while it is parsed', () => {
  // The ranges after the first are read once the main thread has taken range 0 (at most 3 ahead
  // per thread): the log is rotated away, or cut in place, right then.
  const rotated = (
    file: string,
    change: (file: string) => void,
  ): Promise<string> => {
    let changed = false;
    return trace(file, {
      workers: 1,
      ranges: true,
      encodeEvents: true,
      rangeBytes: 65_536,
      mainParses: false,
      onRange: () => {
        if (changed) return;
        changed = true;
        change(file);
      },
    });
  };
  const log = (): string =>
    unpacked(
      path.join(
        SAMPLES_DIR,
        'pg-tpcb-simple-logstatement',
        'postgresql.log.gz',
      ),
    );

  it('parses the log it opened when the log is renamed and replaced (rotated)', async () => {
    const file = log();
    const seq = await trace(file, {});
    const got = await rotated(file, (f) => {
      renameSync(f, `${f}.1`);
      writeFileSync(f, readFileSync(`${f}.1`).subarray(0, 5000));
    });
    expect(got).toBe(seq);
  }, 60_000);

  it('fails, naming the file, when another log took its name between the plan and the parse', async () => {
    const file = log();
    const parse = { onInvalid: 'collect' as const };
    const plan = await planPgRanges([file], { ...parse, minBytes: 131_072 });
    expect(plan?.identity).toBeDefined();
    // rotated right after the plan: a longer log of the same kind now has the name
    renameSync(file, `${file}.1`);
    const other = unpacked(
      path.join(SAMPLES_DIR, 'pg-tpcb-simple-logduration', 'postgresql.log.gz'),
    );
    writeFileSync(
      file,
      Buffer.concat([readFileSync(other), readFileSync(`${file}.1`)]),
    );
    const run = parseRangesOnThreads({
      plan: plan as NonNullable<typeof plan>,
      options: parse,
      threads: 1,
      rangeBytes: 65_536,
      signal: new AbortController().signal,
    });
    const drained = async (): Promise<number> => {
      let batches = 0;
      for await (const _ of run) batches++;
      return batches;
    };
    await expect(drained()).rejects.toMatchObject({
      code: 'STB_INPUT_UNREADABLE',
      message: expect.stringMatching(
        /^\[stb\] \[parser\] `[^`]*postgresql\.log` changed while it was parsed in byte ranges: another file has its name/,
      ),
    });
  }, 60_000);

  it('fails, naming the file, when the log is cut short in place', async () => {
    const file = log();
    const got = await rotated(file, (f) => truncateSync(f, 200_000));
    expect(got).toMatch(
      /^error STB_INPUT_UNREADABLE \[stb\] \[parser\] `[^`]*postgresql\.log` changed while it was parsed in byte ranges/,
    );
  }, 60_000);
});
