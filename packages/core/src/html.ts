/**
 * Escapes text for HTML and SVG (element content and quoted attribute values): `&`, `<`, `>`, `"`
 * and `'`. The self-contained HTML reports (validation, bench comparison) use it for every value
 * that comes from a trace or a result.
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * The style rules the self-contained HTML reports share (page, cards, tables, badges, chart text).
 * A report appends its own rules and defines its colour variables in {@link renderReportDocument}.
 */
export const REPORT_BASE_CSS = `*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1180px;margin:0 auto;padding:28px 24px 48px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:16px;margin:0 0 12px}
.sub{color:var(--muted);margin:0 0 20px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 20px;margin:0 0 18px;box-shadow:0 1px 2px rgba(15,23,42,.04)}
.hero{display:flex;gap:28px;align-items:center;flex-wrap:wrap}
.badge{display:inline-block;padding:3px 10px;border-radius:999px;font-weight:600;font-size:13px}
.pass{background:#dcfce7;color:#166534}.fail{background:#fee2e2;color:#991b1b}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:middle}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.na{color:var(--muted);font-style:italic}
.note{color:var(--muted);font-size:12px}
.chart{width:100%;height:auto;display:block}
.chart .tick{font-size:10.5px;fill:var(--muted)}
.chart .blabel{font-size:11px;fill:var(--fg);font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.chart .grid{stroke:#eef2f7}
.chart .axis{stroke:#94a3b8}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.key{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:middle}
.warn{background:#fffbeb;border-color:#fde68a}
footer{color:var(--muted);font-size:12px;margin-top:10px}
`;

/** What {@link renderReportDocument} puts around a report's sections. */
export interface ReportDocument {
  /** The page title and heading (plain text; escaped here). */
  title: string;
  /** The line under the heading (plain text; escaped here). */
  subtitle: string;
  /** CSS custom properties of the report's own colours, e.g. `{ orig: '#2563eb' }` for `--orig`. */
  colors: Record<string, string>;
  /** The report's own rules, after {@link REPORT_BASE_CSS} (later rules win). */
  css: string;
  /** The body's sections, already HTML. */
  sections: readonly string[];
}

/**
 * One self-contained HTML report page: a Content-Security-Policy that allows no script, no network
 * request and no asset but inline styles and `data:` images; the shared style rules; the title,
 * the subtitle and the sections. The validation and comparison reports are both written by it.
 */
export function renderReportDocument(doc: ReportDocument): string {
  const colors = Object.entries(doc.colors)
    .map(([name, value]) => `;--${name}:${value}`)
    .join('');
  const css = `
:root{--fg:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff${colors}}
${REPORT_BASE_CSS}${doc.css}`;
  const title = escapeHtml(doc.title);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${title}</title><style>${css}</style></head>
<body><main><h1>${title}</h1><p class="sub">${escapeHtml(doc.subtitle)}</p>
${doc.sections.join('\n')}
</main></body></html>
`;
}
