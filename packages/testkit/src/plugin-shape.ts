import type { PluginBase } from '@stb/core';
import { KEBAB_CASE } from './framework';
import type { TestExpectation } from './framework';

/** What is wrong with the shared plugin fields (STYLE.md §8), as messages; empty when fine. */
export function pluginBaseProblems(
  plugin: PluginBase<unknown>,
  kind: PluginBase<unknown>['kind'],
): string[] {
  const problems: string[] = [];
  if (plugin.kind !== kind)
    problems.push(`kind is ${String(plugin.kind)}, expected ${kind}`);
  if (typeof plugin.name !== 'string' || !KEBAB_CASE.test(plugin.name))
    problems.push(`name ${JSON.stringify(plugin.name)} is not kebab-case`);
  if ((plugin.apiVersion as unknown) !== 1)
    problems.push(`apiVersion is ${String(plugin.apiVersion)}, expected 1`);
  if (typeof plugin.options?.safeParse !== 'function')
    problems.push('options is not a zod schema');
  if (
    plugin.description !== undefined &&
    typeof plugin.description !== 'string'
  )
    problems.push('description is not a string');
  if (
    plugin.dependencies !== undefined &&
    (!Array.isArray(plugin.dependencies) ||
      plugin.dependencies.some((d) => typeof d !== 'string'))
  )
    problems.push('dependencies is not a list of package names');
  return problems;
}

/** Issues of a zod `safeParse` result, as `path: message` lines (empty on success). */
export function zodIssues(result: {
  success: boolean;
  error?: { issues: readonly { path: PropertyKey[]; message: string }[] };
}): string[] {
  if (result.success) return [];
  return (result.error?.issues ?? []).map(
    (i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`,
  );
}

/** Asserts that the plugin's options schema accepts `input` (listing the issues when not). */
export function expectOptionsAccepted(
  expect: (actual: unknown) => TestExpectation,
  plugin: PluginBase<unknown>,
  input: unknown,
): void {
  expect(zodIssues(plugin.options.safeParse(input))).toEqual([]);
}
