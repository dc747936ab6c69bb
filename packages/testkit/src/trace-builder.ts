import {
  TemplateCatalog,
  computeTemplateId,
  createTraceHeader,
} from '@stb/core';
import type {
  Dialect,
  ParamValue,
  QueryTemplate,
  QueryType,
  TraceEvent,
  TraceHeader,
} from '@stb/core';

/** Builds a template record whose id is computed from the text. */
export function template(
  dialect: Dialect,
  text: string,
  queryType: QueryType,
): QueryTemplate {
  return {
    kind: 'template',
    id: computeTemplateId(dialect, text),
    text,
    queryType,
    tables: [],
    slots: [],
  };
}

/** An in-memory trace: add events per session; yields them in start order. */
export class TraceBuilder {
  readonly catalog = new TemplateCatalog();
  readonly events: TraceEvent[] = [];
  readonly counts = new Map<string, number>();
  #t = 1_700_000_000_000_000;

  constructor(readonly dialect: Dialect) {}

  add(sessionId: string, t: QueryTemplate, params: ParamValue[] = []): this {
    this.catalog.add(t);
    this.#t += 1000;
    this.events.push({
      kind: 'event',
      startUs: this.#t,
      sessionId,
      templateId: t.id,
      params,
    });
    this.counts.set(t.id, (this.counts.get(t.id) ?? 0) + 1);
    return this;
  }

  trace(): {
    header: TraceHeader;
    templates: TemplateCatalog;
    events: AsyncIterable<TraceEvent>;
  } {
    const events = this.events;
    return {
      header: createTraceHeader({
        dialect: this.dialect,
        createdAt: '2024-01-01T00:00:00Z',
      }),
      templates: this.catalog,
      events: (async function* () {
        yield* events;
      })(),
    };
  }
}

/** Deterministic interleaving of session event lists (round-robin). */
export function interleave<T>(lists: readonly T[][]): T[] {
  const out: T[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++)
    for (const l of lists) if (i < l.length) out.push(l[i] as T);
  return out;
}
