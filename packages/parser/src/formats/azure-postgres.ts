import { z } from 'zod';
import type { InputLine, RawQueryEvent } from '@stb/core';
import { defineLogFormat } from '../log-format';
import type { LogFormatContext } from '../log-format';
import {
  envelopeConfidence,
  parseInner,
  payloadLines,
} from '../internal/envelope';
import type { InnerChoice } from '../internal/envelope';
import {
  JsonRecordScanner,
  obj,
  sampleJsonRecords,
  str,
} from '../internal/json-records';
import type { JsonRecord } from '../internal/json-records';
import { postgresStderr } from './postgres-stderr';

const options = z
  .object({
    /** The server's `log_line_prefix` inside `Message` (detected when absent; Azure's default is `%t-%c-`). */
    prefix: z.string().min(1).optional(),
  })
  .strict();

/** Options of the `azure-postgres` format. */
export type AzurePostgresOptions = z.infer<typeof options>;

/** What one diagnostic record carries. */
interface AzureRecord {
  readonly message: string;
  readonly detail: string | undefined;
  readonly level: string | undefined;
}

const MESSAGE_KEYS = ['message', 'Message'];
const DETAIL_KEYS = ['detail', 'Detail', 'detail_s', 'Detail_s'];
const LEVEL_KEYS = ['errorLevel', 'errorLevel_s', 'ErrorLevel'];

function pick(
  o: Record<string, unknown>,
  keys: readonly string[],
): string | undefined {
  for (const k of keys) {
    const v = str(o[k]);
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

/**
 * A diagnostic-settings record (`properties.message`, storage/Event Hub exports) or a Log
 * Analytics row (`Message`, `detail_s`, `errorLevel_s`). @internal
 */
export function azureRecord(o: Record<string, unknown>): AzureRecord | string {
  const props = obj(o['properties']) ?? o;
  const message = pick(props, MESSAGE_KEYS);
  if (message === undefined)
    return 'record without `properties.message` or `Message`';
  const category = str(o['category']) ?? str(o['Category']);
  if (category !== undefined && !/^PostgreSQL/i.test(category))
    return `not a PostgreSQL log record (category \`${category}\`)`;
  if (
    category === undefined &&
    pick(props, LEVEL_KEYS) === undefined &&
    str(o['ResourceProvider']) === undefined
  )
    return 'not an Azure diagnostic record (no `category` nor `errorLevel`)';
  return {
    message,
    detail: pick(props, DETAIL_KEYS),
    level: pick(props, LEVEL_KEYS),
  };
}

const SEVERITY =
  /(LOG|ERROR|WARNING|NOTICE|INFO|DEBUG[1-5]?|FATAL|PANIC|STATEMENT|HINT|CONTEXT|QUERY): {2}/;

/**
 * The server log lines of one record; a separate `detail` (bind parameters, pgBadger #752/#757)
 * becomes the `DETAIL:` line that followed the message in the server's own log, with the same
 * prefix. @internal
 */
export function azureLines(r: AzureRecord): string[] {
  const lines = payloadLines(r.message);
  for (let i = 1; i < lines.length; i++)
    if (!(lines[i] as string).startsWith('\t'))
      lines[i] = `\t${lines[i] as string}`;
  if (r.detail === undefined) return lines;
  const first = lines[0] as string;
  const sev = r.level !== undefined ? first.indexOf(`${r.level}:  `) : -1;
  const at = sev >= 0 ? sev : (SEVERITY.exec(first)?.index ?? -1);
  const prefix = at >= 0 ? first.slice(0, at) : '';
  const detail = payloadLines(r.detail);
  lines.push(`${prefix}DETAIL:  ${detail[0] as string}`);
  for (let i = 1; i < detail.length; i++) {
    const l = detail[i] as string;
    lines.push(l.startsWith('\t') ? l : `\t${l}`);
  }
  return lines;
}

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

function isCsvHeader(text: string): string[] | undefined {
  if (!/(^|,)"?Message"?(,|$)/.test(text)) return undefined;
  return splitCsv(text);
}

const choice = (opts: AzurePostgresOptions): InnerChoice => ({
  candidates: [postgresStderr],
  options:
    opts.prefix === undefined
      ? {}
      : { 'postgres-stderr': { prefix: opts.prefix } },
});

/** Turns CSV lines into records keyed by the header (quoted fields may span lines). */
class CsvRecords {
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

async function* unwrap(
  lines: AsyncIterable<InputLine>,
  ctx: LogFormatContext,
): AsyncGenerator<InputLine> {
  let mode: 'json' | 'csv' | undefined;
  const scanner = new JsonRecordScanner();
  const csv = new CsvRecords();
  const out: JsonRecord[] = [];
  const handle = function* (r: {
    value?: Record<string, unknown>;
    error?: string;
    line: number;
  }): Generator<InputLine> {
    if (r.error !== undefined) {
      ctx.report('invalid', r.line, r.error);
      return;
    }
    if (r.value === undefined) {
      ctx.report('header', r.line);
      return;
    }
    const rec = azureRecord(r.value);
    if (typeof rec === 'string') {
      ctx.report('invalid', r.line, rec);
      return;
    }
    for (const text of azureLines(rec)) yield { text, line: r.line };
  };
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
      if (r) yield* handle(r);
      continue;
    }
    if (text.trim() === '') {
      ctx.report('blank', line);
      continue;
    }
    scanner.push(text, line, out);
    for (const r of out) yield* handle(r);
    out.length = 0;
  }
  const end = csv.end();
  if (end) yield* handle(end);
  scanner.end(out);
  for (const r of out) yield* handle(r);
}

/**
 * Azure Database for PostgreSQL (flexible server) logs: diagnostic-settings exports (JSON lines,
 * `{"records": […]}`), Log Analytics JSON, and Log Analytics results exported as CSV from the
 * portal. `Message` holds the server's line; a separate `detail` is merged back as its DETAIL.
 */
export const azurePostgres = defineLogFormat<AzurePostgresOptions>({
  kind: 'log-format',
  name: 'azure-postgres',
  apiVersion: 1,
  dialect: 'postgres',
  description:
    'Azure Database for PostgreSQL flexible server logs: diagnostic settings JSON, Log Analytics JSON or portal CSV.',
  options,
  timeResolutionUs: 1000,
  detect(sample) {
    const first = sample.find((l) => l.trim() !== '')?.replace(/^\uFEFF/, '');
    if (first === undefined) return 0;
    const inner: string[] = [];
    let ok = 0;
    let tried = 0;
    if (isCsvHeader(first)) {
      const csv = new CsvRecords();
      const start = sample.findIndex((l) => l.trim() !== '');
      for (let i = start; i < sample.length; i++) {
        const r = csv.push(i === start ? first : (sample[i] as string), i + 1);
        if (!r || r.value === undefined) continue;
        tried++;
        const rec = azureRecord(r.value);
        if (typeof rec === 'string') continue;
        ok++;
        inner.push(...azureLines(rec));
      }
      if (csv.header && !csv.header.some((h) => /^TimeGenerated/.test(h)))
        return 0;
    } else {
      const records = sampleJsonRecords(sample);
      tried = records.length;
      for (const r of records) {
        const rec = azureRecord(r);
        if (typeof rec === 'string') continue;
        ok++;
        inner.push(...azureLines(rec));
      }
    }
    return envelopeConfidence({ recognised: ok, tried }, inner, choice({}));
  },
  parse(lines, opts, ctx): AsyncIterable<RawQueryEvent> {
    return parseInner(unwrap(lines, ctx), choice(opts), ctx);
  },
});
