// Writes dist/trace.schema.json (published as `@stb/core/trace.schema.json`) from the built
// package's zod schemas. Run by `npm run build` after tsup.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { traceJsonSchema } from '../dist/index.js';

const out = fileURLToPath(
  new URL('../dist/trace.schema.json', import.meta.url),
);
writeFileSync(out, `${JSON.stringify(traceJsonSchema(), null, 2)}\n`);
