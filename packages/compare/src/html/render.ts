import type {
  BenchComparison,
  ComparedQuantile,
  ComparedRun,
  ComparisonScope,
  ComparisonVerdict,
  ErrorCodeChange,
  QuantileComparison,
  TemplateComparison,
  UnmatchedTemplate,
} from '@stb/core';
import { escapeHtml, renderReportDocument } from '@stb/core';

/** Options of {@link renderComparisonHtml}. */
export interface RenderComparisonOptions {
  /** Page title (default "SQL Trace Bench comparison"). */
  readonly title?: string;
  /** Templates in the tables and the interval chart (default 100; the JSON has all). */
  readonly topTemplates?: number;
}

const COLORS = { baseline: '#2563eb', candidate: '#ea580c' } as const;

// The look of the validation report (packages/validator/src/html/render.ts), so both read alike.
/** The comparison report's own rules, after core's shared ones. */
const CSS = `.big{font-size:40px;font-weight:700;letter-spacing:-1px;line-height:1}
.faster{background:#dcfce7;color:#166534}.slower{background:#fee2e2;color:#991b1b}.same{background:#f1f5f9;color:#334155}
`;

/** Escapes text for HTML (core's). */
const esc = escapeHtml;

const int = (n: number): string => n.toLocaleString('en-US');
const pct = (x: number, digits = 2): string => `${(x * 100).toFixed(digits)} %`;
const ms = (x: number): string =>
  x >= 100 ? x.toFixed(1) : x >= 1 ? x.toFixed(3) : x.toFixed(4);

function verdictBadge(v: ComparisonVerdict): string {
  const cls = v === 'no-significant-change' ? 'same' : v;
  const text = v === 'no-significant-change' ? 'no significant change' : v;
  return `<span class="badge ${cls}">${text}</span>`;
}

function ratioCell(q: QuantileComparison): string {
  if (q.ratio === null) return '<td class="num"><span class="na">—</span></td>';
  const color =
    q.verdict === 'slower'
      ? '#991b1b'
      : q.verdict === 'faster'
        ? '#166534'
        : 'inherit';
  return `<td class="num" title="${ms(q.baselineMs)} → ${ms(q.candidateMs)} ms"><b style="color:${color}">${q.ratio.toFixed(3)}×</b> <span class="note">${(q.low ?? 0).toFixed(3)}–${(q.high ?? 0).toFixed(3)}</span></td>`;
}

function runRow(
  label: string,
  f: (r: ComparedRun) => string,
  c: BenchComparison,
): string {
  return `<tr><td>${label}</td><td class="num">${f(c.baseline)}</td><td class="num">${f(c.candidate)}</td></tr>`;
}

function runsTable(c: BenchComparison): string {
  return `<table><thead><tr><th></th><th class="num"><span class="key" style="background:var(--base)"></span>Baseline</th><th class="num"><span class="key" style="background:var(--cand)"></span>Candidate</th></tr></thead><tbody>${[
    runRow('Result', (r) => esc(r.label), c),
    runRow('Status', (r) => esc(r.status), c),
    runRow('Mode', (r) => esc(r.mode), c),
    runRow('Target', (r) => `<span class="mono">${esc(r.target)}</span>`, c),
    runRow('Server', (r) => esc(r.serverVersion ?? '—'), c),
    runRow(
      'Trace',
      (r) =>
        `<span class="mono">${esc(r.traceHash?.slice(0, 16) ?? '—')}</span>`,
      c,
    ),
    runRow('Measured', (r) => `${r.durationSeconds.toFixed(2)} s`, c),
    runRow('Started', (r) => esc(r.startedAt), c),
  ].join('')}</tbody></table>`;
}

function scopeTable(s: ComparisonScope): string {
  const lat = (q: ComparedQuantile): string => {
    const l = s.latency[q];
    return `<tr><td>${q} latency (ms)</td><td class="num">${ms(l.baselineMs)}</td><td class="num">${ms(l.candidateMs)}</td>${ratioCell(l)}<td>${verdictBadge(l.verdict)}</td></tr>`;
  };
  return `<table><thead><tr><th></th><th class="num">Baseline</th><th class="num">Candidate</th><th class="num">Ratio (CI)</th><th>Verdict</th></tr></thead><tbody>
<tr><td>Executions</td><td class="num">${int(s.count.baseline)}</td><td class="num">${int(s.count.candidate)}</td><td class="num">—</td><td></td></tr>
<tr><td>Throughput (/s)</td><td class="num">${s.throughput.baseline}</td><td class="num">${s.throughput.candidate}</td><td class="num">${s.throughput.ratio === null ? '—' : `${s.throughput.ratio.toFixed(3)}×`}</td><td></td></tr>
<tr><td>Error rate</td><td class="num">${pct(s.errorRate.baseline, 3)}</td><td class="num">${pct(s.errorRate.candidate, 3)}</td><td class="num">${s.errorRate.increase >= 0 ? '+' : ''}${pct(s.errorRate.increase, 3)}</td><td></td></tr>
${lat('p50')}${lat('p95')}${lat('p99')}</tbody></table>`;
}

/** A forest plot: per template, the ratio interval of one quantile on a log axis. */
function intervalChart(
  templates: readonly TemplateComparison[],
  q: ComparedQuantile,
  minEffect: number,
): string {
  const rows = templates.filter((t) => t.latency[q].ratio !== null);
  if (rows.length === 0) return '';
  const lo = Math.min(1 - minEffect, ...rows.map((t) => t.latency[q].low ?? 1));
  const hi = Math.max(
    1 + minEffect,
    ...rows.map((t) => t.latency[q].high ?? 1),
  );
  const L = Math.log(Math.max(1e-3, lo * 0.95));
  const H = Math.log(hi * 1.05);
  const W = 1100;
  const left = 170;
  const right = 20;
  const rowH = 18;
  const top = 24;
  const h = top + rows.length * rowH + 30;
  const x = (v: number): number =>
    left + ((Math.log(Math.max(1e-3, v)) - L) / (H - L)) * (W - left - right);
  const parts: string[] = [];
  parts.push(
    `<rect x="${x(1 - minEffect).toFixed(1)}" y="${top - 4}" width="${(x(1 + minEffect) - x(1 - minEffect)).toFixed(1)}" height="${rows.length * rowH + 4}" fill="#f1f5f9"/>`,
    `<line class="axis" x1="${x(1).toFixed(1)}" x2="${x(1).toFixed(1)}" y1="${top - 6}" y2="${top + rows.length * rowH}"/>`,
  );
  const ticks = [0.5, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 2, 3, 5, 10, 20].filter(
    (t) => t >= Math.exp(L) && t <= Math.exp(H),
  );
  for (const t of ticks)
    parts.push(
      `<text class="tick" x="${x(t).toFixed(1)}" y="${h - 8}" text-anchor="middle">${t}×</text>`,
    );
  rows.forEach((t, i) => {
    const l = t.latency[q];
    const y = top + i * rowH + rowH / 2;
    const color =
      l.verdict === 'slower'
        ? '#dc2626'
        : l.verdict === 'faster'
          ? '#16a34a'
          : '#475569';
    parts.push(
      `<text class="blabel" x="${left - 8}" y="${y + 4}" text-anchor="end">${esc(t.templateId.slice(0, 16))}</text>`,
      `<line x1="${x(l.low ?? 1).toFixed(1)}" x2="${x(l.high ?? 1).toFixed(1)}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2"/>`,
      `<circle cx="${x(l.ratio ?? 1).toFixed(1)}" cy="${y}" r="3.5" fill="${color}"><title>${esc(t.templateId)}: ${(l.ratio ?? 0).toFixed(3)}× (${(l.low ?? 0).toFixed(3)}–${(l.high ?? 0).toFixed(3)})</title></circle>`,
    );
  });
  return `<svg class="chart" viewBox="0 0 ${W} ${h}" role="img" aria-label="${q} ratio intervals per template"><text class="tick" x="${left}" y="14">${q} candidate ÷ baseline (log scale); shaded: ±${(minEffect * 100).toFixed(1)} %</text>${parts.join('')}</svg>`;
}

function templateTable(templates: readonly TemplateComparison[]): string {
  return `<table><thead><tr><th>Template</th><th>Type</th><th class="num">Executions</th><th class="num">Throughput</th><th class="num">p50</th><th class="num">p95</th><th class="num">p99</th><th class="num">Errors</th><th>Verdict</th></tr></thead><tbody>${templates
    .map(
      (t) =>
        `<tr><td class="mono">${esc(t.templateId)}</td><td>${esc(t.queryType)}</td><td class="num">${int(t.count.baseline)} → ${int(t.count.candidate)}</td><td class="num">${t.throughput.ratio === null ? '—' : `${t.throughput.ratio.toFixed(3)}×`}</td>${ratioCell(t.latency.p50)}${ratioCell(t.latency.p95)}${ratioCell(t.latency.p99)}<td class="num">${pct(t.errorRate.baseline, 2)} → ${pct(t.errorRate.candidate, 2)}</td><td>${verdictBadge(t.verdict)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

function errorRows(t: TemplateComparison): string[] {
  const row = (kind: string, e: ErrorCodeChange): string =>
    `<tr><td class="mono">${esc(t.templateId)}</td><td>${kind}</td><td class="mono">${esc(e.code)}</td><td class="num">${int(e.baseline)} (${pct(e.baselineRate, 3)})</td><td class="num">${int(e.candidate)} (${pct(e.candidateRate, 3)})</td></tr>`;
  return [
    ...t.errors.new.map((e) => row('new', e)),
    ...t.errors.missing.map((e) => row('missing', e)),
    ...t.errors.changed.map((e) => row('changed', e)),
  ];
}

function rowsTable(templates: readonly TemplateComparison[]): string {
  const changed = templates.filter((t) => t.rows.changed);
  if (changed.length === 0)
    return '<p class="note">Every compared template returned or affected the same rows (within the tolerance).</p>';
  return `<table><thead><tr><th>Template</th><th class="num">Mean rows</th><th class="num">Range</th><th class="num">Mean ratio</th><th class="num">Histogram distance</th></tr></thead><tbody>${changed
    .map((t) => {
      const a = t.rows.baseline;
      const b = t.rows.candidate;
      return `<tr><td class="mono">${esc(t.templateId)}</td><td class="num">${a ? a.mean : '—'} → ${b ? b.mean : '—'}</td><td class="num">${a ? `${a.min}–${a.max}` : '—'} → ${b ? `${b.min}–${b.max}` : '—'}</td><td class="num">${t.rows.meanRatio === null ? '—' : `${t.rows.meanRatio.toFixed(3)}×`}</td><td class="num">${t.rows.distance === null ? '—' : t.rows.distance.toFixed(3)}</td></tr>`;
    })
    .join('')}</tbody></table>`;
}

function unmatchedList(
  title: string,
  list: readonly UnmatchedTemplate[],
): string {
  if (list.length === 0) return '';
  return `<h2>${title}</h2><table><thead><tr><th>Template</th><th>Type</th><th class="num">Executions</th></tr></thead><tbody>${list
    .map(
      (t) =>
        `<tr><td class="mono">${esc(t.templateId)}</td><td>${esc(t.queryType)}</td><td class="num">${int(t.count)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

/**
 * Renders a {@link BenchComparison} as one self-contained HTML document (inline CSS and SVG, no
 * scripts, no external assets, no network requests), in the style of the validation report.
 * @example
 * await writeFile('compare.html', renderComparisonHtml(report));
 */
export function renderComparisonHtml(
  report: BenchComparison,
  options: RenderComparisonOptions = {},
): string {
  const title = options.title ?? 'SQL Trace Bench comparison';
  const top = options.topTemplates ?? 100;
  const tpl = report.templates.slice(0, top);
  const s = report.summary;
  const sections: string[] = [];
  const gate =
    report.thresholds.length === 0
      ? ''
      : `<span class="badge ${report.passed ? 'pass' : 'fail'}">${report.passed ? 'PASS' : 'FAIL'} · ${report.thresholds.filter((t) => !t.passed).length} of ${report.thresholds.length} threshold checks failed</span>`;
  sections.push(
    `<section class="card hero"><div><div class="note">Overall</div><div class="big">${verdictBadge(report.overall.verdict)}</div></div><div><div class="note">Templates</div><div><b>${s.slower}</b> slower · <b>${s.faster}</b> faster · <b>${s.unchanged}</b> no significant change · <b>${s.errorDivergence}</b> with error divergence · <b>${s.rowDivergence}</b> with row divergence</div><div style="margin-top:6px">${gate}</div><p class="note" style="max-width:720px">${esc(report.method)}</p></div></section>`,
  );
  if (report.warnings.length > 0)
    sections.push(
      `<section class="card warn"><h2>Warnings</h2><ul>${report.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></section>`,
    );
  if (report.thresholds.length > 0) {
    const failed = report.thresholds.filter((t) => !t.passed);
    const shown =
      failed.length > 0
        ? failed
        : report.thresholds.filter((t) => t.scope === 'overall');
    sections.push(
      `<section class="card"><h2>Thresholds</h2><table><thead><tr><th>Threshold</th><th>Scope</th><th>Result</th><th>Measured</th></tr></thead><tbody>${shown
        .map(
          (t) =>
            `<tr><td class="mono">${esc(t.threshold)}</td><td class="mono">${esc(t.scope)}</td><td><span class="badge ${t.passed ? 'pass' : 'fail'}">${t.passed ? 'pass' : 'fail'}</span></td><td>${esc(t.message)}</td></tr>`,
        )
        .join(
          '',
        )}</tbody></table>${failed.length > 0 ? '' : `<p class="note">All ${report.thresholds.length} checks passed (overall shown; per-template checks in the JSON).</p>`}</section>`,
    );
  }
  sections.push(
    `<section class="card"><h2>Whole run</h2>${scopeTable(report.overall)}</section>`,
  );
  sections.push(
    `<section class="card"><h2>Runs</h2>${runsTable(report)}</section>`,
  );
  const charts = (['p50', 'p95'] as const)
    .map((q) => intervalChart(tpl, q, report.options.minEffect))
    .join('');
  if (charts !== '')
    sections.push(
      `<section class="card"><h2>Latency ratio intervals</h2>${charts}</section>`,
    );
  sections.push(
    `<section class="card"><h2>Templates</h2>${tpl.length > 0 ? templateTable(tpl) : '<p class="na">No template ran in both runs.</p>'}${report.templates.length > top ? `<p class="note">${report.templates.length - top} more templates in the JSON report.</p>` : ''}</section>`,
  );
  const errs = report.templates.flatMap(errorRows);
  sections.push(
    `<section class="card"><h2>Error divergence</h2>${errs.length > 0 ? `<table><thead><tr><th>Template</th><th>Change</th><th>Code</th><th class="num">Baseline</th><th class="num">Candidate</th></tr></thead><tbody>${errs.join('')}</tbody></table>` : '<p class="note">No new, missing or changed error codes.</p>'}</section>`,
  );
  sections.push(
    `<section class="card"><h2>Row divergence</h2>${rowsTable(report.templates)}</section>`,
  );
  const only =
    unmatchedList('Only in the baseline', report.onlyInBaseline) +
    unmatchedList('Only in the candidate', report.onlyInCandidate);
  if (only !== '') sections.push(`<section class="card">${only}</section>`);
  sections.push(
    `<footer>Generated ${esc(report.createdAt)} · comparison format v${report.version} · minimum effect ${pct(report.options.minEffect, 1)} · confidence ${pct(report.options.confidence, 0)} · ${report.options.resamples} bootstrap resamples, seed ${report.options.seed}.</footer>`,
  );
  return renderReportDocument({
    title,
    subtitle: `${report.candidate.label} (candidate) compared with ${report.baseline.label} (baseline)`,
    colors: { base: COLORS.baseline, cand: COLORS.candidate },
    css: CSS,
    sections,
  });
}
