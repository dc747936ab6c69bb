import type { QueryTemplate } from './schema';

/**
 * A growing set of templates keyed by id. Stages that stream events add templates as they meet
 * them; `add` tells whether a template is new, so writers can emit it before its first event.
 */
export class TemplateCatalog implements Iterable<QueryTemplate> {
  readonly #byId = new Map<string, QueryTemplate>();

  constructor(templates: Iterable<QueryTemplate> = []) {
    for (const t of templates) this.#byId.set(t.id, t);
  }

  /** Adds a template; returns true when its id was not known before. */
  add(template: QueryTemplate): boolean {
    if (this.#byId.has(template.id)) return false;
    this.#byId.set(template.id, template);
    return true;
  }

  get(id: string): QueryTemplate | undefined {
    return this.#byId.get(id);
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  get size(): number {
    return this.#byId.size;
  }

  [Symbol.iterator](): Iterator<QueryTemplate> {
    return this.#byId.values();
  }

  /** Templates in insertion order. */
  toArray(): QueryTemplate[] {
    return [...this.#byId.values()];
  }
}
