// Pipes (`<(zcat trace.gz)`, a FIFO) as inputs: read on the event loop so an abort ends a read
// that waits for the writer, and copied to a file for what reads an input twice or peeks at it.
// Real FIFOs (mkfifo) with a real writer process.
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { isStbError } from '../errors';
import { detectInputKind } from './detect-input';
import { openInput } from './input';
import { materializeInput } from './pipe-input';

const dir = mkdtempSync(path.join(tmpdir(), 'stb-pipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const writers: ChildProcess[] = [];
afterEach(() => {
  for (const w of writers.splice(0)) w.kill('SIGKILL');
});

/** A FIFO in the test directory, and a writer process that runs `script` with it as stdout. */
function fifo(name: string, script: string): string {
  const p = path.join(dir, name);
  execFileSync('mkfifo', [p]);
  writers.push(
    spawn('sh', ['-c', `{ ${script}; } > '${p}'`], { stdio: 'ignore' }),
  );
  return p;
}

const body = Buffer.from(
  Array.from({ length: 20_000 }, (_, i) => `line ${String(i)}\n`).join(''),
);

describe('materializeInput', () => {
  it('returns a regular file (or a device) as it is, with nothing to remove', async () => {
    const f = path.join(dir, 'plain.txt');
    writeFileSync(f, body);
    const m = await materializeInput(f);
    expect(m).toMatchObject({ file: f, copied: false });
    await m.cleanup();
    expect(existsSync(f)).toBe(true);
    // a device too: its messages then name it, not a copy
    expect(await materializeInput('/dev/null')).toMatchObject({
      file: '/dev/null',
      copied: false,
    });
  });

  it('copies a pipe byte for byte (gzip stays gzip) under its own name, and cleanup removes it', async () => {
    const src = path.join(dir, 'src.gz');
    writeFileSync(src, gzipSync(body));
    const p = fifo('trace.jsonl.gz', `cat '${src}'`);
    const m = await materializeInput(p);
    expect(m.copied).toBe(true);
    expect(path.basename(m.file)).toBe('trace.jsonl.gz');
    expect(readFileSync(m.file).equals(readFileSync(src))).toBe(true);
    await m.cleanup();
    expect(existsSync(path.dirname(m.file))).toBe(false);
  });

  it('an abort while the pipe has nothing to give ends the copy at once and leaves no file', async () => {
    const p = fifo('slow.log', 'exec sleep 30');
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 300);
    const spool = path.join(dir, 'spool');
    mkdirSync(spool);
    await expect(
      materializeInput(p, { signal: ac.signal, tmpDir: spool }),
    ).rejects.toThrow(/abort/i);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(readdirSync(spool)).toEqual([]);
  });
});

describe('openInput on a pipe', () => {
  it('reads it whole, with no size', async () => {
    const p = fifo('whole.log', `printf '${'a'.repeat(100)}\\n'`);
    const input = await openInput(p);
    expect(input.sizeBytes).toBeUndefined();
    const chunks: Buffer[] = [];
    for await (const c of input.stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe(`${'a'.repeat(100)}\n`);
  });

  it('an abort ends a read that waits for the writer and lets go of the pipe at once', async () => {
    const p = fifo(
      'wait.log',
      `printf 'first\\n'; sleep 1; printf 'second\\n'`,
    );
    const writer = writers.at(-1) as ChildProcess;
    const writerExit = new Promise<NodeJS.Signals | number | null>((r) =>
      writer.once('exit', (code, signal) => r(signal ?? code)),
    );
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 300);
    const input = await openInput(p, { signal: ac.signal });
    expect(Date.now() - t0).toBeLessThan(300);
    await expect(
      (async () => {
        for await (const c of input.stream) void c;
      })(),
    ).rejects.toThrow(/abort/i);
    expect(Date.now() - t0).toBeLessThan(2000);
    // the reading end was closed at the abort: the writer's second line hits a pipe with no
    // reader (a read left waiting on the thread pool took it, and the writer exited 0)
    expect(await writerExit).toBe('SIGPIPE');
  });
});

it('detectInputKind refuses a pipe with a clear error instead of ESPIPE', async () => {
  const p = fifo('peek.jsonl', `printf '{}\\n'`);
  const err = await detectInputKind(p).catch((e: unknown) => e);
  expect(isStbError(err, 'STB_INPUT_UNREADABLE')).toBe(true);
  expect(String((err as Error).message)).toMatch(/is a pipe/);
});
