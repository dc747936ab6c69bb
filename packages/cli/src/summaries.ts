import type { ModelArtifact } from '@stb/models';

/** Microseconds → `1h 2m 3.4s` (for people). */
export function formatDurationUs(us: number): string {
  if (!Number.isFinite(us)) return 'n/a';
  const s = us / 1e6;
  if (s < 1) return `${(us / 1000).toFixed(1)} ms`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${(s - m * 60).toFixed(0)}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${m - h * 60}m`;
}

/** Epoch µs → ISO-8601 with microseconds. */
export function isoOfUs(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString();
  const micro = String(us - ms * 1000).padStart(3, '0');
  return `${iso.slice(0, -1)}${micro}Z`;
}

/** The machine-readable facts of an artifact, for `--json` summaries. */
export function artifactSummary(artifact: ModelArtifact): {
  kind: string;
  dialect: string;
  source: ModelArtifact['source'];
  templates: number;
} {
  return {
    kind: artifact.kind,
    dialect: artifact.dialect,
    source: artifact.source,
    templates: artifact.templates.length,
  };
}
