/** Test-only SQL renderer: puts parameter values back into a template's `$n` slots. */
import type { ParamValue } from '@stb/core';

function literal(v: ParamValue, dialect: 'postgres' | 'mysql'): string {
  switch (v.t) {
    case 'int':
      return String(v.v);
    case 'float':
      return Number.isInteger(v.v) ? v.v.toFixed(1) : String(v.v);
    case 'bigint':
      return v.v;
    case 'bool':
      return v.v ? 'TRUE' : 'FALSE';
    case 'null':
      return 'NULL';
    case 'bytes':
      return dialect === 'postgres' ? `'\\x${v.v}'` : `X'${v.v}'`;
    case 'list':
      return v.v
        .map((x) =>
          x.t === 'list' ? `(${literal(x, dialect)})` : literal(x, dialect),
        )
        .join(', ');
    default: {
      const s = v.v.replace(/'/g, "''");
      return dialect === 'mysql' ? `'${s.replace(/\\/g, '\\\\')}'` : `'${s}'`;
    }
  }
}

/** Renders `text` with `params`; squashed lists expand in place (rows as `(…), (…)`). */
export function renderSql(
  text: string,
  params: ParamValue[],
  dialect: 'postgres' | 'mysql' = 'postgres',
): string {
  return text.replace(
    /\(\$(\d+) \/\*, \.\.\. \*\/\)|\[\$(\d+) \/\*, \.\.\. \*\/\]|\$(\d+)/g,
    (...m: (string | undefined)[]) => {
      // the groups: `($n /*, ... */)`, `[$n /*, ... */]`, a bare `$n`
      const [, a, b, c] = m;
      const n = Number(a ?? b ?? c);
      const v = params[n - 1] as ParamValue;
      if (a !== undefined) {
        // rows of a multi-row VALUES render as `(…), (…)`, an IN-list as `(…)`
        if (v.t === 'list' && v.v.every((x) => x.t === 'list'))
          return v.v.map((r) => `(${literal(r, dialect)})`).join(', ');
        return `(${literal(v, dialect)})`;
      }
      if (b !== undefined) return `[${literal(v, dialect)}]`;
      return literal(v, dialect);
    },
  );
}
