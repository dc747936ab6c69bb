import { StbError } from '../errors';
import type { ParamValue } from '../schema';
import type { SqlLiteralDialect, SqlLiteralOptions } from './literal';
import { renderSqlLiteral } from './literal';
import type { SqlTemplate } from './template';

function toOptions(
  options: SqlLiteralDialect | SqlLiteralOptions,
): SqlLiteralOptions {
  return typeof options === 'string' ? { dialect: options } : options;
}

/**
 * Renders executable SQL from a compiled template: each placeholder replaced by its parameter as
 * a literal (see {@link renderSqlLiteral}). A negative number after an operator gets a space, so
 * `a-$1` with `-5` never becomes the comment `a--5`.
 * @param template - From {@link compileSqlTemplate} (lexed in the trace's dialect).
 * @param options - The target's dialect, or literal options; may differ from the lexing dialect.
 * @throws StbError `STB_TRACE_SCHEMA_MISMATCH` when a placeholder has no parameter,
 * `STB_RENDER_VALUE_UNSUPPORTED` for values the dialect cannot express.
 * @example
 * const t = compileSqlTemplate('SELECT * FROM t WHERE a IN ($1 /*, ... *\/)', 'postgres');
 * renderSqlTemplate(t, [{ t: 'list', v: [{ t: 'int', v: 1 }, { t: 'int', v: 2 }] }], 'postgres');
 * // SELECT * FROM t WHERE a IN (1, 2)
 */
export function renderSqlTemplate(
  template: SqlTemplate,
  params: readonly ParamValue[],
  options: SqlLiteralDialect | SqlLiteralOptions,
): string {
  const opts = toOptions(options);
  const { parts, slots } = template;
  let out = parts[0] as string;
  for (let k = 0; k < slots.length; k++) {
    const slot = slots[k] as number;
    const value = params[slot];
    if (value === undefined)
      throw new StbError(
        'STB_TRACE_SCHEMA_MISMATCH',
        `[stb] [core] The template has placeholder \`$${slot + 1}\` but the event has ${params.length} parameter(s). Regenerate the trace from a matching model, or fix the trace.`,
        { details: { placeholder: slot + 1, params: params.length } },
      );
    let text = renderSqlLiteral(value, opts, {
      inBracket: template.inBracket[k] === true,
      afterWord: template.afterWord[k] === true,
    });
    // `x - $1` with -5 must not become the comment `x --5`.
    if (text.startsWith('-') && template.afterOperator[k] === true) {
      const before = out[out.length - 1];
      if (before !== ' ' && before !== '(') text = ` ${text}`;
    }
    out += text + (parts[k + 1] as string);
  }
  return out;
}
