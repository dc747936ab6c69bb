import type {
  PerformanceFidelity,
  StatisticalTest,
  ValidationCdf,
  ValidationLeak,
  ValidationLoadChart,
  ValidationProperty,
  ValidationReport,
  ValidationTraceSummary,
} from '@stb/core';
import { renderReportDocument } from '@stb/core';

import {
  COLORS,
  esc,
  fmtNum,
  fmtUs,
  heatMap,
  lineChart,
  pairedBars,
} from './svg';

/** Options of {@link renderHtmlReport}. */
export interface RenderHtmlOptions {
  /** Page title (default "SQL Trace Bench fidelity report"). */
  title?: string;
  /** Templates in the frequency chart (default 20). */
  topTemplates?: number;
}

/** The validation report's own rules, after core's shared ones. */
const CSS = `.score{font-size:56px;font-weight:700;letter-spacing:-1px;line-height:1}
td.test{white-space:nowrap}
.bar{position:relative;width:140px;height:10px;background:#eef2f7;border-radius:5px;overflow:hidden;display:inline-block;vertical-align:middle;margin-right:8px}
.bar>span{position:absolute;left:0;top:0;bottom:0;border-radius:5px}
.grid2{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:14px}
.chart .ctitle{font-size:13px;font-weight:600;fill:var(--fg)}
.chart .legend{font-size:11px;fill:var(--fg)}
.chart .blabel{font-size:11.5px}
.chart .muted{fill:var(--muted);font-size:12px}
.chart .cell{font-size:9.5px;fill:var(--fg)}
.chart .cell.inv{fill:#fff}
.sql{max-width:560px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
`;

/** The leak gate: shares and the slots that leaked, by column and count, never values. */
function leakSection(leak: ValidationLeak): string {
  const gate =
    leak.passed === undefined
      ? ''
      : `<span class="badge ${leak.passed ? 'pass' : 'fail'}">${leak.passed ? 'PASS' : 'FAIL'} · max ${(leak.maxLeak ?? 0).toString()}</span> `;
  const pct = (leak.share * 100).toFixed(3);
  const sampled =
    leak.samplingRate < 1
      ? ` Checked by hash sample: ${(leak.samplingRate * 100).toPrecision(3)} % of the literal space (the original had more distinct literals than the memory cap).`
      : '';
  const rows = leak.slots
    .map(
      (s) =>
        `<tr><td class="mono">${esc(s.templateId)}</td><td class="mono">$${s.slot + 1}</td><td class="mono">${esc(s.column ?? '—')}</td><td class="num">${fmtNum(s.leaked)}</td></tr>`,
    )
    .join('');
  const table =
    leak.slots.length > 0
      ? `<table><thead><tr><th>Template</th><th>Slot</th><th>Column</th><th class="num">Leaked literals</th></tr></thead><tbody>${rows}</tbody></table>`
      : '<p>No generated literal is a rare literal of the original.</p>';
  return `<section class="card${leak.leaked > 0 ? ' warn' : ''}"><h2>Leak check (gate, not part of the score)</h2><p>${gate}<b>${fmtNum(leak.leaked)}</b> of ${fmtNum(leak.checked)} generated literals (${pct} %) occur verbatim in the original, where they were seen in fewer than ${leak.minSessions} sessions.${sampled}</p>${table}<p class="note">Literals: text of strings, JSON (and its string leaves), UUIDs, bytes and list elements. Values are never shown.</p></section>`;
}

function scoreColor(s: number): string {
  if (s >= 0.9) return '#16a34a';
  if (s >= 0.75) return '#ca8a04';
  return '#dc2626';
}

function scoreBar(s: number | null): string {
  if (s === null) return '<span class="na">n/a</span>';
  return `<span class="bar"><span style="width:${(s * 100).toFixed(1)}%;background:${scoreColor(s)}"></span></span><b>${s.toFixed(3)}</b>`;
}

/** Formats a p-value, using its bound or log10 when it is tiny. */
function fmtP(t: StatisticalTest): string {
  if (t.pValueBound !== undefined)
    return `${esc(t.pValueBound)} <span class="note">(10^${t.log10PValue.toFixed(0)})</span>`;
  if (t.pValue === 0 || t.pValue < 1e-4) return t.pValue.toExponential(2);
  return t.pValue.toFixed(4);
}

function fmtTest(t: StatisticalTest | null): string {
  if (t === null) return '<span class="na">—</span>';
  const stat =
    t.name === 'bonferroni-min'
      ? `min p × ${t.statistic}`
      : `${t.name === 'chi-square' ? 'χ²' : 'D'} = ${fmtNum(t.statistic)}${t.df !== undefined ? `, df ${t.df}` : ''}`;
  return `<span class="mono">${esc(stat)}</span>${t.method ? ` <span class="note">${esc(t.method)}</span>` : ''}`;
}

function propertyRow(p: ValidationProperty): string {
  return `<tr><td>${esc(p.label)}${p.note ? `<div class="note">${esc(p.note)}</div>` : ''}</td><td>${p.applicable ? scoreBar(p.score) : '<span class="na">not applicable</span>'}</td><td class="num">${p.distance ? `<span class="mono">${esc(p.distance.name)} ${fmtNum(p.distance.value)}</span>` : '—'}</td><td class="test">${fmtTest(p.test)}</td><td class="num">${p.test ? fmtP(p.test) : '—'}</td><td class="num">${p.applicable ? fmtNum(p.weight) : `<span class="na">${fmtNum(p.weight)}</span>`}</td></tr>`;
}

function spanOf(s: ValidationTraceSummary): string {
  return s.firstStartUs === null || s.lastStartUs === null
    ? '—'
    : fmtUs(s.lastStartUs - s.firstStartUs);
}

function summaryTable(r: ValidationReport): string {
  const rows: [string, (s: ValidationTraceSummary) => string][] = [
    ['Trace', (s) => esc(s.label)],
    ['Dialect', (s) => esc(s.dialect ?? '—')],
    ['Events', (s) => s.events.toLocaleString('en-US')],
    ['Sessions', (s) => s.sessions.toLocaleString('en-US')],
    ['Templates', (s) => s.templates.toLocaleString('en-US')],
    ['Time span', spanOf],
    [
      'Events with duration',
      (s) => s.eventsWithDuration.toLocaleString('en-US'),
    ],
    ['Exact-repeat rate', (s) => `${(s.repeatRate * 100).toFixed(2)} %`],
  ];
  return `<table><thead><tr><th></th><th class="num"><span class="key" style="background:var(--orig)"></span>Original</th><th class="num"><span class="key" style="background:var(--gen)"></span>Generated</th></tr></thead><tbody>${rows
    .map(
      ([k, f]) =>
        `<tr><td>${k}</td><td class="num">${f(r.original)}</td><td class="num">${f(r.generated)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

function cdfChart(c: ValidationCdf): string {
  const isUs = c.unit === 'µs';
  return lineChart({
    title: c.label,
    series: [
      {
        name: 'original',
        color: COLORS.original,
        points: c.original,
        step: true,
      },
      {
        name: 'generated',
        color: COLORS.generated,
        points: c.generated,
        step: true,
        dashed: true,
      },
    ],
    xLog: 'auto',
    yMax: 1,
    xLabel: isUs ? fmtUs : fmtNum,
    yLabel: (v) => `${Math.round(v * 100)}%`,
    xCaption: c.unit ? `${c.unit === 'µs' ? 'time' : c.unit}` : 'value',
  });
}

function arrivalChart(
  r: ValidationReport,
  what: 'Events' | 'Sessions',
): string {
  const a = r.charts.arrival;
  const pts = (xs: number[]): [number, number][] =>
    xs.map((v, i) => [(i + 0.5) / a.bins, v * a.bins]);
  return lineChart({
    title: `${what === 'Events' ? 'Event' : 'Session'} arrival rate (1 = the trace’s average)`,
    series: [
      {
        name: 'original',
        color: COLORS.original,
        points: pts(a[`original${what}`]),
      },
      {
        name: 'generated',
        color: COLORS.generated,
        points: pts(a[`generated${what}`]),
        dashed: true,
      },
    ],
    xLabel: (v) => `${Math.round(v * 100)}%`,
    xCaption: 'share of each trace’s time span',
  });
}

/** One load curve (statements/s or sessions open) of both traces over seconds from their start. */
function loadChart(
  c: ValidationLoadChart | null | undefined,
  title: string,
): string {
  if (!c) return '';
  const pts = (ys: number[]): [number, number][] =>
    ys.map((v, i) => [((i + 0.5) * c.stepUs) / 1e6, v]);
  return lineChart({
    title,
    series: [
      { name: 'original', color: COLORS.original, points: pts(c.original) },
      {
        name: 'generated',
        color: COLORS.generated,
        points: pts(c.generated),
        dashed: true,
      },
    ],
    xCaption: 'seconds from each trace’s first statement',
  });
}

/** The "Load" section: statement rate and concurrency over time (absent in older reports). */
function loadSection(r: ValidationReport): string {
  const load = r.charts.load;
  if (!load || (!load.statementRate && !load.concurrency)) return '';
  return `<section class="card"><h2>Load</h2><div class="grid2">${loadChart(load.statementRate, 'Statements per second')}${loadChart(load.concurrency, 'Sessions open at once')}</div><p class="note">How hard each trace loads a server over time; solid = original, dashed = generated. Scored by the statementRate and concurrency properties.</p></section>`;
}

function burstinessTable(r: ValidationReport): string {
  const fmt = (v: number | null): string =>
    v === null ? '<span class="na">too few windows</span>' : fmtNum(v);
  return `<table><thead><tr><th>Window</th><th class="num">Original VMR</th><th class="num">Generated VMR</th></tr></thead><tbody>${r.charts.burstiness
    .map(
      (b) =>
        `<tr><td>${fmtUs(b.windowUs)}</td><td class="num">${fmt(b.original)}</td><td class="num">${fmt(b.generated)}</td></tr>`,
    )
    .join(
      '',
    )}</tbody></table><p class="note">Variance-to-mean ratio of event counts per window: 1 for a Poisson process, larger when bursty.</p>`;
}

function templateLabel(id: string, text: string | undefined, max = 40): string {
  const t = text === undefined ? '' : text.replace(/\s+/g, ' ');
  const short = t.length > max ? `${t.slice(0, max - 1)}…` : t;
  return `${id.slice(0, 6)} ${short}`;
}

function performanceSection(p: PerformanceFidelity): string {
  const ratio = (r: number | null): string =>
    r === null ? '<span class="na">—</span>' : `${r.toFixed(3)}×`;
  const rows = p.properties
    .map(
      (x) =>
        `<tr><td>${esc(x.label)}</td><td>${scoreBar(x.score)}</td><td class="num">${x.id === 'throughput' ? ratio(x.value) : x.value === null ? '—' : `${(x.value * 100).toFixed(1)} %`}</td><td class="num">±${(x.target * 100).toFixed(0)} %</td><td>${x.withinTarget === null ? '<span class="na">n/a</span>' : `<span class="badge ${x.withinTarget ? 'pass' : 'fail'}">${x.withinTarget ? 'within' : 'outside'}</span>`}</td></tr>`,
    )
    .join('');
  const tpl = p.templates
    .slice(0, 30)
    .map(
      (t) =>
        `<tr><td class="mono">${esc(t.templateId)}</td><td class="num">${t.original.toLocaleString('en-US')}</td><td class="num">${t.generated.toLocaleString('en-US')}</td><td class="num">${ratio(t.p50Ratio)}</td><td class="num">${ratio(t.p95Ratio)}</td><td>${esc(t.verdict === 'no-significant-change' ? 'no significant change' : t.verdict)}</td></tr>`,
    )
    .join('');
  return `<section class="card"><h2>Performance fidelity <span class="note">score ${p.score.toFixed(3)} · reported beside the composite</span></h2><p class="note">${esc(p.original)} and ${esc(p.generated)} replayed on ${esc(p.target)}; ratios are generated ÷ original. The value column is the share of executions in templates within the target (latencies) or the ratio (throughput).</p><table><thead><tr><th>Measure</th><th>Agreement</th><th class="num">Value</th><th class="num">Target</th><th></th></tr></thead><tbody>${rows}</tbody></table><table><thead><tr><th>Template</th><th class="num">Original runs</th><th class="num">Generated runs</th><th class="num">p50 ratio</th><th class="num">p95 ratio</th><th>Verdict</th></tr></thead><tbody>${tpl}</tbody></table>${p.onlyInOriginal + p.onlyInGenerated > 0 ? `<p class="note">${p.onlyInOriginal} template(s) ran only in the original replay, ${p.onlyInGenerated} only in the generated one.</p>` : ''}</section>`;
}

/**
 * Renders a {@link ValidationReport} as one self-contained HTML document: inline CSS and SVG, no
 * scripts, no external assets, no network requests.
 * @example
 * await writeFile('report.html', renderHtmlReport(report));
 */
export function renderHtmlReport(
  report: ValidationReport,
  options: RenderHtmlOptions = {},
): string {
  const title = options.title ?? 'SQL Trace Bench fidelity report';
  const top = options.topTemplates ?? 20;
  const totA = Math.max(1, report.original.events);
  const totB = Math.max(1, report.generated.events);
  const tplRows = report.templates.slice(0, top).map((t) => ({
    label: templateLabel(t.id, t.text),
    original: t.original / totA,
    generated: t.generated / totB,
  }));
  const textById = new Map(report.templates.map((t) => [t.id, t.text]));
  const short = report.charts.transitions.templateIds.map((id) =>
    id.slice(0, 4),
  );
  const verdict =
    report.passed === undefined
      ? ''
      : `<span class="badge ${report.passed ? 'pass' : 'fail'}">${report.passed ? 'PASS' : 'FAIL'} · min ${report.minScore?.toFixed(2) ?? ''}</span>`;
  const sections: string[] = [];
  sections.push(
    `<section class="card hero"><div><div class="note">Composite fidelity score</div><div class="score" style="color:${scoreColor(report.score)}">${report.score.toFixed(3)}</div></div><div>${verdict}<p class="note" style="max-width:620px">Weighted mean of per-property scores (1 = indistinguishable). Scores are effect sizes: 1 − total variation for categorical properties, 1 − Kolmogorov–Smirnov statistic for continuous ones. p-values are shown for diagnostics; at large sizes they are tiny for any visible difference.</p></div></section>`,
  );
  if (report.leak) sections.push(leakSection(report.leak));
  if (report.warnings.length > 0)
    sections.push(
      `<section class="card warn"><h2>Warnings</h2><ul>${report.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></section>`,
    );
  sections.push(
    `<section class="card"><h2>Properties</h2><table><thead><tr><th>Property</th><th>Score</th><th class="num">Distance</th><th>Test</th><th class="num">p-value</th><th class="num">Weight</th></tr></thead><tbody>${report.properties.map(propertyRow).join('')}</tbody></table></section>`,
  );
  if (report.performance) sections.push(performanceSection(report.performance));
  sections.push(
    `<section class="card"><h2>Traces</h2>${summaryTable(report)}</section>`,
  );
  sections.push(
    `<section class="card"><h2>Template frequencies</h2>${pairedBars({ title: `Top ${tplRows.length} templates by original frequency (share of events)`, rows: tplRows })}</section>`,
  );
  sections.push(
    `<section class="card"><h2>Distributions</h2><div class="grid2">${report.charts.cdfs.map(cdfChart).join('')}</div><p class="note">Empirical CDFs; solid = original, dashed = generated.</p></section>`,
  );
  const tr = report.charts.transitions;
  sections.push(
    `<section class="card"><h2>Template transitions</h2><div class="grid2">${heatMap({ title: 'Original: P(next | current)', labels: short, matrix: tr.original, color: COLORS.original })}${heatMap({ title: 'Generated: P(next | current)', labels: short, matrix: tr.generated, color: COLORS.generated })}</div><table><thead><tr><th>Key</th><th>Template</th></tr></thead><tbody>${tr.templateIds.map((id, i) => `<tr><td class="mono">${esc(short[i] ?? '')}</td><td class="mono sql" title="${esc(textById.get(id) ?? '')}">${esc(templateLabel(id, textById.get(id), 110))}</td></tr>`).join('')}</tbody></table></section>`,
  );
  sections.push(
    loadSection(report),
    `<section class="card"><h2>Arrivals over time</h2><div class="grid2">${arrivalChart(report, 'Events')}${arrivalChart(report, 'Sessions')}</div>${burstinessTable(report)}</section>`,
  );
  sections.push(
    `<section class="card"><h2>Templates</h2><table><thead><tr><th>Template</th><th>Type</th><th class="num">Original</th><th class="num">Generated</th><th>Parameter score</th></tr></thead><tbody>${report.templates
      .slice(0, 100)
      .map(
        (t) =>
          `<tr><td class="mono sql" title="${esc(t.text ?? '')}">${esc(templateLabel(t.id, t.text, 90))}</td><td>${esc(t.queryType ?? '—')}</td><td class="num">${t.original.toLocaleString('en-US')}</td><td class="num">${t.generated.toLocaleString('en-US')}</td><td>${scoreBar(t.parameterScore)}</td></tr>`,
      )
      .join(
        '',
      )}</tbody></table>${report.templates.length > 100 ? `<p class="note">${report.templates.length - 100} more templates in the JSON report.</p>` : ''}</section>`,
  );
  const sk = report.sketch;
  sections.push(
    `<footer>Generated ${esc(report.createdAt)} · report format v${report.version} · sketches: ${esc(sk.kind)} k=${sk.k}, exact up to ${sk.exactUpTo.toLocaleString('en-US')} values${sk.rankError > 0 ? `, rank error ≤ ${(sk.rankError * 100).toFixed(2)} %` : ''}.</footer>`,
  );
  return renderReportDocument({
    title,
    subtitle: `${report.generated.label} compared with ${report.original.label}`,
    colors: { orig: COLORS.original, gen: COLORS.generated },
    css: CSS,
    sections,
  });
}
