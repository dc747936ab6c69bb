import type { QueryTemplate } from '@stb/core';
import { templateFacts } from '@stb/core';

/**
 * Transaction boundary per template id, as the models' small codes: 1 begin (BEGIN, START
 * TRANSACTION), 2 end (COMMIT, ROLLBACK, …); templates that mark none are absent. From core's
 * template facts (the extractor's record, else core's fallback from the text).
 */
export function boundaryTable(
  templates: readonly QueryTemplate[] | undefined,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of templates ?? []) {
    const b = templateFacts(t).boundary;
    if (b === 'begin') out.set(t.id, 1);
    else if (b === 'end') out.set(t.id, 2);
  }
  return out;
}
