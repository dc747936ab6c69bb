#!/usr/bin/env node
// Validates Kubernetes manifests against the API schemas with kubernetes-models (models generated
// from the Kubernetes OpenAPI spec, validated by ajv). ESM only, hence a script the tests spawn.
// Usage: node tools/k8s/validate-manifests.mjs file.yaml… → one JSON line per document; exit 1
// when any document is invalid or of a kind this script does not know.
import { readFileSync } from 'node:fs';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { parseAllDocuments } from 'yaml';

const MODELS = {
  'batch/v1 Job': Job,
  'v1 PersistentVolumeClaim': PersistentVolumeClaim,
};
let failed = false;
for (const file of process.argv.slice(2)) {
  for (const d of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const doc = d.toJS();
    const Model = MODELS[`${doc?.apiVersion} ${doc?.kind}`];
    let error = null;
    if (d.errors.length > 0) error = d.errors.map((e) => e.message).join('; ');
    else if (!Model)
      error = `unknown apiVersion/kind ${doc?.apiVersion} ${doc?.kind}`;
    else {
      try {
        new Model(doc).validate();
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
    }
    if (error) failed = true;
    console.log(
      JSON.stringify({
        file,
        kind: doc?.kind,
        name: doc?.metadata?.name,
        error,
      }),
    );
  }
}
process.exitCode = failed ? 1 : 0;
