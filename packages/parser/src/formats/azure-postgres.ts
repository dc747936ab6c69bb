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
import { obj, str } from '../internal/json-records';
import {
  envelopeValues,
  sampleEnvelopeRecords,
  splitCsv,
} from '../internal/csv-records';
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

function isCsvHeader(text: string): boolean {
  return /(^|,)"?Message"?(,|$)/.test(text) && splitCsv(text) !== undefined;
}

const choice = (opts: AzurePostgresOptions): InnerChoice => ({
  candidates: [postgresStderr],
  options:
    opts.prefix === undefined
      ? {}
      : { 'postgres-stderr': { prefix: opts.prefix } },
});

async function* unwrap(
  lines: AsyncIterable<InputLine>,
  ctx: LogFormatContext,
): AsyncGenerator<InputLine> {
  for await (const r of envelopeValues(lines, ctx, isCsvHeader)) {
    const rec = azureRecord(r.value);
    if (typeof rec === 'string') {
      ctx.report('invalid', r.line, rec);
      continue;
    }
    for (const text of azureLines(rec)) yield { text, line: r.line };
  }
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
    const { records, tried, header } = sampleEnvelopeRecords(
      sample,
      isCsvHeader,
    );
    if (header && !header.some((h) => h.startsWith('TimeGenerated'))) return 0;
    const inner: string[] = [];
    let ok = 0;
    for (const r of records) {
      const rec = azureRecord(r);
      if (typeof rec === 'string') continue;
      ok++;
      inner.push(...azureLines(rec));
    }
    return envelopeConfidence({ recognised: ok, tried }, inner, choice({}));
  },
  parse(lines, opts, ctx): AsyncIterable<RawQueryEvent> {
    return parseInner(unwrap(lines, ctx), choice(opts), ctx);
  },
});
