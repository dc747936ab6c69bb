import { parsePluginOptions } from '@stb/core';
import type { InputLine, RawQueryEvent } from '@stb/core';
import type { AnyLogFormat } from '../detect';
import { rankLogFormats } from '../detect';
import type { LogFormatContext } from '../log-format';
import { peekLines } from './lines';

/**
 * Shared machinery of the managed-service formats: an envelope (Cloud Logging JSON, CloudWatch,
 * Azure diagnostics, syslog frames, table dumps) is unwrapped into the server's own log lines,
 * numbered by the envelope line they came from, and those lines are parsed by the plain format
 * (postgres-stderr, mysql-general, mysql-slow). The events are therefore exactly the plain
 * format's, and every report names the envelope's file and line.
 * @internal
 */

/** Lines of the inner log read to choose the inner format. */
const INNER_DETECT_LINES = 1000;

/** Which inner format parses the unwrapped lines. */
export interface InnerChoice {
  /** Candidates, ranked by their `detect` on the first unwrapped lines. */
  readonly candidates: readonly AnyLogFormat[];
  /** Options per candidate name (validated by that plugin's schema). */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Picks the inner format for sample lines of the unwrapped log (the best, even below 0.3). */
export function pickInner(
  sample: readonly string[],
  choice: InnerChoice,
): { format: AnyLogFormat; confidence: number } {
  const ranked = rankLogFormats(sample, choice.candidates);
  const best = ranked[0];
  if (best) return { format: best.format, confidence: best.confidence };
  return { format: choice.candidates[0] as AnyLogFormat, confidence: 0 };
}

/** Parses unwrapped lines with the inner format chosen on their first lines. */
export async function* parseInner(
  inner: AsyncIterable<InputLine>,
  choiceOrFn: InnerChoice | ((sample: readonly string[]) => InnerChoice),
  ctx: LogFormatContext,
): AsyncGenerator<RawQueryEvent> {
  const peek = await peekLines(inner, INNER_DETECT_LINES);
  if (peek.head.length === 0) {
    // Drain (reports of the envelope reader still happen) and stop.
    for await (const _ of peek.all) void _;
    return;
  }
  const sample = peek.head.map((l) => l.text);
  const choice =
    typeof choiceOrFn === 'function' ? choiceOrFn(sample) : choiceOrFn;
  const { format } = pickInner(sample, choice);
  const options = parsePluginOptions(
    format,
    choice.options?.[format.name] ?? {},
  );
  yield* format.parse(peek.all, options, ctx);
}

/**
 * The confidence of an envelope format on a sample: the share of envelope records recognised,
 * times the best inner format's confidence on the unwrapped lines.
 */
export function envelopeConfidence(
  records: { readonly recognised: number; readonly tried: number },
  innerSample: readonly string[],
  choice: InnerChoice,
): number {
  const { recognised, tried } = records;
  if (tried === 0 || recognised === 0 || innerSample.length === 0) return 0;
  const share = recognised / tried;
  const { confidence } = pickInner(innerSample, choice);
  // An envelope is more specific than any plain format: scale into (0.5, 1] when both match.
  if (confidence < 0.3) return Math.min(0.29, share * 0.29);
  return Math.min(1, share * (0.6 + 0.4 * confidence));
}

/** Splits a payload holding a whole multi-line entry into lines. */
export function payloadLines(text: string): string[] {
  const lines = text.split('\n');
  // Exports keep the trailing newline of the server's line: drop the empty tail.
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
  }
  return lines;
}

/** `2020-04-08T21:32:23.456622Z` (any ISO-8601 form `Date` reads) → epoch µs, NaN if unreadable. */
export function isoToUs(text: string): number {
  const m =
    /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?$/.exec(
      text.trim(),
    );
  if (!m) return NaN;
  const zone = m[4] ?? 'Z';
  const ms = Date.parse(`${m[1] as string}T${m[2] as string}${zone}`);
  if (Number.isNaN(ms)) return NaN;
  const frac = (m[3] ?? '').padEnd(6, '0').slice(0, 6);
  return ms * 1000 + Number(frac);
}

/** Epoch µs → PostgreSQL's `%m` form in UTC (`2020-04-08 21:32:23.456 UTC`). */
export function pgMillisUtc(us: number): string {
  const iso = new Date(Math.floor(us / 1000)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)} UTC`;
}
