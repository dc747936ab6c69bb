/**
 * Streams the records of a JSON export line by line, in bounded memory (one record at a time):
 * JSON Lines (one object per line), a JSON array of objects (compact or pretty-printed, as
 * `gcloud logging read --format=json` writes it), and wrapper objects whose `events` or
 * `records` array holds the records (`aws logs filter-log-events`, Azure Event Hub / storage
 * exports). A record broken by a cut or garbage line is reported once and the reader resumes at
 * the next record.
 * @internal
 */

/** One record, or why the text at `line` is not one. */
export type JsonRecord =
  | { readonly value: Record<string, unknown>; readonly line: number }
  | { readonly error: string; readonly line: number };

/** Keys of a top-level object whose array value holds the records. */
const RECORD_KEYS = new Set(['events', 'records']);

const MAX_RECORD_CHARS = 64 * 1024 * 1024;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Incremental scanner: feed lines with {@link JsonRecordScanner.push}, then call `end`. */
export class JsonRecordScanner {
  private depth = 0;
  private inString = false;
  private escape = false;
  /** Depths whose container is an array of records. */
  private readonly recordArrays = new Set<number>();
  private capturing = false;
  private recDepth = 0;
  private recLine = 0;
  private buf: string[] = [];
  private bufChars = 0;
  /** After a broken record: skip lines until one starts a new record. */
  private resync = false;
  /** The last string completed at depth 1 of a top-level capture (a key candidate). */
  private lastKey: string | undefined;
  private keyStart = -1;
  private colon = false;
  /** Inside a wrapper object whose records array was found: its other members are ignored. */
  private inWrapper = false;

  /** Reports the record being captured as broken and skips to the next record start. */
  private abandon(out: JsonRecord[], error: string): void {
    out.push({ error, line: this.recLine });
    this.capturing = false;
    this.buf = [];
    this.bufChars = 0;
    this.depth = this.recDepth;
    this.resync = true;
  }

  /** Records completed by this line (appended to `out`). */
  // Long function: the JSON scanner's per-line state machine over characters (strings, escapes,
  // depth, resynchronisation).
  push(text: string, line: number, out: JsonRecord[]): void {
    const trimmed = text.trim();
    if (this.resync) {
      if (!(trimmed.startsWith('{') || trimmed === ']')) return;
      this.resync = false;
      this.inString = false;
      this.escape = false;
    }
    // Fast path: a whole object on one line at record level (JSON Lines, compact arrays).
    if (
      !this.capturing &&
      !this.inString &&
      (this.depth === 0 || this.recordArrays.has(this.depth)) &&
      trimmed.startsWith('{')
    ) {
      const body = trimmed.endsWith(',') ? trimmed.slice(0, -1) : trimmed;
      if (body.endsWith('}')) {
        let v: unknown;
        try {
          v = JSON.parse(body);
        } catch {
          v = undefined;
        }
        if (isObject(v)) {
          this.emitObject(v, line, out);
          return;
        }
      }
    }
    if (
      this.capturing &&
      !this.inString &&
      this.depth === this.recDepth + 1 &&
      trimmed.startsWith('{') &&
      this.bufChars > 0
    ) {
      // A new element where the current record should still be open: it was truncated.
      out.push({ error: 'truncated JSON record', line: this.recLine });
      this.depth = this.recDepth;
      this.capturing = false;
      this.buf = [];
      this.bufChars = 0;
    }
    let garbage = false;
    let segStart = 0;
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === 92) this.escape = true;
        else if (c === 34) {
          this.inString = false;
          if (this.keyStart >= 0) {
            this.lastKey = text.slice(this.keyStart, i);
            this.keyStart = -1;
            this.colon = false;
          }
        }
        continue;
      }
      if (c === 32 || c === 9 || c === 13) continue;
      const atRecordLevel =
        this.depth === 0 || this.recordArrays.has(this.depth);
      if (c === 123 /* { */ || c === 91 /* [ */) {
        if (!this.capturing && c === 123 && atRecordLevel) {
          this.capturing = true;
          this.recDepth = this.depth;
          this.recLine = line;
          this.buf = [];
          this.bufChars = 0;
          segStart = i;
          this.lastKey = undefined;
        } else if (!this.capturing && c === 91 && this.depth === 0) {
          this.recordArrays.add(1);
        } else if (
          this.capturing &&
          c === 91 &&
          this.recDepth === 0 &&
          this.depth === 1 &&
          this.colon &&
          this.lastKey !== undefined &&
          RECORD_KEYS.has(this.lastKey)
        ) {
          // `{"events": [ … ]}`: the wrapper is not a record, its array elements are.
          this.capturing = false;
          this.buf = [];
          this.bufChars = 0;
          this.recordArrays.add(2);
          this.inWrapper = true;
        } else if (
          !this.capturing &&
          !this.inWrapper &&
          !atRecordLevel &&
          this.depth <= 1
        ) {
          garbage = true;
        }
        this.depth++;
        this.colon = false;
        continue;
      }
      if (c === 125 /* } */ || c === 93 /* ] */) {
        this.depth--;
        if (c === 93) this.recordArrays.delete(this.depth + 1);
        if (this.depth < 0) {
          this.depth = 0;
          garbage = true;
          continue;
        }
        if (this.depth === 0) this.inWrapper = false;
        if (this.capturing && this.depth === this.recDepth) {
          this.buf.push(text.slice(segStart, i + 1));
          this.finishRecord(out);
          segStart = i + 1;
        }
        continue;
      }
      if (c === 34 /* " */) {
        this.inString = true;
        if (this.capturing && this.recDepth === 0 && this.depth === 1)
          this.keyStart = i + 1;
        continue;
      }
      if (c === 58 /* : */) {
        this.colon = true;
        continue;
      }
      if (c === 44 /* , */) {
        this.colon = false;
        continue;
      }
      // A scalar: fine inside a record or wrapper, garbage at record level.
      if (!this.capturing && atRecordLevel) garbage = true;
    }
    if (this.inString) {
      // JSON strings never hold a raw newline: this record was cut.
      this.inString = false;
      this.escape = false;
      this.keyStart = -1;
      if (this.capturing)
        this.abandon(out, 'JSON string cut at the end of the line');
      else garbage = true;
    } else if (this.capturing) {
      const rest = text.slice(segStart);
      this.buf.push(rest, '\n');
      this.bufChars += rest.length + 1;
      if (this.bufChars > MAX_RECORD_CHARS)
        this.abandon(out, 'JSON record larger than 64 MiB');
    }
    if (garbage) out.push({ error: 'not a JSON record', line });
  }

  /** Reports a record left open at the end of input. */
  end(out: JsonRecord[]): void {
    if (this.capturing)
      out.push({
        error: 'JSON record not closed at the end of input',
        line: this.recLine,
      });
    this.capturing = false;
    this.buf = [];
  }

  private finishRecord(out: JsonRecord[]): void {
    const text = this.buf.join('');
    this.capturing = false;
    this.buf = [];
    this.bufChars = 0;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      out.push({ error: 'not valid JSON', line: this.recLine });
      return;
    }
    if (isObject(v)) this.emitObject(v, this.recLine, out);
    else out.push({ error: 'not a JSON object', line: this.recLine });
  }

  private emitObject(
    v: Record<string, unknown>,
    line: number,
    out: JsonRecord[],
  ): void {
    // A one-line wrapper (`{"records":[…]}` per line, as Azure storage exports write).
    for (const key of RECORD_KEYS) {
      const arr = v[key];
      if (Array.isArray(arr)) {
        for (const item of arr)
          out.push(
            isObject(item)
              ? { value: item, line }
              : { error: 'not a JSON object', line },
          );
        return;
      }
    }
    out.push({ value: v, line });
  }
}

/** The records of sample lines (detection): complete records only, errors dropped. */
export function sampleJsonRecords(
  sample: readonly string[],
  max = 50,
): Record<string, unknown>[] {
  // A JSON export starts with `{` or `[`: anything else is not one (and long junk lines are
  // not scanned).
  const first = sample.find((l) => l.trim() !== '')?.trimStart();
  if (first === undefined || !(first.startsWith('{') || first.startsWith('[')))
    return [];
  const scanner = new JsonRecordScanner();
  const out: JsonRecord[] = [];
  const records: Record<string, unknown>[] = [];
  for (let i = 0; i < sample.length && records.length < max; i++) {
    scanner.push(sample[i] as string, i + 1, out);
    for (const r of out) if ('value' in r) records.push(r.value);
    out.length = 0;
  }
  return records;
}

/** A string field, or undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** `o.a.b` as an object, when it is one. */
export function obj(v: unknown): Record<string, unknown> | undefined {
  return isObject(v) ? v : undefined;
}
