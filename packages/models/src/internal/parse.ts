import type { z } from 'zod';

/**
 * Parses `value` with `schema`; on failure throws an Error whose message names the path and the
 * problem of the first issue (short enough for a one-line CLI error).
 */
export function parseOrThrow<T>(
  schema: z.ZodType<T>,
  value: unknown,
  what: string,
): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
  throw new Error(`${what}: at \`${path}\`: ${issue?.message ?? 'invalid'}.`);
}
