/** One statement of an SQL script. */
export interface SqlStatement {
  /** Statement text without the terminating `;`. */
  readonly text: string;
  /** 1-based line where the statement starts. */
  readonly line: number;
}

/**
 * Splits an SQL script at top-level `;`, respecting quotes, comments, dollar quotes and MySQL
 * `DELIMITER` lines. Empty statements are dropped.
 */
export function splitSqlStatements(script: string): SqlStatement[] {
  const out: SqlStatement[] = [];
  let delimiter = ';';
  let start = 0;
  let line = 1;
  let startLine = 1;
  let i = 0;
  const n = script.length;
  const push = (end: number): void => {
    const raw = script.slice(start, end);
    const text = raw.trim();
    if (text !== '') {
      const lead = raw.slice(0, raw.length - raw.trimStart().length);
      let l = startLine;
      for (const ch of lead) if (ch === '\n') l++;
      out.push({ text, line: l });
    }
  };
  while (i < n) {
    const c = script[i] as string;
    const atLineStart = i === 0 || script[i - 1] === '\n';
    if (atLineStart && /^delimiter\s/i.test(script.slice(i, i + 10))) {
      const e = script.indexOf('\n', i);
      const end = e < 0 ? n : e;
      push(i);
      delimiter = script.slice(i + 10, end).trim() || ';';
      i = end;
      start = i;
      startLine = line;
      continue;
    }
    if (c === '\n') {
      line++;
      i++;
    } else if (c === "'" || c === '"' || c === '`') {
      i++;
      while (i < n) {
        const d = script[i];
        if (d === '\n') line++;
        if (d === '\\' && c === "'") {
          i += 2;
          continue;
        }
        i++;
        if (d === c) {
          if (script[i] === c) i++;
          else break;
        }
      }
    } else if (c === '-' && script[i + 1] === '-') {
      const e = script.indexOf('\n', i);
      i = e < 0 ? n : e;
    } else if (c === '/' && script[i + 1] === '*') {
      const e = script.indexOf('*/', i + 2);
      const end = e < 0 ? n : e + 2;
      for (let k = i; k < end; k++) if (script[k] === '\n') line++;
      i = end;
    } else if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(script.slice(i, i + 64));
      const prev = i > 0 ? (script[i - 1] as string) : ' ';
      if (m && !/[A-Za-z0-9_]/.test(prev)) {
        const e = script.indexOf(m[0], i + m[0].length);
        const end = e < 0 ? n : e + m[0].length;
        for (let k = i; k < end; k++) if (script[k] === '\n') line++;
        i = end;
      } else i++;
    } else if (script.startsWith(delimiter, i)) {
      push(i);
      i += delimiter.length;
      start = i;
      startLine = line;
    } else i++;
  }
  push(n);
  return out;
}
