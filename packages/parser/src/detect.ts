import { StbError } from '@stb/core';
import type { LogFormat } from './log-format';
import { builtinLogFormats } from './formats/builtin';

/** A plugin of any option type (the host validates options with the plugin's own schema). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyLogFormat = LogFormat<any>;

/** One candidate of {@link detectLogFormat}. */
export interface LogFormatCandidate {
  /** Plugin name. */
  name: string;
  /** 0..1. */
  confidence: number;
  format: AnyLogFormat;
}

/** Confidence below which a format is not taken. */
export const MIN_DETECT_CONFIDENCE = 0.3;

/** Ranks formats by their `detect` confidence on sample lines (no threshold, no error). @internal */
export function rankLogFormats(
  sample: readonly string[],
  formats: readonly AnyLogFormat[],
): LogFormatCandidate[] {
  const out: LogFormatCandidate[] = [];
  for (const format of formats) {
    if (!format.detect) continue;
    let confidence = 0;
    try {
      confidence = format.detect(sample);
    } catch {
      confidence = 0;
    }
    if (!(confidence > 0)) continue;
    out.push({
      name: format.name,
      confidence: Math.min(1, confidence),
      format,
    });
  }
  return out.sort((a, b) => b.confidence - a.confidence);
}

/** The error raised when no format recognises an input. @internal */
export function unknownFormatError(
  formats: readonly AnyLogFormat[],
  file?: string,
): StbError {
  const tried = formats.map((f) => f.name).join(', ');
  const what = file === undefined ? 'the sample' : `\`${file}\``;
  return new StbError(
    'STB_PARSE_UNKNOWN_FORMAT',
    `[stb] [parser] Cannot tell the log format of ${what} (tried ${tried}). Force one with \`--format <name>\`, or for a PostgreSQL stderr log give the server's log_line_prefix with \`--prefix\` (library: options \`format\`, \`formatOptions: { prefix }\`).`,
    {
      details: {
        tried: formats.map((f) => f.name),
        ...(file === undefined ? {} : { source: file }),
      },
    },
  );
}

/**
 * Ranks log formats by how well they recognise the first lines of an input.
 * @returns candidates with a confidence above zero, best first.
 * @throws StbError `STB_PARSE_UNKNOWN_FORMAT` when none reaches {@link MIN_DETECT_CONFIDENCE};
 * the message names the formats tried and how to force one.
 * @example
 * const [best] = detectLogFormat(firstLines); // best.name === 'postgres-csvlog'
 */
export function detectLogFormat(
  sample: readonly string[],
  formats: readonly AnyLogFormat[] = builtinLogFormats,
): LogFormatCandidate[] {
  const ranked = rankLogFormats(sample, formats);
  const best = ranked[0];
  if (!best || best.confidence < MIN_DETECT_CONFIDENCE)
    throw unknownFormatError(formats);
  return ranked;
}
