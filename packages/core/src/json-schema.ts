import { z } from 'zod';
import {
  ParamValue,
  QueryTemplate,
  TRACE_FORMAT_VERSION,
  TraceDocument,
  TraceEvent,
  TraceHeader,
  TraceRecord,
} from './schema';

/**
 * The JSON Schema (draft 2020-12) of a trace, generated from the zod schemas. The root
 * validates one record (one JSON Lines line); `$defs` also holds `TraceHeader`,
 * `QueryTemplate`, `TraceEvent`, `ParamValue` and the whole-file `TraceDocument`.
 * Published as `@stb/core/trace.schema.json`.
 */
export function traceJsonSchema(): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  registry.add(TraceRecord, { id: 'TraceRecord' });
  registry.add(TraceHeader, { id: 'TraceHeader' });
  registry.add(QueryTemplate, { id: 'QueryTemplate' });
  registry.add(TraceEvent, { id: 'TraceEvent' });
  registry.add(ParamValue, { id: 'ParamValue' });
  registry.add(TraceDocument, { id: 'TraceDocument' });
  const all = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'input',
    cycles: 'ref',
    reused: 'inline',
    uri: (id) => `#/$defs/${id}`,
  });
  const defs: Record<string, unknown> = {};
  for (const [id, schema] of Object.entries(all.schemas)) {
    const { $schema: _s, $id: _i, ...rest } = schema as Record<string, unknown>;
    defs[id] = rest;
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://sql-trace-bench.dev/schemas/trace.schema.json',
    title: `SQL Trace Bench trace record (version ${TRACE_FORMAT_VERSION})`,
    description:
      'One record of a trace file (one line of JSON Lines): a header, a template or an event. `$defs.TraceDocument` is the whole-file JSON form.',
    $ref: '#/$defs/TraceRecord',
    $defs: defs,
  };
}
