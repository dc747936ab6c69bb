/**
 * CSV exports of managed-service logs (Azure Log Analytics results, CloudWatch Logs Insights
 * results): RFC 4180 records whose quoted fields may span lines, keyed by the header row.
 * @internal
 */
import type { InputLine } from '@stb/core';
import type { LogFormatContext } from '../log-format';
import { JsonRecordScanner, sampleJsonRecords } from './json-records';
import type { JsonRecord } from './json-records';

/** Splits one CSV record (RFC 4180, `""` escapes) into fields; undefined while a quote is open. @internal */
export function splitCsv(text: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    if (text.charCodeAt(i) === 34) {
      let v = '';
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q === -1) return undefined;
        v += text.slice(j, q);
        if (text.charCodeAt(q + 1) === 34) {
          v += '"';
          j = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(v);
    } else {
      const c = text.indexOf(',', i);
      out.push(text.slice(i, c === -1 ? n : c));
      i = c === -1 ? n : c;
    }
    if (i >= n) return out;
    if (text.charCodeAt(i) !== 44) return undefined;
    i++;
    if (i === n) {
      out.push('');
      return out;
    }
  }
}

/** Turns CSV lines into records keyed by the header (quoted fields may span lines). */
export class CsvRecords {
  header: string[] | undefined;
  private pending: string[] = [];
  private pendingLine = 0;

  private quotes = 0;

  push(
    text: string,
    line: number,
  ):
    | { value?: Record<string, string>; error?: string; line: number }
    | undefined {
    if (this.pending.length === 0) {
      this.pendingLine = line;
      this.quotes = 0;
    }
    this.pending.push(text);
    for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1))
      this.quotes++;
    if ((this.quotes & 1) === 1) {
      // A quoted field is still open: the record continues on the next line.
      if (this.pending.length < 100_000) return undefined;
      this.pending = [];
      return {
        error: 'quoted CSV field left open for 100 000 lines',
        line: this.pendingLine,
      };
    }
    const fields = splitCsv(this.pending.join('\n'));
    if (fields === undefined) {
      this.pending = [];
      return { error: 'malformed CSV record', line: this.pendingLine };
    }
    this.pending = [];
    if (!this.header) {
      this.header = fields;
      return { line: this.pendingLine };
    }
    if (fields.length !== this.header.length)
      return {
        error: `CSV record with ${fields.length} fields, the header has ${this.header.length}`,
        line: this.pendingLine,
      };
    const value: Record<string, string> = {};
    this.header.forEach((h, i) => {
      value[h] = fields[i] as string;
    });
    return { value, line: this.pendingLine };
  }

  end(): { error: string; line: number } | undefined {
    if (this.pending.length === 0) return undefined;
    this.pending = [];
    return {
      error: 'CSV record cut at the end of input',
      line: this.pendingLine,
    };
  }
}

/** One envelope record (a JSON object or a CSV row keyed by the header), the CSV header row, or why the text at `line` is not a record. */
export interface EnvelopeRecord {
  readonly value?: Record<string, unknown>;
  readonly error?: string;
  readonly line: number;
}

/**
 * The records of a structured export, streamed: CSV when the first non-blank line is a CSV
 * header `isCsvHeader` accepts (a leading BOM removed), else JSON (lines, arrays, `{"records":
 * […]}` wrappers; {@link JsonRecordScanner}). Blank lines are reported `blank`. The CSV header
 * row is yielded without `value` nor `error`. @internal
 */
export async function* envelopeRecords(
  lines: AsyncIterable<InputLine>,
  ctx: LogFormatContext,
  isCsvHeader: (text: string) => boolean,
): AsyncGenerator<EnvelopeRecord> {
  let mode: 'json' | 'csv' | undefined;
  const scanner = new JsonRecordScanner();
  const csv = new CsvRecords();
  const out: JsonRecord[] = [];
  for await (const { text, line } of lines) {
    if (mode === undefined) {
      if (text.trim() === '') {
        ctx.report('blank', line);
        continue;
      }
      mode = isCsvHeader(text.replace(/^\uFEFF/, '')) ? 'csv' : 'json';
    }
    if (mode === 'csv') {
      const r = csv.push(line === 1 ? text.replace(/^\uFEFF/, '') : text, line);
      if (r) yield r;
      continue;
    }
    if (text.trim() === '') {
      ctx.report('blank', line);
      continue;
    }
    scanner.push(text, line, out);
    yield* out;
    out.length = 0;
  }
  const end = csv.end();
  if (end) yield end;
  scanner.end(out);
  yield* out;
}

/**
 * The values of {@link envelopeRecords}: a broken record is reported `invalid` with its reason
 * and the CSV header row `header`, so a format's unwrap sees records only. @internal
 */
export async function* envelopeValues(
  lines: AsyncIterable<InputLine>,
  ctx: LogFormatContext,
  isCsvHeader: (text: string) => boolean,
): AsyncGenerator<{
  readonly value: Record<string, unknown>;
  readonly line: number;
}> {
  for await (const r of envelopeRecords(lines, ctx, isCsvHeader)) {
    if (r.error !== undefined) ctx.report('invalid', r.line, r.error);
    else if (r.value === undefined) ctx.report('header', r.line);
    else yield { value: r.value, line: r.line };
  }
}

/**
 * The complete records of sample lines (detection), CSV or JSON as {@link envelopeRecords}
 * decides; `header` is the CSV header when there is one. @internal
 */
export function sampleEnvelopeRecords(
  sample: readonly string[],
  isCsvHeader: (text: string) => boolean,
): { records: Record<string, unknown>[]; tried: number; header?: string[] } {
  const start = sample.findIndex((l) => l.trim() !== '');
  if (start === -1) return { records: [], tried: 0 };
  const first = (sample[start] as string).replace(/^\uFEFF/, '');
  if (!isCsvHeader(first)) {
    const records = sampleJsonRecords(sample);
    return { records, tried: records.length };
  }
  const csv = new CsvRecords();
  const records: Record<string, unknown>[] = [];
  let tried = 0;
  for (let i = start; i < sample.length; i++) {
    const r = csv.push(i === start ? first : (sample[i] as string), i + 1);
    if (!r || (r.value === undefined && r.error === undefined)) continue;
    tried++;
    if (r.value) records.push(r.value);
  }
  return csv.header
    ? { records, tried, header: csv.header }
    : { records, tried };
}
