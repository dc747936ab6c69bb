import {
  StbError,
  TemplateCatalog,
  type QueryTemplate,
  type TemplatePath,
} from '@stb/core';

/**
 * The templates an extraction run has met. Kept (`keep`, the default of `keepTemplates`): every
 * template, in a catalog callers may read. Not kept: each template only until the run hands out
 * its record ({@link take}), and then its id and path alone, which is what counting the run's
 * events needs (issue 19; docs/extraction.md, "Memory bound").
 */
export class RunTemplates {
  readonly #catalog: TemplateCatalog | undefined;
  /** Not kept: the path of every template met. */
  readonly #paths = new Map<string, TemplatePath>();
  /** Not kept: templates whose record was not handed out yet. */
  readonly #pending = new Map<string, QueryTemplate>();

  constructor(keep: boolean) {
    this.#catalog = keep ? new TemplateCatalog() : undefined;
  }

  /** Every template met so far, when kept; throws otherwise. */
  get catalog(): TemplateCatalog {
    if (this.#catalog === undefined)
      throw new StbError(
        'STB_USAGE',
        '[stb] [extractor] This extraction run was started with `keepTemplates: false`, so it keeps no catalog. Start it without that option to read its templates.',
      );
    return this.#catalog;
  }

  /** Number of templates met so far. */
  get size(): number {
    return this.#catalog?.size ?? this.#paths.size;
  }

  /** Adds a template; returns true when its id was not known before. */
  add(template: QueryTemplate): boolean {
    if (this.#catalog) return this.#catalog.add(template);
    if (this.#paths.has(template.id)) return false;
    this.#paths.set(template.id, template.path ?? 'lexer');
    this.#pending.set(template.id, template);
    return true;
  }

  /** The path that made a known template, or undefined for an unknown id. */
  pathOf(id: string): TemplatePath | undefined {
    if (!this.#catalog) return this.#paths.get(id);
    const t = this.#catalog.get(id);
    return t === undefined ? undefined : (t.path ?? 'lexer');
  }

  /** The template, for its record (given once per template when not kept). */
  take(id: string): QueryTemplate | undefined {
    if (this.#catalog) return this.#catalog.get(id);
    const t = this.#pending.get(id);
    this.#pending.delete(id);
    return t;
  }
}
