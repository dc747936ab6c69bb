import { promises as fsp } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { StbError } from '../errors';
import { isPipeStat } from './input';
import { traceFormatOf } from './trace-format';

/** What an input file is: a trace, a model artifact, or anything else (a log to parse). */
export type InputKind = 'trace' | 'log' | 'model';

/** Bytes read (and gunzipped) to tell an input's kind. */
const HEAD_BYTES = 65536;

/**
 * Tells a model artifact, a trace and a raw log apart by their first bytes, never by the file
 * name: an artifact starts `{"format":"stb-model"`, a trace has its header record first (JSON
 * Lines, or the JSON document `{"header":{"kind":"header",…}`), or is a CSV trace (its first
 * line names the `sessionId` and `templateId` columns); anything else is a log. Leading
 * whitespace and a byte-order mark are ignored.
 * @example
 * classifyInputHead('{"kind":"header","version":1,…}\n'); // 'trace'
 */
export function classifyInputHead(head: string): InputKind {
  const text = head.replace(/^\uFEFF?\s*/, '');
  if (/^\{\s*"format"\s*:\s*"stb-model"/.test(text)) return 'model';
  const form = traceFormatOf(text, true);
  if (form === 'csv') return 'trace';
  if (form === 'jsonl')
    return /^\{\s*"kind"\s*:\s*"header"/.test(text) ? 'trace' : 'log';
  if (form === 'json')
    return /^\{\s*"header"\s*:\s*\{\s*"kind"\s*:\s*"header"/.test(text)
      ? 'trace'
      : 'log';
  return 'log';
}

/** The first bytes of a file, gunzipped when they start with the gzip magic (a cut stream is fine). */
async function readHead(file: string): Promise<string> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new StbError(
      code === 'ENOENT' ? 'STB_INPUT_NOT_FOUND' : 'STB_INPUT_UNREADABLE',
      `[stb] [core] Cannot read \`${file}\` (${code ?? 'error'}). Check the path.`,
      { cause: err, details: { file } },
    );
  }
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    let bytes = buf.subarray(0, bytesRead);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        bytes = gunzipSync(bytes, { finishFlush: 2 /* Z_SYNC_FLUSH */ });
      } catch {
        return '';
      }
    }
    return bytes.toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Reads the first 64 KB of a file (gunzipped) and tells its {@link InputKind}
 * ({@link classifyInputHead}). `-` (stdin) cannot be peeked at without consuming it and is
 * reported as a `log`; a pipe (a FIFO, `<(…)`) is refused: pass {@link materializeInput}'s copy.
 * @throws StbError `STB_INPUT_NOT_FOUND` / `STB_INPUT_UNREADABLE` naming the file.
 * @example
 * if ((await detectInputKind('app.log')) === 'log') parseLogs(['app.log']);
 */
export async function detectInputKind(file: string): Promise<InputKind> {
  if (file === '-') return 'log';
  const st = await fsp.stat(file).catch(() => null);
  if (st !== null && isPipeStat(st))
    throw new StbError(
      'STB_INPUT_UNREADABLE',
      `[stb] [core] \`${file}\` is a pipe: what it holds cannot be told without consuming it. Copy it to a file first (materializeInput).`,
      { details: { file } },
    );
  return classifyInputHead(await readHead(file));
}
