import { z } from 'zod';
import { isStbError } from './errors';
import type { PluginError } from './errors';
import { isPlugin, parsePluginOptions } from './plugin';
import type { PluginBase } from './plugin';

const plugin: PluginBase<{ batch: number; mode?: 'a' | 'b' }> = {
  kind: 'db',
  name: 'sqlite-memory',
  apiVersion: 1,
  options: z.object({
    batch: z.number().int().positive(),
    mode: z.enum(['a', 'b']).optional(),
  }),
};

describe('parsePluginOptions', () => {
  it('returns the validated options', () => {
    expect(parsePluginOptions(plugin, { batch: 3 })).toEqual({ batch: 3 });
  });

  it('raises STB_PLUGIN_OPTIONS_INVALID listing every issue', () => {
    let err: unknown;
    try {
      parsePluginOptions(plugin, { batch: 0, mode: 'c' });
    } catch (e) {
      err = e;
    }
    expect(isStbError(err, 'STB_PLUGIN_OPTIONS_INVALID')).toBe(true);
    const e = err as PluginError;
    expect(e.pluginKind).toBe('db');
    expect(e.pluginName).toBe('sqlite-memory');
    expect(e.message).toMatch(
      /^\[stb\] \[db:sqlite-memory\] Invalid options: /,
    );
    expect(e.details?.['issues']).toHaveLength(2);
    expect(e.message).toContain('batch:');
    expect(e.message).toContain('mode:');
  });

  it('treats missing options as an empty object', () => {
    const lenient = {
      ...plugin,
      options: z.object({ x: z.number().optional() }),
    };
    expect(parsePluginOptions(lenient, undefined)).toEqual({});
    expect(() => parsePluginOptions(plugin, undefined)).toThrow(/batch/);
  });
});

describe('isPlugin', () => {
  it('recognises plugins by shape, optionally of one kind', () => {
    expect(isPlugin(plugin)).toBe(true);
    expect(isPlugin(plugin, 'db')).toBe(true);
    expect(isPlugin(plugin, 'model')).toBe(false);
    expect(isPlugin({ ...plugin, apiVersion: 2 })).toBe(false);
    expect(isPlugin({ ...plugin, name: undefined })).toBe(false);
    expect(isPlugin(null)).toBe(false);
    expect(isPlugin(() => plugin)).toBe(false);
  });
});
