import type { Dialect } from '../schema';

const enum St {
  Normal,
  Single,
  Double,
  Backtick,
  Block,
  Dollar,
}

/** A statement found by {@link SqlSplitter} or {@link splitSqlScript}. */
export interface SplitSqlStatement {
  /** Statement text, trimmed, without its delimiter (comments before it are dropped). */
  sql: string;
  /** 1-based line of the statement's first significant character. */
  line: number;
}

/**
 * A streaming SQL statement splitter: feed it lines, it calls back with each statement split on
 * the delimiter outside strings ('…' with '' and, in E'…' or MySQL, backslash escapes), quoted
 * identifiers ("…", MySQL `…`), comments (-- …, MySQL # …, /* … *\/ nested in PostgreSQL) and
 * dollar-quoted bodies ($$…$$, $tag$…$tag$, PostgreSQL). Memory is one statement. Client
 * commands (MySQL `DELIMITER`, psql `\…` meta-commands, COPY data) are the caller's: check
 * {@link SqlSplitter.idle} and {@link parseDelimiterCommand} before feeding a line.
 * @example
 * const splitter = new SqlSplitter('postgres', (s) => statements.push(s));
 * for (const { text, line } of lines) splitter.line(text, line);
 * splitter.end();
 */
export class SqlSplitter {
  private state = St.Normal;
  private backslash = false;
  private depth = 0;
  private tag = '';
  private buf = '';
  private startLine = 0;
  private delimiter = ';';

  constructor(
    private readonly dialect: Dialect,
    private readonly emit: (s: SplitSqlStatement) => void,
  ) {}

  /** True when the splitter is between statements (nothing buffered, no open quote). */
  get idle(): boolean {
    return this.state === St.Normal && this.startLine === 0;
  }

  /** Where an open string/comment began, when the input ends inside one. */
  get openConstruct(): string | undefined {
    switch (this.state) {
      case St.Single:
        return 'string';
      case St.Double:
      case St.Backtick:
        return 'quoted identifier';
      case St.Block:
        return 'block comment';
      case St.Dollar:
        return 'dollar-quoted body';
      default:
        return undefined;
    }
  }

  /** Characters of the statement being buffered. */
  get bufferedLength(): number {
    return this.buf.length;
  }

  /** Line where the buffered statement began (0 when none). */
  get bufferedLine(): number {
    return this.startLine;
  }

  /** The text of the statement being buffered (for an input that ends inside it). */
  get bufferedText(): string {
    return this.buf;
  }

  /** Changes the delimiter (MySQL `DELIMITER //`). */
  setDelimiter(d: string): void {
    this.delimiter = d;
  }

  /** Drops what is buffered (after an error). */
  reset(): void {
    this.state = St.Normal;
    this.buf = '';
    this.depth = 0;
    this.tag = '';
    this.startLine = 0;
  }

  /** Feeds one line (without its terminator). */
  line(text: string, lineNo: number): void {
    const mysql = this.dialect === 'mysql';
    const n = text.length;
    let i = 0;
    let segStart = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      switch (this.state) {
        case St.Normal: {
          if (
            (c === 45 && text.charCodeAt(i + 1) === 45) ||
            (mysql && c === 35)
          ) {
            i = n; // line comment
            continue;
          }
          if (c === 47 && text.charCodeAt(i + 1) === 42) {
            this.state = St.Block;
            this.depth = 1;
            i += 2;
            continue;
          }
          if (text.startsWith(this.delimiter, i)) {
            if (this.startLine !== 0) this.buf += text.slice(segStart, i);
            this.flushStatement();
            i += this.delimiter.length;
            segStart = i;
            continue;
          }
          if (c === 32 || c === 9 || c === 13) {
            i++;
            continue;
          }
          if (this.startLine === 0) {
            this.startLine = lineNo;
            segStart = i;
          }
          if (c === 39 || (mysql && c === 34)) {
            this.state = St.Single;
            this.quote = c;
            const prev = text.charCodeAt(i - 1);
            this.backslash =
              mysql ||
              ((prev === 69 || prev === 101) &&
                !isWordChar(text.charCodeAt(i - 2)));
          } else if (c === 34) this.state = St.Double;
          else if (c === 96 && mysql) this.state = St.Backtick;
          else if (c === 36 && !mysql && !isWordChar(text.charCodeAt(i - 1))) {
            const m = DOLLAR_TAG.exec(text.slice(i, i + 64));
            if (m) {
              this.tag = m[0];
              this.state = St.Dollar;
              i += m[0].length;
              continue;
            }
          }
          i++;
          continue;
        }
        case St.Single: {
          if (this.backslash && c === 92) {
            i += 2;
            continue;
          }
          if (c === this.quote) {
            if (text.charCodeAt(i + 1) === c) {
              i += 2;
              continue;
            }
            this.state = St.Normal;
          }
          i++;
          continue;
        }
        case St.Double:
        case St.Backtick: {
          const q = this.state === St.Double ? 34 : 96;
          if (c === q) {
            if (text.charCodeAt(i + 1) === q) {
              i += 2;
              continue;
            }
            this.state = St.Normal;
          }
          i++;
          continue;
        }
        case St.Block: {
          if (c === 42 && text.charCodeAt(i + 1) === 47) {
            i += 2;
            this.depth--;
            if (this.depth === 0 || mysql) {
              this.depth = 0;
              this.state = St.Normal;
            }
            continue;
          }
          if (!mysql && c === 47 && text.charCodeAt(i + 1) === 42) {
            this.depth++;
            i += 2;
            continue;
          }
          i++;
          continue;
        }
        case St.Dollar: {
          const end = text.indexOf(this.tag, i);
          if (end === -1) i = n;
          else {
            i = end + this.tag.length;
            this.state = St.Normal;
          }
          continue;
        }
      }
    }
    if (this.startLine !== 0) this.buf += text.slice(segStart, n) + '\n';
  }

  private quote = 39;

  private flushStatement(): void {
    const sql = this.buf.trim();
    if (sql !== '') this.emit({ sql, line: this.startLine });
    this.buf = '';
    this.startLine = 0;
  }

  /** Ends the input: emits a last statement without a delimiter. */
  end(): void {
    if (this.state === St.Normal) this.flushStatement();
  }
}

const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/;

function isWordChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 95
  );
}

const DELIMITER_COMMAND = /^delimiter\s+(\S+)\s*$/i;

/**
 * The new delimiter of a MySQL client `DELIMITER <d>` line (e.g. `//`), or undefined when the
 * line is not such a command. Only meaningful between statements ({@link SqlSplitter.idle}).
 * @example
 * parseDelimiterCommand('DELIMITER //'); // '//'
 */
export function parseDelimiterCommand(line: string): string | undefined {
  return DELIMITER_COMMAND.exec(line)?.[1];
}

/** Options of {@link splitSqlScript}. */
export interface SplitSqlScriptOptions {
  /** Quoting rules (default `postgres`). */
  dialect?: Dialect;
  /** Honour MySQL client `DELIMITER` lines (default: true for `mysql`). */
  delimiterCommand?: boolean;
}

/**
 * Splits a whole SQL script (a setup file, a dump) into statements with {@link SqlSplitter}:
 * delimiters inside strings, quoted identifiers, comments and dollar quotes do not split;
 * `DELIMITER` lines change the delimiter when enabled. Empty statements are dropped; text after
 * the last delimiter (even inside an unterminated string) is a last statement.
 * @example
 * splitSqlScript("CREATE TABLE t (x text DEFAULT ';');\nINSERT INTO t VALUES ('a');");
 * // [{ sql: "CREATE TABLE t (x text DEFAULT ';')", line: 1 }, { sql: "INSERT …", line: 2 }]
 */
export function splitSqlScript(
  script: string,
  options: SplitSqlScriptOptions = {},
): SplitSqlStatement[] {
  const dialect = options.dialect ?? 'postgres';
  const delimiterCommand = options.delimiterCommand ?? dialect === 'mysql';
  const out: SplitSqlStatement[] = [];
  const splitter = new SqlSplitter(dialect, (s) => out.push(s));
  let lineNo = 0;
  let start = 0;
  while (start <= script.length) {
    let end = script.indexOf('\n', start);
    if (end < 0) end = script.length;
    const text = script.slice(start, end);
    lineNo++;
    start = end + 1;
    const d =
      delimiterCommand && splitter.idle
        ? parseDelimiterCommand(text)
        : undefined;
    if (d !== undefined) splitter.setDelimiter(d);
    else splitter.line(text, lineNo);
  }
  if (splitter.openConstruct === undefined) splitter.end();
  else {
    const sql = splitter.bufferedText.trim();
    if (sql !== '') out.push({ sql, line: splitter.bufferedLine });
  }
  return out;
}
