import type { RawParam } from '@stb/core';

/**
 * Parses the text after `parameters: ` in a PostgreSQL DETAIL (`$1 = '…', $2 = NULL`).
 * Quoted values use `''` for a quote and may span lines. Returns undefined when malformed.
 * @internal
 */
export function parsePgParameters(
  text: string,
  start = 0,
): RawParam[] | undefined {
  const out: RawParam[] = [];
  let i = start;
  const n = text.length;
  for (;;) {
    if (text.charCodeAt(i) !== 36) return undefined; // $
    i++;
    let index = 0;
    const digitsStart = i;
    while (i < n) {
      const d = text.charCodeAt(i) - 48;
      if (!(d >= 0 && d <= 9)) break;
      index = index * 10 + d;
      i++;
    }
    if (i === digitsStart || index < 1) return undefined;
    if (!text.startsWith(' = ', i)) return undefined;
    i += 3;
    if (text.charCodeAt(i) === 39) {
      // quoted value
      i++;
      let value = '';
      let segStart = i;
      for (;;) {
        const q = text.indexOf("'", i);
        if (q === -1) return undefined;
        if (text.charCodeAt(q + 1) === 39) {
          value += text.slice(segStart, q + 1);
          i = q + 2;
          segStart = i;
          continue;
        }
        value += text.slice(segStart, q);
        i = q + 1;
        break;
      }
      // PostgreSQL marks values cut by log_parameter_max_length with `...` after the quote.
      if (text.startsWith('...', i)) i += 3;
      out.push({ index, value });
    } else if (text.startsWith('NULL', i)) {
      i += 4;
      out.push({ index, value: null });
    } else return undefined;
    if (i >= n) return out;
    if (!text.startsWith(', ', i)) return undefined;
    i += 2;
  }
}

/** Formats parameters back into PostgreSQL's DETAIL form (used by tests and fixtures). */
export function formatPgParameters(params: readonly RawParam[]): string {
  return params
    .map(
      (p) =>
        `$${p.index} = ${p.value === null ? 'NULL' : `'${p.value.replaceAll("'", "''")}'`}`,
    )
    .join(', ');
}
