import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isStbError } from '../errors';
import { collect } from '../streams';
import { Readable } from 'node:stream';
import { openInput, openStream, readLines, splitLineBatches } from './input';

const dir = mkdtempSync(join(tmpdir(), 'stb-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readLines', () => {
  it('reads plain and gzip files alike, with CRLF and a last line without newline', async () => {
    const text = 'a\r\nbé\n\nlast';
    writeFileSync(join(dir, 'p.txt'), text);
    writeFileSync(join(dir, 'g.bin'), gzipSync(text));
    for (const f of ['p.txt', 'g.bin']) {
      const lines = await collect(readLines(join(dir, f)));
      expect(lines).toEqual([
        { text: 'a', line: 1 },
        { text: 'bé', line: 2 },
        { text: '', line: 3 },
        { text: 'last', line: 4, unterminated: true },
      ]);
    }
    // a last line ended (LF or CRLF) is not unterminated
    for (const end of ['\n', '\r\n']) {
      writeFileSync(join(dir, 'e.txt'), `a\nlast${end}`);
      expect(await collect(readLines(join(dir, 'e.txt')))).toEqual([
        { text: 'a', line: 1 },
        { text: 'last', line: 2 },
      ]);
    }
  });

  it('keeps multi-byte characters split across chunks', async () => {
    const big = 'é'.repeat(3_000_000) + '\nx\n';
    writeFileSync(join(dir, 'big.txt'), big);
    const lines = await collect(readLines(join(dir, 'big.txt')));
    expect(lines[0]!.text.length).toBe(3_000_000);
    expect(lines[1]).toEqual({ text: 'x', line: 2 });
  });

  it('names the file for a missing input', async () => {
    await expect(
      collect(readLines(join(dir, 'nope.log'))),
    ).rejects.toMatchObject({
      code: 'STB_INPUT_NOT_FOUND',
    });
  });

  it('reports a truncated gzip with STB_GZIP_CORRUPT', async () => {
    const gz = gzipSync('line\n'.repeat(100_000));
    writeFileSync(
      join(dir, 'trunc.gz'),
      gz.subarray(0, Math.floor(gz.length / 2)),
    );
    const err = await collect(readLines(join(dir, 'trunc.gz'))).catch(
      (e: unknown) => e,
    );
    expect(isStbError(err, 'STB_GZIP_CORRUPT')).toBe(true);
    expect((err as Error).message).toContain('trunc.gz');
  });

  it('refuses over-long lines with their line number', async () => {
    writeFileSync(join(dir, 'long.txt'), 'ok\n' + 'x'.repeat(5000) + '\n');
    const err = await collect(
      readLines(join(dir, 'long.txt'), { maxLineLength: 1000 }),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STB_PARSE_LINE_TOO_LONG', line: 2 });
  });
});

describe('splitLineBatches', () => {
  it('gives every line once, in order, across 1 MiB read chunks', async () => {
    // Lines of varied length (some multi-byte, some CRLF) so chunk ends fall mid-line and
    // mid-character.
    const lines: string[] = [];
    for (let i = 0, n = 0; n < 3 << 20; i++) {
      const l = `${i} ${'é€x'.repeat(i % 97)}${i % 5 === 0 ? '\r' : ''}`;
      lines.push(l);
      n += l.length + 1;
    }
    const text = `${lines.join('\n')}\n`;
    const file = join(dir, 'many.txt');
    writeFileSync(file, text);
    const opened = await openInput(file);
    const batches = await collect(splitLineBatches(opened.stream, file));
    expect(batches.length).toBeGreaterThan(2);
    const flat = batches.flat();
    expect(flat.map((l) => l.text)).toEqual(
      lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)),
    );
    expect(flat.map((l) => l.line)).toEqual(lines.map((_, i) => i + 1));
  });
});

describe('splitLineBatches on any chunking', () => {
  /** The lines of `text` as the splitter gives them: `\n` ends a line, a `\r` before it goes. */
  const reference = (text: string): string[] => {
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  };

  it('gives the same lines whatever the chunk boundaries (CRLF split, long lines, no final newline)', async () => {
    const rng = (() => {
      let x = 12345;
      return (n: number): number => {
        x = (x * 1103515245 + 12345) % 2147483648;
        return x % n;
      };
    })();
    for (let round = 0; round < 40; round++) {
      let text = '';
      const lines = 1 + rng(30);
      for (let i = 0; i < lines; i++) {
        // empty lines, short ones, and some much longer than a chunk
        const len = rng(4) === 0 ? rng(5000) : rng(12);
        text += 'ab\rc€'.repeat(len).slice(0, len);
        text += ['\n', '\r\n', '\n'][rng(3)];
      }
      if (rng(2) === 0) text += rng(2) === 0 ? 'last' : 'last\r';
      const bytes = Buffer.from(text);
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length;) {
        const n = rng(5) === 0 ? 1 + rng(3000) : 1 + rng(7);
        chunks.push(bytes.subarray(at, at + n));
        at += n;
      }
      const opened = await openStream(Readable.from(chunks), 'mem');
      const got = (
        await collect(splitLineBatches(opened.stream, 'mem'))
      ).flat();
      expect(got.map((l) => l.text)).toEqual(reference(text));
      expect(got.map((l) => l.line)).toEqual(got.map((_, i) => i + 1));
    }
  });

  it('refuses a line longer than the limit while it is still growing, with its number', async () => {
    const chunks = [
      'a\nb\n',
      ...Array.from({ length: 50 }, () => 'x'.repeat(100)),
    ];
    const opened = await openStream(
      Readable.from(chunks.map((c) => Buffer.from(c))),
      'mem',
    );
    const err = await collect(
      splitLineBatches(opened.stream, 'mem', { maxLineLength: 1000 }),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STB_PARSE_LINE_TOO_LONG', line: 3 });
  });
});

describe('openStream', () => {
  it('keeps the data when the first read already reached the end of the stream', async () => {
    // Everything is buffered and the end is known before the first read: 'end' is emitted
    // before the peeked chunk could be pushed back (it used to be lost to `unshift`).
    for (const data of [Buffer.from('a\nb\n'), gzipSync('a\nb\n')]) {
      const ended = new Readable({ read() {} });
      ended.push(data);
      ended.push(null);
      let counted = 0;
      const opened = await openStream(ended, 'mem', {
        onBytes: (n) => {
          counted = n;
        },
      });
      const lines = await collect(splitLineBatches(opened.stream, 'mem'));
      expect(lines.flat().map((l) => l.text)).toEqual(['a', 'b']);
      expect(counted).toBe(data.length);
    }
  });
});
