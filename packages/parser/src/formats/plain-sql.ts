import { z } from 'zod';
import { parseDelimiterCommand, SqlSplitter } from '@stb/core';
import type { InputLine, RawQueryEvent, SplitSqlStatement } from '@stb/core';
import { defineLogFormat } from '../log-format';
import type { LogFormatContext } from '../log-format';
import { looksBinary } from '../internal/lines';

const options = z
  .object({
    /** SQL dialect of the file (quoting rules differ). Default `postgres`. */
    dialect: z.enum(['postgres', 'mysql']).optional(),
    /** Longest statement accepted, in characters. Default 64 Mi. */
    maxStatementLength: z.number().int().positive().optional(),
  })
  .strict();

/** Options of the `plain-sql` log format. */
export type PlainSqlOptions = z.infer<typeof options>;

const COPY_STDIN = /^copy\b[\s\S]*\bfrom\s+stdin\b/i;
const SQL_START =
  /^\s*(select|insert|update|delete|merge|with|create|alter|drop|truncate|begin|start|commit|rollback|end|savepoint|release|set|show|use|grant|revoke|copy|vacuum|analyze|explain|call|do|values|prepare|execute|deallocate|declare|fetch|close|lock|comment|reindex|cluster|listen|notify|discard|reset|load|replace|table|abort|checkpoint|refresh|import|security|reassign|unlisten|handler|optimize|repair|rename|flush|kill|describe|desc|--|\/\*|\()/i;

async function* parsePlainSql(
  lines: AsyncIterable<InputLine>,
  opts: PlainSqlOptions,
  ctx: LogFormatContext,
): AsyncGenerator<RawQueryEvent> {
  const dialect = opts.dialect ?? 'postgres';
  const maxLength = opts.maxStatementLength ?? 64 * 1024 * 1024;
  const found: SplitSqlStatement[] = [];
  const splitter = new SqlSplitter(dialect, (s) => found.push(s));
  let n = 0;
  let inCopy = false;
  for await (const { text, line } of lines) {
    if (inCopy) {
      if (text === '\\.') {
        inCopy = false;
        ctx.report('copy-data', line);
      }
      continue;
    }
    if (splitter.idle) {
      if (dialect === 'postgres' && text.charCodeAt(0) === 92) {
        ctx.report('psql-meta', line);
        continue;
      }
      const d = dialect === 'mysql' ? parseDelimiterCommand(text) : undefined;
      if (d !== undefined) {
        splitter.setDelimiter(d);
        ctx.report('delimiter', line);
        continue;
      }
    }
    if (looksBinary(text)) {
      ctx.report('invalid', line, 'binary data');
      continue;
    }
    splitter.line(text, line);
    if (splitter.bufferedLength > maxLength) {
      ctx.report(
        'invalid',
        splitter.bufferedLine,
        `statement longer than ${maxLength} characters (unterminated ${splitter.openConstruct ?? 'statement'}?)`,
      );
      splitter.reset();
    }
    if (found.length > 0) {
      for (const s of found) {
        n++;
        yield {
          sessionId: String(n),
          sql: s.sql,
          source: { file: ctx.file, line: s.line },
          dialect,
        };
        if (dialect === 'postgres' && COPY_STDIN.test(s.sql)) inCopy = true;
      }
      found.length = 0;
    }
  }
  const open = splitter.openConstruct;
  if (open !== undefined) {
    ctx.report('invalid', splitter.bufferedLine, `input ends inside a ${open}`);
  } else {
    splitter.end();
    for (const s of found) {
      n++;
      yield {
        sessionId: String(n),
        sql: s.sql,
        source: { file: ctx.file, line: s.line },
        dialect,
      };
    }
  }
}

/** Plain SQL files: statements split on `;`, each its own session, no times. */
export const plainSql = defineLogFormat<PlainSqlOptions>({
  kind: 'log-format',
  name: 'plain-sql',
  apiVersion: 1,
  dialect: 'postgres',
  description:
    'Plain SQL (a script or dump): statements split on `;` outside strings, comments and dollar quotes.',
  options,
  detect(sample) {
    let lines = 0;
    let sqlish = 0;
    let semis = 0;
    for (const text of sample) {
      if (text.trim() === '') continue;
      lines++;
      if (looksBinary(text)) return 0;
      if (SQL_START.test(text)) sqlish++;
      if (text.trimEnd().endsWith(';')) semis++;
    }
    if (lines === 0 || sqlish === 0) return 0;
    // Lower than any log format's confidence: plain SQL is the fallback.
    return Math.min(
      0.6,
      0.25 + (0.25 * sqlish) / lines + (0.1 * semis) / lines,
    );
  },
  parse: parsePlainSql,
});
