import { ParseError } from '../errors';

/**
 * A streaming scanner for the whole-file JSON trace form `{"header":…,"templates":[…],"events":[…]}`.
 * It never holds more than one array element (plus the unread input chunk) in memory: it finds
 * the boundaries of the header object and of every array element and hands out their text, which
 * the reader then `JSON.parse`s and validates. Keys other than these three are skipped.
 * @internal
 */
export interface DocItem {
  key: 'header' | 'templates' | 'events';
  text: string;
  /** 1-based line where the value starts. */
  line: number;
}

const S = {
  Open: 0,
  FirstKey: 1,
  Key: 2,
  Colon: 3,
  Value: 4,
  ArrayFirst: 5,
  ArrayElem: 6,
  ArrayNext: 7,
  AfterValue: 8,
  Done: 9,
} as const;
type State = (typeof S)[keyof typeof S];

const WS_SP = 32;
const WS_TAB = 9;
const WS_CR = 13;
const NL = 10;
const QUOTE = 34;
const BACKSLASH = 92;

export class JsonDocScanner {
  #buf = '';
  #pos = 0;
  #line = 1;
  #state: State = S.Open;
  #key = '';
  // resumable value scan
  #vStart = -1;
  #vPos = 0;
  #vLine = 0;
  #depth = 0;
  #inStr = false;
  #esc = false;

  constructor(readonly source: string) {}

  /** Line the scanner has reached. */
  get line(): number {
    return this.#line;
  }

  /** Adds the next chunk of text. */
  feed(chunk: string): void {
    if (this.#pos > 0) {
      this.#buf = this.#buf.slice(this.#pos);
      if (this.#vStart >= 0) {
        this.#vStart -= this.#pos;
        this.#vPos -= this.#pos;
      }
      this.#pos = 0;
    }
    this.#buf += chunk;
  }

  /**
   * The next complete item, or undefined when more input is needed (`eof` false) or the document
   * is complete (`eof` true).
   * @throws ParseError `STB_TRACE_INVALID_JSON` on a structural error or a document that ends early.
   */
  next(eof: boolean): DocItem | undefined {
    for (;;) {
      if (this.#state === S.Value && this.#vStart >= 0) {
        return this.#continueValue(eof);
      }
      if (!this.#skipWs()) {
        if (!eof) return undefined;
        if (this.#state === S.Done) return undefined;
        throw this.#error('ends before the document is complete (truncated?)');
      }
      const c = this.#buf.charCodeAt(this.#pos);
      switch (this.#state) {
        case S.Open:
          if (c !== 123) throw this.#error('does not start with `{`');
          this.#pos++;
          this.#state = S.FirstKey;
          break;
        case S.FirstKey:
        case S.Key: {
          if (c === 125 && this.#state === S.FirstKey) {
            this.#pos++;
            this.#state = S.Done;
            break;
          }
          if (c !== QUOTE) throw this.#error('expected a key');
          const end = this.#stringEnd(this.#pos + 1);
          if (end < 0) {
            if (eof) throw this.#error('ends inside a key');
            return undefined;
          }
          this.#key = JSON.parse(this.#buf.slice(this.#pos, end + 1)) as string;
          this.#pos = end + 1;
          this.#state = S.Colon;
          break;
        }
        case S.Colon:
          if (c !== 58) throw this.#error('expected `:`');
          this.#pos++;
          this.#state = S.Value;
          break;
        case S.Value:
          if (this.#key === 'templates' || this.#key === 'events') {
            if (c !== 91)
              throw this.#error(`expected \`${this.#key}\` to be an array`);
            this.#pos++;
            this.#state = S.ArrayFirst;
            break;
          }
          this.#startValue();
          break;
        case S.ArrayFirst:
        case S.ArrayElem:
          if (c === 93 && this.#state === S.ArrayFirst) {
            this.#pos++;
            this.#state = S.AfterValue;
            break;
          }
          this.#state = S.Value;
          this.#startValue();
          break;
        case S.ArrayNext:
          if (c === 44) {
            this.#pos++;
            this.#state = S.ArrayElem;
          } else if (c === 93) {
            this.#pos++;
            this.#state = S.AfterValue;
          } else throw this.#error('expected `,` or `]`');
          break;
        case S.AfterValue:
          if (c === 44) {
            this.#pos++;
            this.#state = S.Key;
          } else if (c === 125) {
            this.#pos++;
            this.#state = S.Done;
          } else throw this.#error('expected `,` or `}`');
          break;
        case S.Done:
          throw this.#error('has data after the end of the document');
      }
    }
  }

  #inArray(): boolean {
    return this.#key === 'templates' || this.#key === 'events';
  }

  #startValue(): void {
    this.#vStart = this.#pos;
    this.#vPos = this.#pos;
    this.#vLine = this.#line;
    this.#depth = 0;
    this.#inStr = false;
    this.#esc = false;
  }

  /** Scans the current value onwards; emits it when complete. */
  #continueValue(eof: boolean): DocItem | undefined {
    const buf = this.#buf;
    const len = buf.length;
    let p = this.#vPos;
    let depth = this.#depth;
    let inStr = this.#inStr;
    let esc = this.#esc;
    let end = -1;
    const first = buf.charCodeAt(this.#vStart);
    const structured = first === 123 || first === 91 || first === QUOTE;
    while (p < len) {
      const c = buf.charCodeAt(p);
      if (inStr) {
        if (esc) esc = false;
        else if (c === BACKSLASH) esc = true;
        else if (c === QUOTE) {
          inStr = false;
          if (depth === 0) {
            end = p + 1;
            break;
          }
        }
      } else if (c === QUOTE) inStr = true;
      else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        if (!structured) {
          end = p;
          break;
        }
        depth--;
        if (depth === 0) {
          end = p + 1;
          break;
        }
      } else if (c === NL) {
        this.#line++;
        if (!structured) {
          end = p;
          break;
        }
      } else if (
        !structured &&
        (c === 44 || c === WS_SP || c === WS_TAB || c === WS_CR)
      ) {
        end = p;
        break;
      }
      p++;
    }
    if (end < 0) {
      if (!eof || (!structured && p > this.#vStart)) {
        if (eof) end = p;
        else {
          this.#vPos = p;
          this.#depth = depth;
          this.#inStr = inStr;
          this.#esc = esc;
          return undefined;
        }
      } else {
        throw this.#error('ends inside a value (truncated?)');
      }
    }
    const text = buf.slice(this.#vStart, end);
    const line = this.#vLine;
    this.#pos = end;
    this.#vStart = -1;
    const key = this.#key;
    this.#state = this.#inArray() ? S.ArrayNext : S.AfterValue;
    if (key === 'header' || key === 'templates' || key === 'events') {
      return { key, text, line };
    }
    return this.next(eof);
  }

  /** Index of the closing quote of a string whose content starts at `from`, or -1. */
  #stringEnd(from: number): number {
    const buf = this.#buf;
    for (let p = from; p < buf.length; p++) {
      const c = buf.charCodeAt(p);
      if (c === BACKSLASH) p++;
      else if (c === QUOTE) return p;
    }
    return -1;
  }

  /** Skips whitespace; false when the buffer is exhausted. */
  #skipWs(): boolean {
    const buf = this.#buf;
    let p = this.#pos;
    while (p < buf.length) {
      const c = buf.charCodeAt(p);
      if (c === NL) this.#line++;
      else if (c !== WS_SP && c !== WS_TAB && c !== WS_CR) break;
      p++;
    }
    this.#pos = p;
    return p < buf.length;
  }

  #error(what: string): ParseError {
    return new ParseError(
      'STB_TRACE_INVALID_JSON',
      `[stb] [core] The JSON trace \`${this.source}\` ${what} at line ${this.#line}. Check that the file is complete JSON of the form {"header":…,"templates":[…],"events":[…]}.`,
      { position: { source: this.source, line: this.#line } },
    );
  }
}
