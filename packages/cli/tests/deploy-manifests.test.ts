// Issue 21: the Kubernetes manifests in deploy/k8s validate against the Kubernetes API schemas
// (kubernetes-models, generated from the OpenAPI spec and validated with ajv; ESM only, so
// tools/k8s/validate-manifests.mjs runs it in a child process), run commands the CLI has, and the
// Dockerfile passes a Dockerfile linter (dockerfile-utils).
import { spawnSync } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { parseAllDocuments } from 'yaml';
import { runStb } from './helpers';

const ROOT = path.resolve(__dirname, '../../..');
const K8S = path.join(ROOT, 'deploy/k8s');
const VALIDATE = path.join(ROOT, 'tools/k8s/validate-manifests.mjs');
const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml'));
const dir = mkdtempSync(path.join(tmpdir(), 'stb-k8s-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Doc {
  kind: string;
  metadata: { name: string };
  spec: {
    completions?: unknown;
    template?: {
      spec: {
        containers: { image: string; args?: string[]; command?: string[] }[];
      };
    };
  };
}

function validate(paths: string[]): {
  code: number | null;
  results: { file: string; kind: string; error: string | null }[];
} {
  const r = spawnSync(process.execPath, [VALIDATE, ...paths], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return {
    code: r.status,
    results: r.stdout
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as { file: string; kind: string; error: string | null },
      ),
  };
}

const docs: Doc[] = files.flatMap((f) =>
  parseAllDocuments(readFileSync(path.join(K8S, f), 'utf8')).map(
    (d) => d.toJS() as Doc,
  ),
);

describe('issue 21: deploy/k8s manifests', () => {
  it('has the learn, merge-models, bench, merge-results and volume manifests', () => {
    expect([...files].sort()).toEqual([
      'stb-bench-job.yaml',
      'stb-learn-job.yaml',
      'stb-merge-models-job.yaml',
      'stb-merge-results-job.yaml',
      'stb-volumes.yaml',
    ]);
  });

  it('every document passes the Kubernetes schema', () => {
    const r = validate(files.map((f) => path.join(K8S, f)));
    expect(r.results.filter((x) => x.error !== null)).toEqual([]);
    expect(r.results).toHaveLength(docs.length);
    expect(r.code).toBe(0);
  });

  it('rejects a broken manifest (the validator is not a no-op)', () => {
    const job = structuredClone(docs.find((d) => d.kind === 'Job') as Doc);
    job.spec.completions = 'four';
    const file = path.join(dir, 'broken.yaml');
    writeFileSync(file, JSON.stringify(job));
    const r = validate([file]);
    expect(r.code).toBe(1);
    expect(r.results[0]?.error).toMatch(/completions/);
  });

  it('runs the image built from this repo, with commands the CLI has', async () => {
    for (const d of docs)
      for (const c of d.spec.template?.spec.containers ?? []) {
        expect(c.image).toBe('stb:0.1.0');
        expect(c.command).toBeUndefined();
        expect(JSON.stringify(c.args)).not.toMatch(/npx|npm /);
        const r = await runStb([c.args?.[0] as string, '--help']);
        expect(r.code).toBe(0);
      }
  }, 60_000);

  it('has a Dockerfile that passes the linter and pins its versions', () => {
    const text = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(lintDockerfile(text)).toEqual([]);
    expect(text).toMatch(/ARG NODE_IMAGE=node:\d+\.\d+\.\d+-/);
    expect(text).toMatch(/npm ci/);
  });

  it('has a Grafana shard variable that every panel query filters on', () => {
    const dash = JSON.parse(
      readFileSync(
        path.join(ROOT, 'deploy/grafana/stb-dashboard.json'),
        'utf8',
      ),
    ) as {
      templating: { list: { name: string; includeAll?: boolean }[] };
      panels: { targets: { expr: string }[] }[];
    };
    expect(
      dash.templating.list.find((v) => v.name === 'shard')?.includeAll,
    ).toBe(true);
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(0);
    for (const e of exprs) expect(e).toContain('instance=~"$shard"');
    const rules = readFileSync(
      path.join(ROOT, 'deploy/prometheus/stb-recording-rules.yml'),
      'utf8',
    );
    expect(rules).toContain(
      'sum by (template, outcome) (rate(stb_bench_queries_total[1m]))',
    );
    const rulesDoc = parseAllDocuments(rules)[0]?.toJS() as {
      groups: { rules: { record: string; expr: string }[] }[];
    };
    expect(rulesDoc.groups[0]?.rules.length).toBeGreaterThan(3);
  });
});
