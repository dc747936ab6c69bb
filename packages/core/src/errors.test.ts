import {
  ParseError,
  PluginError,
  STB_ERROR_CODES,
  StbError,
  isStbError,
  rehydrateError,
  serializeError,
  toStbError,
} from './errors';

describe('StbError', () => {
  it('carries code, details and cause', () => {
    const cause = new Error('low level');
    const e = new StbError('STB_INPUT_NOT_FOUND', '[stb] [core] Missing.', {
      cause,
      details: { source: 'a.log' },
    });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('StbError');
    expect(e.code).toBe('STB_INPUT_NOT_FOUND');
    expect(e.details).toEqual({ source: 'a.log' });
    expect(e.cause).toBe(cause);
  });

  it('ParseError and PluginError put their typed fields into details', () => {
    const p = new ParseError('STB_PARSE_INVALID_LINE', 'bad', {
      position: { source: 'x.log', line: 3, column: 7, field: 'sql' },
    });
    expect(p.details).toEqual({
      source: 'x.log',
      line: 3,
      column: 7,
      field: 'sql',
    });
    expect(isStbError(p, 'STB_PARSE_INVALID_LINE')).toBe(true);
    const g = new PluginError('STB_PLUGIN_NOT_FOUND', 'nope', {
      pluginKind: 'db',
      pluginName: 'oracle',
    });
    expect(g.details).toEqual({ pluginKind: 'db', pluginName: 'oracle' });
  });

  it('has unique, well-formed codes', () => {
    expect(new Set(STB_ERROR_CODES).size).toBe(STB_ERROR_CODES.length);
    for (const c of STB_ERROR_CODES) expect(c).toMatch(/^STB_[A-Z0-9_]+$/);
  });
});

describe('isStbError', () => {
  it('checks name and code, not the prototype', () => {
    const e = new StbError('STB_ABORTED', 'x');
    expect(isStbError(e)).toBe(true);
    expect(isStbError(e, 'STB_ABORTED')).toBe(true);
    expect(isStbError(e, 'STB_INTERNAL')).toBe(false);
    // A copy from another package instance: same shape, different class.
    const foreign = Object.assign(new Error('x'), {
      name: 'StbError',
      code: 'STB_ABORTED',
    });
    expect(isStbError(foreign, 'STB_ABORTED')).toBe(true);
    expect(isStbError(new Error('x'))).toBe(false);
    expect(isStbError({ name: 'StbError' })).toBe(false);
    expect(isStbError(null)).toBe(false);
    expect(isStbError('STB_ABORTED')).toBe(false);
  });

  it('survives a structured clone (worker boundary) through serializeError', () => {
    const e = new ParseError('STB_TRACE_SCHEMA_MISMATCH', '[stb] [core] Bad.', {
      position: { source: 't.jsonl', line: 9, field: 'params[0].v' },
    });
    // A raw Error loses `name` and `code` in a structured clone...
    expect(isStbError(structuredClone(e))).toBe(false);
    // ...its serialized form does not, and is itself recognised.
    const cloned = structuredClone(serializeError(e));
    expect(isStbError(cloned, 'STB_TRACE_SCHEMA_MISMATCH')).toBe(true);
    const back = rehydrateError(cloned);
    expect(back).toBeInstanceOf(StbError);
    expect(back.code).toBe('STB_TRACE_SCHEMA_MISMATCH');
    expect(back.message).toBe(e.message);
    expect(back.details).toEqual({
      source: 't.jsonl',
      line: 9,
      field: 'params[0].v',
    });
    expect(back.stack).toBe(e.stack);
  });
});

describe('serializeError / rehydrateError', () => {
  it('serializes plain errors and non-errors as STB_INTERNAL', () => {
    expect(serializeError(new TypeError('boom'))).toMatchObject({
      name: 'TypeError',
      code: 'STB_INTERNAL',
      message: 'boom',
    });
    expect(serializeError('text')).toEqual({
      name: 'Error',
      code: 'STB_INTERNAL',
      message: 'text',
    });
  });

  it('maps an unknown code to STB_INTERNAL on rehydration', () => {
    const r = rehydrateError({
      name: 'StbError',
      code: 'STB_FROM_THE_FUTURE',
      message: 'm',
    });
    expect(r.code).toBe('STB_INTERNAL');
  });
});

describe('toStbError', () => {
  it('passes StbErrors through and wraps anything else with its cause', () => {
    const e = new StbError('STB_ABORTED', 'x');
    expect(toStbError(e)).toBe(e);
    const plain = new Error('disk on fire');
    const w = toStbError(plain);
    expect(w.code).toBe('STB_INTERNAL');
    expect(w.cause).toBe(plain);
    expect(w.message).toMatch(/^\[stb\] .*disk on fire/);
    expect(toStbError(42).message).toContain('42');
    const foreign = { name: 'StbError', code: 'STB_ABORTED', message: 'm' };
    const f = toStbError(foreign);
    expect(f).toBeInstanceOf(StbError);
    expect(f.code).toBe('STB_ABORTED');
  });
});
