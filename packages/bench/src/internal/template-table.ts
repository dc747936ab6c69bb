import { StbError, templateFacts } from '@stb/core';
import type { QueryTemplate } from '@stb/core';
import type { WireTemplate } from './wire';

/** Templates by id (a `TemplateCatalog` fits; it may grow while events are read). */
export interface TemplateLookup {
  get(id: string): QueryTemplate | undefined;
}

/** What the table tells the rest of the run when it meets a template for the first time. */
export interface TemplateTableHooks {
  /** A new template got `index`; `label` is its metric label (the id, or `other`). */
  added(wt: WireTemplate, label: string): void;
}

/**
 * The run's template table: a dense index per template id (what events carry over the wire),
 * the wire form sent to executors, and the facts the runner needs (writes, for `--read-only`).
 * Facts come from the template record (`boundary`, `writes`), else core's fallback.
 */
export class TemplateTable {
  readonly #lookup: TemplateLookup;
  readonly #index = new Map<string, number>();
  readonly #wire: WireTemplate[] = [];
  readonly #writes: boolean[] = [];
  readonly #maxLabels: number;
  readonly #hooks: TemplateTableHooks;

  constructor(
    lookup: TemplateLookup,
    options: { maxLabels: number; hooks: TemplateTableHooks },
  ) {
    this.#lookup = lookup;
    this.#maxLabels = options.maxLabels;
    this.#hooks = options.hooks;
  }

  /** Templates indexed so far, in index order. */
  get wire(): readonly WireTemplate[] {
    return this.#wire;
  }

  /** True when the template was indexed already. */
  has(id: string): boolean {
    return this.#index.has(id);
  }

  /** Whether the template at `index` writes (skipped by `--read-only`). */
  writes(index: number): boolean {
    return this.#writes[index] === true;
  }

  /** The template's index, indexing it on first use. Throws `STB_TRACE_UNKNOWN_TEMPLATE`. */
  indexOf(id: string): number {
    const known = this.#index.get(id);
    if (known !== undefined) return known;
    const t = this.#lookup.get(id);
    if (t === undefined)
      throw new StbError(
        'STB_TRACE_UNKNOWN_TEMPLATE',
        `[stb] [bench] An event uses template ${id}, which the trace does not define before it. Regenerate the trace.`,
        { details: { templateId: id } },
      );
    const index = this.#wire.length;
    const facts = templateFacts(t);
    const wt: WireTemplate = {
      index,
      id,
      text: t.text,
      queryType: t.queryType,
      txn: facts.boundary,
    };
    this.#index.set(id, index);
    this.#wire.push(wt);
    this.#writes.push(facts.writes);
    this.#hooks.added(wt, index < this.#maxLabels ? id : 'other');
    return index;
  }
}
