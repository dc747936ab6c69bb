import type { QueryTemplate } from '@stb/core';
import { RunTemplates } from './run-templates';

const tpl = (id: string, path?: QueryTemplate['path']): QueryTemplate => ({
  kind: 'template',
  id,
  text: `SELECT ${id}`,
  queryType: 'SELECT',
  tables: [],
  slots: [],
  ...(path ? { path } : {}),
});

test('not kept: each template is given once, then only its id and path remain', () => {
  const t = new RunTemplates(false);
  expect(t.add(tpl('a', 'libpg-query'))).toBe(true);
  expect(t.add(tpl('a', 'libpg-query'))).toBe(false);
  expect(t.add(tpl('b'))).toBe(true);
  expect(t.size).toBe(2);
  expect(t.take('a')?.id).toBe('a');
  // released: a second take has nothing, the id still counts
  expect(t.take('a')).toBeUndefined();
  expect(t.pathOf('a')).toBe('libpg-query');
  expect(t.pathOf('b')).toBe('lexer');
  expect(t.pathOf('c')).toBeUndefined();
  expect(t.size).toBe(2);
  expect(() => t.catalog).toThrow(
    expect.objectContaining({ code: 'STB_USAGE' }),
  );
});

test('kept: the catalog holds every template, and take gives it every time', () => {
  const t = new RunTemplates(true);
  t.add(tpl('a'));
  expect(t.take('a')?.id).toBe('a');
  expect(t.take('a')?.id).toBe('a');
  expect(t.catalog.toArray().map((x) => x.id)).toEqual(['a']);
});
