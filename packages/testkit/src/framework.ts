import { StbError } from '@stb/core';

/** The matchers the suites use; jest's and vitest's `expect` both provide them. */
export interface TestExpectation {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeGreaterThan(expected: number): void;
  toBeGreaterThanOrEqual(expected: number): void;
  toBeLessThan(expected: number): void;
  toBeLessThanOrEqual(expected: number): void;
  toBeCloseTo(expected: number, digits?: number): void;
  toHaveLength(expected: number): void;
  readonly not: {
    toBe(expected: unknown): void;
    toEqual(expected: unknown): void;
  };
}

/**
 * The test-framework functions a suite registers its tests with (A1's `TestFramework` idea).
 * jest's and vitest's globals fit this shape, so `import { describe, it, expect } from 'vitest'`
 * can be passed as is.
 */
export interface TestFramework {
  describe(this: void, name: string, fn: () => void): void;
  it(this: void, name: string, fn: () => unknown, timeoutMs?: number): void;
  expect(this: void, actual: unknown): TestExpectation;
  beforeAll(this: void, fn: () => unknown, timeoutMs?: number): void;
  afterAll(this: void, fn: () => unknown, timeoutMs?: number): void;
}

const NAMES = ['describe', 'it', 'expect', 'beforeAll', 'afterAll'] as const;

/**
 * The framework a suite runs with: each function from `override` when given, else the global of
 * that name (jest, or vitest with `globals: true`).
 * @throws StbError `STB_USAGE` when a function is neither given nor global.
 */
export function resolveTestFramework(
  override: Partial<TestFramework> = {},
): TestFramework {
  const g = globalThis as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const name of NAMES) {
    const fn = override[name] ?? g[name];
    if (typeof fn !== 'function')
      throw new StbError(
        'STB_USAGE',
        `[stb] [testkit] No \`${name}\` function: the suite needs jest or vitest globals. Pass \`framework: { describe, it, expect, beforeAll, afterAll }\` (e.g. imported from 'vitest').`,
        { details: { missing: name } },
      );
    out[name] = fn;
  }
  return out as unknown as TestFramework;
}

/** kebab-case, as plugin names must be (STYLE.md §8). */
export const KEBAB_CASE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Calls `fn` once, on first use, and keeps its promise (a lazily shared fixture). */
export function lazy<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}
