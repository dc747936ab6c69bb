import { isWriteStatement } from '@stb/core';
import type { Dialect, QueryType } from '@stb/core';
import {
  Lexer,
  T_LPAREN,
  T_QIDENT,
  T_RPAREN,
  T_WORD,
  type Tokens,
} from './lexer';

/** Transaction boundary a statement marks: none, a start, or an end (COMMIT/END/ROLLBACK). */
export const TCL_NONE = 0;
export const TCL_BEGIN = 1;
export const TCL_END = 2;

const DDL = new Set([
  'CREATE',
  'ALTER',
  'DROP',
  'TRUNCATE',
  'RENAME',
  'COMMENT',
  'GRANT',
  'REVOKE',
  'REINDEX',
  'CLUSTER',
  'SECURITY',
  'IMPORT',
]);
const UTILITY = new Set([
  'SET',
  'SHOW',
  'RESET',
  'VACUUM',
  'ANALYZE',
  'ANALYSE',
  'EXPLAIN',
  'COPY',
  'LOCK',
  'UNLOCK',
  'CHECKPOINT',
  'DISCARD',
  'LISTEN',
  'UNLISTEN',
  'NOTIFY',
  'PREPARE',
  'EXECUTE',
  'DEALLOCATE',
  'CALL',
  'DO',
  'USE',
  'FLUSH',
  'OPTIMIZE',
  'DESCRIBE',
  'DESC',
  'KILL',
  'LOAD',
  'REFRESH',
  'FETCH',
  'DECLARE',
  'CLOSE',
  'MOVE',
  'HANDLER',
  'CHECK',
  'REPAIR',
  'INSTALL',
  'UNINSTALL',
  'PURGE',
  'RESET',
  'HELP',
]);

/** Upper-case words of the tokens at paren depth 0, with their token index. */
function topWords(tok: Tokens): { w: string; i: number }[] {
  const out: { w: string; i: number }[] = [];
  let depth = 0;
  for (let i = 0; i < tok.count; i++) {
    const t = tok.type[i];
    if (t === T_LPAREN) depth++;
    else if (t === T_RPAREN) depth = Math.max(0, depth - 1);
    else if (t === T_WORD && depth === 0)
      out.push({ w: tok.sql.slice(tok.start[i], tok.end[i]).toUpperCase(), i });
  }
  return out;
}

/** Classifies a lexed statement: its type, transaction boundary and whether it writes. */
export function classifyTokens(tok: Tokens): {
  queryType: QueryType;
  tcl: number;
  writes: boolean;
} {
  const c = classifyType(tok);
  // utility statements write unless they are SET/SHOW/EXPLAIN (core's one rule)
  const first = c.queryType === 'UTILITY' ? (topWords(tok)[0]?.w ?? '') : '';
  return { ...c, writes: isWriteStatement(c.queryType, first) };
}

function classifyType(tok: Tokens): {
  queryType: QueryType;
  tcl: number;
} {
  const words = topWords(tok);
  let first = words[0]?.w;
  // leading parentheses: `(SELECT …) UNION …`
  if (first === undefined || tok.type[0] === T_LPAREN) {
    for (let i = 0; i < tok.count; i++)
      if (tok.type[i] === T_WORD) {
        first = tok.sql.slice(tok.start[i], tok.end[i]).toUpperCase();
        break;
      }
  }
  const has = (w: string): boolean => words.some((x) => x.w === w);
  const hasSeq = (a: string, b: string): boolean =>
    words.some((x, k) => x.w === a && words[k + 1]?.w === b);
  switch (first) {
    case undefined:
      return { queryType: 'OTHER', tcl: TCL_NONE };
    case 'SELECT':
    case 'VALUES':
    case 'TABLE':
      return { queryType: 'SELECT', tcl: TCL_NONE };
    case 'WITH': {
      const main = words.find((x) =>
        ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE'].includes(x.w),
      );
      if (main?.w === 'INSERT')
        return { queryType: upsert(words) ? 'MERGE' : 'INSERT', tcl: TCL_NONE };
      return { queryType: (main?.w ?? 'SELECT') as QueryType, tcl: TCL_NONE };
    }
    case 'INSERT':
      return { queryType: upsert(words) ? 'MERGE' : 'INSERT', tcl: TCL_NONE };
    case 'REPLACE':
    case 'MERGE':
      return { queryType: 'MERGE', tcl: TCL_NONE };
    case 'UPDATE':
    case 'DELETE':
      return { queryType: first, tcl: TCL_NONE };
    case 'BEGIN':
    case 'START':
      return { queryType: 'TCL', tcl: TCL_BEGIN };
    case 'COMMIT':
    case 'END':
    case 'ABORT':
      return { queryType: 'TCL', tcl: has('PREPARED') ? TCL_NONE : TCL_END };
    case 'ROLLBACK':
      return {
        queryType: 'TCL',
        tcl: has('TO') || has('PREPARED') ? TCL_NONE : TCL_END,
      };
    case 'SAVEPOINT':
    case 'RELEASE':
    case 'XA':
      return { queryType: 'TCL', tcl: TCL_NONE };
    case 'PREPARE':
      return {
        queryType: hasSeq('PREPARE', 'TRANSACTION') ? 'TCL' : 'UTILITY',
        tcl: TCL_NONE,
      };
    default:
      if (DDL.has(first)) return { queryType: 'DDL', tcl: TCL_NONE };
      if (UTILITY.has(first)) return { queryType: 'UTILITY', tcl: TCL_NONE };
      return { queryType: 'OTHER', tcl: TCL_NONE };
  }
}

function upsert(words: { w: string }[]): boolean {
  for (let k = 0; k < words.length; k++) {
    const w = words[k]?.w;
    if (w === 'DUPLICATE' && words[k + 1]?.w === 'KEY') return true;
    if (w === 'CONFLICT') {
      for (let j = k + 1; j < words.length; j++)
        if (words[j]?.w === 'DO') return words[j + 1]?.w === 'UPDATE';
    }
  }
  return false;
}

const TABLE_BEFORE = new Set([
  'FROM',
  'JOIN',
  'INTO',
  'UPDATE',
  'TABLE',
  'USING',
]);
const NOT_TABLES = new Set([
  'SELECT',
  'LATERAL',
  'ONLY',
  'IF',
  'EXISTS',
  'NOT',
  'TABLE',
]);

/** Table names by a lexer heuristic (words after FROM/JOIN/INTO/UPDATE/TABLE), for the lexer path. */
export function lexerTables(tok: Tokens, dialect: Dialect): string[] {
  const out: string[] = [];
  const name = (i: number): string => {
    const text = tok.sql.slice(tok.start[i], tok.end[i]);
    if (tok.type[i] === T_QIDENT) return text.slice(1, -1);
    return dialect === 'postgres' ? text.toLowerCase() : text;
  };
  for (let i = 0; i + 1 < tok.count; i++) {
    if (tok.type[i] !== T_WORD) continue;
    const w = tok.sql.slice(tok.start[i], tok.end[i]).toUpperCase();
    if (!TABLE_BEFORE.has(w)) continue;
    let j = i + 1;
    while (
      j < tok.count &&
      tok.type[j] === T_WORD &&
      NOT_TABLES.has(tok.sql.slice(tok.start[j], tok.end[j]).toUpperCase())
    )
      j++;
    const t = tok.type[j];
    if (t !== T_WORD && t !== T_QIDENT) continue;
    let n = name(j);
    // schema.table
    if (
      tok.sql[tok.start[j + 1] as number] === '.' &&
      (tok.type[j + 2] === T_WORD || tok.type[j + 2] === T_QIDENT)
    )
      n += '.' + name(j + 2);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

const classifier = {
  postgres: new Lexer('postgres'),
  mysql: new Lexer('mysql'),
};

/** The statement type of any text, lexed with the dialect's shared classifier lexer. */
export function classifyText(sql: string, dialect: Dialect): QueryType {
  const lexer = classifier[dialect];
  lexer.tokenize(sql);
  return classifyTokens(lexer.snapshot()).queryType;
}
