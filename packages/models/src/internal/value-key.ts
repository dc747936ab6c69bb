import type { ParamValue } from '@stb/core';

/**
 * A compact string key for a typed value: one type letter then the value's text
 * (`i42`, `sabc`, `n`, `l[...]`). Equal keys mean equal values of the same type.
 */
export function valueKey(p: ParamValue): string {
  switch (p.t) {
    case 'int':
      return `i${p.v}`;
    case 'float':
      return `f${p.v}`;
    case 'bigint':
      return `g${p.v}`;
    case 'string':
      return `s${p.v}`;
    case 'bool':
      return p.v ? 'b1' : 'b0';
    case 'null':
      return 'n';
    case 'timestamp':
      return `t${p.v}`;
    case 'date':
      return `d${p.v}`;
    case 'uuid':
      return `u${p.v}`;
    case 'json':
      return `j${p.v}`;
    case 'bytes':
      return `x${p.v}`;
    case 'list':
      return `l${JSON.stringify(p.v)}`;
  }
}

/** Inverse of {@link valueKey}. */
export function fromValueKey(key: string): ParamValue {
  const rest = key.slice(1);
  switch (key[0]) {
    case 'i':
      return { t: 'int', v: Number(rest) };
    case 'f':
      return { t: 'float', v: Number(rest) };
    case 'g':
      return { t: 'bigint', v: rest };
    case 's':
      return { t: 'string', v: rest };
    case 'b':
      return { t: 'bool', v: rest === '1' };
    case 'n':
      return { t: 'null', v: null };
    case 't':
      return { t: 'timestamp', v: rest };
    case 'd':
      return { t: 'date', v: rest };
    case 'u':
      return { t: 'uuid', v: rest };
    case 'j':
      return { t: 'json', v: rest };
    case 'x':
      return { t: 'bytes', v: rest };
    case 'l':
      return { t: 'list', v: JSON.parse(rest) as ParamValue[] };
    default:
      throw new RangeError(
        `[stb] [models] Invalid value key type \`${key[0] ?? ''}\`.`,
      );
  }
}
