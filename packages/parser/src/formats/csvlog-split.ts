/**
 * The record splitter of PostgreSQL's csvlog: fields of one record, quoted or not, `""` inside
 * quotes for a quote, newlines inside quotes kept. It accepts exactly what PostgreSQL writes and
 * gives the fields csv-parse gives for it (tested against csv-parse); anything else (a quote
 * inside an unquoted field, text after a closing quote, a newline outside quotes, an unclosed
 * quote) gives undefined, and the caller hands that record to csv-parse, which decides whether
 * it is malformed and how.
 * @internal
 */
export function splitCsvlogRecord(text: string): string[] | undefined {
  const n = text.length;
  if (n === 0) return undefined;
  const out: string[] = [];
  // Next quote at or after `i` (-1: none left), so unquoted fields are checked for stray quotes
  // without a scan of their own.
  let quote = text.indexOf('"');
  // A newline outside quotes ends a record in csv-parse: only possible when the text has one.
  const multiLine = quote !== -1 && text.indexOf('\n') !== -1;
  let i = 0;
  for (;;) {
    if (i === quote) {
      // Quoted field: up to the quote not followed by another quote.
      let j = i + 1;
      let v: string | undefined;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q === -1) return undefined;
        if (text.charCodeAt(q + 1) === 34) {
          v = v === undefined ? text.slice(j, q + 1) : v + text.slice(j, q + 1);
          j = q + 2;
          continue;
        }
        const last = text.slice(j, q);
        out.push(v === undefined ? last : v + last);
        i = q + 1;
        break;
      }
      quote = text.indexOf('"', i);
    } else {
      let c = text.indexOf(',', i);
      if (c === -1) c = n;
      if (quote !== -1 && quote < c) return undefined;
      if (multiLine) {
        const nl = text.indexOf('\n', i);
        if (nl !== -1 && nl < c) return undefined;
      }
      out.push(text.slice(i, c));
      i = c;
    }
    if (i === n) return out;
    if (text.charCodeAt(i) !== 44) return undefined;
    i++;
  }
}
