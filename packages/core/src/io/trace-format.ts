/** Trace file formats. */
export type TraceFileFormat = 'jsonl' | 'csv' | 'json';

/** Columns of the CSV trace form, in order. */
export const CSV_COLUMNS = [
  'time',
  'startUs',
  'sessionId',
  'templateId',
  'params',
  'durationUs',
  'outcome',
  'txn',
  'sql',
  'conn',
] as const;

/** True when the path ends in `.gz`. */
export function hasGzipSuffix(file: string): boolean {
  return /\.gz$/i.test(file);
}

/** The format a writer picks from a file name: `.csv`, `.json` (each optionally `.gz`), else JSONL. */
export function formatFromPath(file: string): TraceFileFormat {
  const base = file.replace(/\.gz$/i, '').toLowerCase();
  if (base.endsWith('.csv')) return 'csv';
  if (base.endsWith('.json')) return 'json';
  return 'jsonl';
}

/**
 * The sidecar of a CSV trace, holding its header and templates: `trace.csv` and `trace.csv.gz`
 * → `trace.templates.json`; any other name gets `.templates.json` appended.
 */
export function csvSidecarPath(csvPath: string): string {
  const base = csvPath.replace(/\.gz$/i, '');
  return /\.csv$/i.test(base)
    ? `${base.slice(0, -4)}.templates.json`
    : `${base}.templates.json`;
}

/** Epoch µs → ISO-8601 with microseconds (`2024-05-01T12:00:00.123456Z`). */
export function usToIso(us: number): string {
  const ms = Math.floor(us / 1000);
  const rest = us - ms * 1000;
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, -1)}${String(rest).padStart(3, '0')}Z`;
}

const ISO_FRACTION = /\.(\d+)(?=Z|[+-]\d\d:?\d\d$)/;

/** ISO-8601 (any fraction up to µs) → epoch µs; NaN when unparsable. */
export function isoToUs(iso: string): number {
  const m = ISO_FRACTION.exec(iso);
  const frac = m?.[1] ?? '';
  const whole = m ? iso.replace(ISO_FRACTION, '') : iso;
  const ms = Date.parse(whole);
  if (Number.isNaN(ms)) return NaN;
  const us = Number((frac + '000000').slice(0, 6));
  return ms * 1000 + us;
}

/**
 * The trace form of an input's first bytes: `jsonl` (the first line is a record with a `kind`),
 * `json` (any other document starting with `{`), `csv` (a first line naming `sessionId` and
 * `templateId`), `empty`, `unknown`; `undefined` when more bytes are needed (`final` false).
 */
export function traceFormatOf(
  text: string,
  final: boolean,
): TraceFileFormat | 'empty' | 'unknown' | undefined {
  const m = /^\uFEFF?\s*/.exec(text);
  const p = m ? m[0].length : 0;
  if (p >= text.length) return final ? 'empty' : undefined;
  if (text[p] === '{') {
    // JSON Lines: the first line is a complete record with a `kind`. Anything else starting
    // with `{` (pretty-printed or minified `{header,templates,events}`) is a JSON document.
    const nl = text.indexOf('\n', p);
    if (nl < 0 && !final) return undefined;
    try {
      const first: unknown = JSON.parse(text.slice(p, nl < 0 ? undefined : nl));
      return typeof first === 'object' && first !== null && 'kind' in first
        ? 'jsonl'
        : 'json';
    } catch {
      return /^\{\s*"kind"\s*:/.test(text.slice(p, p + 64)) ? 'jsonl' : 'json';
    }
  }
  const nl = text.indexOf('\n', p);
  if (nl < 0 && !final) return undefined;
  const firstLine = text.slice(p, nl < 0 ? undefined : nl);
  const cells = firstLine.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
  return cells.includes('sessionId') && cells.includes('templateId')
    ? 'csv'
    : 'unknown';
}
