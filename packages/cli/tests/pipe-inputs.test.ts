/**
 * Inputs given as pipes (`<(zcat trace.jsonl.gz)`, a FIFO), on real processes run by bash:
 * `learn`, `generate`, `validate` and `inspect` peek at an input or read it twice, so a pipe is
 * copied to a file first (before: ESPIPE, exit 70); `bench` hashed its trace with a second reader
 * that took the first chunk from the run's (before: "not a trace"); and an interrupt while a pipe
 * has nothing to give ends the command at once (before: a read on the thread pool held the process
 * until the writer wrote, even after "Interrupted again: exiting now").
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI_PATH, PG_STATEMENT_LOG, runStb } from './helpers';

jest.setTimeout(120_000);

const LOG = PG_STATEMENT_LOG;
const root = mkdtempSync(path.join(os.tmpdir(), 'stb-pipes-'));
const trace = path.join(root, 'trace.jsonl');
const model = path.join(root, 'model.json');
const out = (name: string): string => path.join(root, name);

/** Runs `stb <args>` under bash, so `<(…)` in `args` is real process substitution. */
function viaBash(
  args: string,
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'bash',
      ['-c', `exec '${process.execPath}' '${CLI_PATH}' ${args}`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NO_COLOR: '1', TMPDIR: root },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * A model artifact's digest, without the moment it was fitted and the input's file name (`63`
 * for `/dev/fd/63`): what the fit learned.
 */
const fitted = (file: string): string =>
  createHash('sha256')
    .update(
      readFileSync(file, 'utf8')
        .replace(/"(createdAt|fittedAt)":\s*"[^"]*"/g, '')
        .replace(/"files":\[[^\]]*\]/g, ''),
    )
    .digest('hex');

/** The temporary copies left in TMPDIR (none may be). */
const copiesLeft = (): string[] =>
  readdirSync(root).filter((f) => f.startsWith('stb-input-'));

beforeAll(async () => {
  expect((await runStb(['parse', '-i', LOG, '-o', trace])).code).toBe(0);
  expect((await runStb(['learn', '-i', trace, '-o', model])).code).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a pipe as input', () => {
  it('learn: a trace or a log from a pipe gives the model the file gives', async () => {
    const a = await viaBash(
      `learn -i <(cat '${trace}') -o '${out('m-trace.json')}'`,
    );
    expect(a.stderr).not.toMatch(/ESPIPE|bug/);
    expect(a.code).toBe(0);
    const b = await viaBash(
      `learn -i <(zcat '${LOG}') -o '${out('m-log.json')}'`,
    );
    expect(b.code).toBe(0);
    expect(fitted(out('m-trace.json'))).toBe(fitted(model));
    expect(fitted(out('m-log.json'))).toBe(fitted(model));
    expect(copiesLeft()).toEqual([]);
  });

  it('learn: a trace on stdin is told from a log', async () => {
    const r = await viaBash(
      `learn -i - -o '${out('m-stdin.json')}' < '${trace}'`,
    );
    expect(r.code).toBe(0);
    expect(fitted(out('m-stdin.json'))).toBe(fitted(model));
  });

  it('generate, validate and inspect read pipes', async () => {
    const g = await viaBash(
      `generate -m markov -i <(cat '${trace}') -n 500 --seed 3 -o '${out('g.jsonl')}'`,
    );
    expect(g.code).toBe(0);
    const v = await viaBash(
      `validate --original <(cat '${trace}') --generated <(cat '${out('g.jsonl')}') --json-report '${out('v.json')}'`,
    );
    expect(v.code).toBe(0);
    const file = await runStb([
      'validate',
      '--original',
      trace,
      '--generated',
      out('g.jsonl'),
      '--json-report',
      out('v-file.json'),
    ]);
    expect(file.code).toBe(0);
    const score = (f: string): unknown =>
      (JSON.parse(readFileSync(f, 'utf8')) as { score: unknown }).score;
    expect(score(out('v.json'))).toEqual(score(out('v-file.json')));
    const i = await viaBash(`inspect <(cat '${model}')`);
    expect(i.code).toBe(0);
    expect(i.stdout).toMatch(/markov model \(postgres\)/);
    const t = await viaBash(`inspect <(cat '${trace}')`);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/8,405 statements in 5 sessions/);
    expect(copiesLeft()).toEqual([]);
  });

  it('bench: the run reads the whole trace from a pipe, and records no hash for it', async () => {
    const args = (input: string, o: string): string =>
      `bench -i ${input} --target sqlite::memory: --mode closed --max-queries 400 --no-metrics -o '${o}'`;
    const p = await viaBash(args(`<(cat '${trace}')`, out('b-pipe.json')));
    expect(p.stderr).not.toMatch(/not a trace/);
    expect(p.code).toBe(0);
    const f = await viaBash(args(`'${trace}'`, out('b-file.json')));
    expect(f.code).toBe(0);
    type R = {
      overall: { count: number };
      context: { trace?: { hash?: string } };
    };
    const pr = JSON.parse(readFileSync(out('b-pipe.json'), 'utf8')) as R;
    const fr = JSON.parse(readFileSync(out('b-file.json'), 'utf8')) as R;
    expect(pr.overall.count).toBe(400);
    expect(fr.overall.count).toBe(400);
    expect(pr.context.trace?.hash).toBeUndefined();
    expect(fr.context.trace?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['parse', (o: string) => `parse -i <(exec sleep 60) -o '${o}'`],
    ['learn', (o: string) => `learn -i <(exec sleep 60) -o '${o}'`],
    [
      'bench',
      (o: string) =>
        `bench -i <(exec sleep 60) --target sqlite::memory: --no-metrics -o '${o}'`,
    ],
  ])(
    '%s: an interrupt while the pipe has nothing to give ends it at once (exit 130, no output)',
    async (_name, args) => {
      const o = out(`${_name}-interrupted.out`);
      const child = spawn(
        'bash',
        ['-c', `exec '${process.execPath}' '${CLI_PATH}' ${args(o)}`],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
          env: { ...process.env, NO_COLOR: '1', TMPDIR: root },
        },
      );
      let stderr = '';
      child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
      // 'exit', not 'close': the pipe's writer (`sleep 60`) holds stderr open after stb exits
      const exited = new Promise<number | null>((r) =>
        child.on('exit', (code) => r(code)),
      );
      // under way: the process holds the pipe open (its descriptor points at a pipe)
      const pid = child.pid ?? 0;
      for (let i = 0; i < 400; i++) {
        const fds = existsSync(`/proc/${pid}/fd`)
          ? readdirSync(`/proc/${pid}/fd`)
          : [];
        if (fds.length > 0 && stderr === '' && i > 20) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      await new Promise((r) => setTimeout(r, 500));
      const t0 = Date.now();
      child.kill('SIGINT');
      const code = await exited;
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(code).toBe(130);
      // at 'exit' the last of stderr may still be in the pipe: read on for at most a second
      for (let i = 0; i < 40 && !/^\[stb\] Interrupted/m.test(stderr); i++)
        await new Promise((r) => setTimeout(r, 25));
      expect(stderr).toMatch(/^\[stb\] Interrupted/m);
      expect(existsSync(o)).toBe(false);
      expect(copiesLeft()).toEqual([]);
    },
  );
});
