import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isStbError } from '@stb/core';
import { createModelRegistry, loadModelPackage } from '../src/index';

function caught(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    expect(isStbError(err)).toBe(true);
    return err as { code: string; message: string };
  }
  throw new Error('expected an error');
}

async function caughtAsync(
  p: Promise<unknown>,
): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    expect(isStbError(err)).toBe(true);
    return err as { code: string; message: string };
  }
  throw new Error('expected an error');
}

describe('model registry', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stb-registry-'));
    const pkg = (name: string, body: string): void => {
      const d = join(dir, 'node_modules', name);
      mkdirSync(d, { recursive: true });
      writeFileSync(
        join(d, 'package.json'),
        JSON.stringify({ name, main: 'index.js' }),
      );
      writeFileSync(join(d, 'index.js'), body);
    };
    pkg(
      'stb-plugin-model-fake',
      `const options = { safeParse: (x) => ({ success: true, data: x }) };
       exports.plugin = { kind: 'model', name: 'fake', apiVersion: 1, options,
         async fit() { return { stateVersion: 1 }; },
         createSampler() { return { *nextSession() {} }; } };`,
    );
    pkg(
      'stb-plugin-model-wrong',
      `exports.plugin = { kind: 'db', name: 'x' };`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has the built-in markov and hmm models', () => {
    const r = createModelRegistry();
    expect(r.list().map((p) => p.name)).toEqual(['markov', 'hmm']);
    expect(r.get('hmm').kind).toBe('model');
  });

  it('names the known models and --model-package for an unknown one', () => {
    const err = caught(() => createModelRegistry().get('gru'));
    expect(err.code).toBe('STB_PLUGIN_NOT_FOUND');
    expect(err.message).toMatch(
      /Unknown sequence model `gru`.*`markov`, `hmm`.*--model-package/,
    );
  });

  it('says how to install the lstm model when it is not loaded', () => {
    const err = caught(() => createModelRegistry().get('lstm'));
    expect(err.code).toBe('STB_PLUGIN_NOT_FOUND');
    expect(err.message).toMatch(/npm install @stb\/model-lstm/);
  });

  it('loads a model package by name from a directory', async () => {
    const r = createModelRegistry();
    const loaded = await loadModelPackage(r, 'stb-plugin-model-fake', {
      from: dir,
    });
    expect(loaded.map((p) => p.name)).toEqual(['fake']);
    expect(r.has('fake')).toBe(true);
  });

  it('reports a missing package with the npm install command', async () => {
    const err = await caughtAsync(
      loadModelPackage(createModelRegistry(), 'stb-plugin-model-absent', {
        from: dir,
      }),
    );
    expect(err.code).toBe('STB_PLUGIN_DEPENDENCY_MISSING');
    expect(err.message).toMatch(/npm install stb-plugin-model-absent/);
  });

  it('refuses a package without a sequence model export', async () => {
    const err = await caughtAsync(
      loadModelPackage(createModelRegistry(), 'stb-plugin-model-wrong', {
        from: dir,
      }),
    );
    expect(err.code).toBe('STB_PLUGIN_INVALID');
  });

  it('refuses to register something that is not a sequence model', () => {
    const err = caught(() =>
      createModelRegistry().register({ name: 'x' } as never),
    );
    expect(err.code).toBe('STB_PLUGIN_INVALID');
  });
});
