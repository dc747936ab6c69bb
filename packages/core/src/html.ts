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
