import { escapeHtml } from '@stb/core';

/** Small SVG chart primitives for the HTML report (no dependencies, no scripts). @internal */

export const COLORS = { original: '#2563eb', generated: '#ea580c' } as const;

/** Escapes text for HTML and SVG (core's {@link escapeHtml}). @internal */
export const esc = escapeHtml;

/** Compact number formatting for axis labels. @internal */
export function fmtNum(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a < 0.01) return v.toExponential(0);
  return `${+v.toPrecision(3)}`;
}

/** Formats a µs quantity with a readable unit. @internal */
export function fmtUs(us: number): string {
  const a = Math.abs(us);
  if (a >= 60e6) return `${+(us / 60e6).toPrecision(3)} min`;
  if (a >= 1e6) return `${+(us / 1e6).toPrecision(3)} s`;
  if (a >= 1e3) return `${+(us / 1e3).toPrecision(3)} ms`;
  return `${+us.toPrecision(3)} µs`;
}

interface Scale {
  (v: number): number;
  ticks: number[];
  label: (v: number) => string;
}

function linearScale(
  domain: [number, number],
  range: [number, number],
  label: (v: number) => string,
): Scale {
  let [d0, d1] = domain;
  if (!(d1 > d0)) {
    d0 -= 0.5;
    d1 += 0.5;
  }
  const [r0, r1] = range;
  const f = ((v: number) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0)) as Scale;
  const raw = (d1 - d0) / 5;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step =
    [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(d0 / step) * step; t <= d1 + step * 1e-9; t += step)
    ticks.push(+t.toPrecision(12));
  f.ticks = ticks;
  f.label = label;
  return f;
}

function logScale(
  domain: [number, number],
  range: [number, number],
  label: (v: number) => string,
): Scale {
  const l0 = Math.log10(domain[0]);
  const l1 = Math.max(Math.log10(domain[1]), l0 + 1);
  const [r0, r1] = range;
  const f = ((v: number) =>
    r0 +
    ((Math.log10(Math.max(v, domain[0])) - l0) / (l1 - l0)) *
      (r1 - r0)) as Scale;
  const ticks: number[] = [];
  for (let e = Math.ceil(l0); e <= Math.floor(l1); e++)
    ticks.push(Math.pow(10, e));
  f.ticks = ticks;
  f.label = label;
  return f;
}

/** A line series. @internal */
export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  /** Draw as a step function (CDFs). */
  step?: boolean;
  dashed?: boolean;
}

/** Options of {@link lineChart}. @internal */
export interface LineChartOptions {
  title: string;
  series: Series[];
  width?: number;
  height?: number;
  xLabel?: (v: number) => string;
  yLabel?: (v: number) => string;
  /** `auto`: log scale when positive values span more than two decades. */
  xLog?: boolean | 'auto';
  yMax?: number;
  xCaption?: string;
}

/** A line or step chart with axes and a legend. @internal */
export function lineChart(o: LineChartOptions): string {
  const W = o.width ?? 420;
  const H = o.height ?? 240;
  const m = { l: 48, r: 14, t: 44, b: 40 };
  const all = o.series.flatMap((s) => s.points);
  if (all.length === 0)
    return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(o.title)}"><text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="muted">${esc(o.title)}: no data</text></svg>`;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const pos = xs.filter((x) => x > 0);
  const minPos = pos.length > 0 ? Math.min(...pos) : 1;
  const useLog =
    o.xLog === true ||
    (o.xLog === 'auto' && xMin >= 0 && pos.length > 0 && xMax / minPos > 100);
  const xl = o.xLabel ?? fmtNum;
  const x = useLog
    ? logScale([Math.max(minPos, xMax * 1e-9), xMax], [m.l, W - m.r], xl)
    : linearScale([xMin, xMax], [m.l, W - m.r], xl);
  const y = linearScale(
    [0, o.yMax ?? Math.max(...ys, 1e-12)],
    [H - m.b, m.t],
    o.yLabel ?? fmtNum,
  );
  const parts: string[] = [];
  parts.push(`<text x="${m.l}" y="16" class="ctitle">${esc(o.title)}</text>`);
  for (const t of y.ticks) {
    const py = y(t).toFixed(1);
    parts.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${py}" y2="${py}" class="grid"/>`,
    );
    parts.push(
      `<text x="${m.l - 6}" y="${py}" dy="0.32em" text-anchor="end" class="tick">${esc(y.label(t))}</text>`,
    );
  }
  for (const t of x.ticks) {
    const px = x(t).toFixed(1);
    parts.push(
      `<line x1="${px}" x2="${px}" y1="${H - m.b}" y2="${H - m.b + 4}" class="axis"/>`,
    );
    parts.push(
      `<text x="${px}" y="${H - m.b + 15}" text-anchor="middle" class="tick">${esc(x.label(t))}</text>`,
    );
  }
  parts.push(
    `<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" class="axis"/>`,
  );
  if (o.xCaption)
    parts.push(
      `<text x="${(m.l + W - m.r) / 2}" y="${H - 6}" text-anchor="middle" class="tick">${esc(o.xCaption)}${useLog ? ' (log scale)' : ''}</text>`,
    );
  for (const s of o.series) {
    if (s.points.length === 0) continue;
    let d = '';
    s.points.forEach(([px, py], i) => {
      const X = x(px).toFixed(1);
      const Y = y(py).toFixed(1);
      if (s.step) d += i === 0 ? `M${X},${y(0).toFixed(1)}V${Y}` : `H${X}V${Y}`;
      else d += i === 0 ? `M${X},${Y}` : `L${X},${Y}`;
    });
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''} stroke-linejoin="round"/>`,
    );
  }
  let lx = m.l;
  for (const s of o.series) {
    parts.push(
      `<line x1="${lx}" x2="${lx + 14}" y1="31" y2="31" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="4 2"' : ''}/>`,
    );
    parts.push(
      `<text x="${lx + 18}" y="31" dy="0.32em" class="legend">${esc(s.name)}</text>`,
    );
    lx += 30 + s.name.length * 6;
  }
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(o.title)}">${parts.join('')}</svg>`;
}

/** Horizontal paired bars (original vs generated shares). @internal */
export function pairedBars(o: {
  title: string;
  rows: { label: string; original: number; generated: number }[];
  width?: number;
}): string {
  const W = o.width ?? 880;
  const rowH = 26;
  const labelW = 360;
  const m = { t: 34, b: 10 };
  const H = m.t + o.rows.length * rowH + m.b;
  const max = Math.max(
    1e-12,
    ...o.rows.flatMap((r) => [r.original, r.generated]),
  );
  const bw = W - labelW - 120;
  const parts: string[] = [
    `<text x="0" y="16" class="ctitle">${esc(o.title)}</text>`,
    `<rect x="${W - 230}" y="6" width="12" height="10" fill="${COLORS.original}"/><text x="${W - 214}" y="11" dy="0.32em" class="legend">original</text>`,
    `<rect x="${W - 130}" y="6" width="12" height="10" fill="${COLORS.generated}"/><text x="${W - 114}" y="11" dy="0.32em" class="legend">generated</text>`,
  ];
  o.rows.forEach((r, i) => {
    const y0 = m.t + i * rowH;
    parts.push(
      `<text x="${labelW - 8}" y="${y0 + rowH / 2 - 1}" dy="0.32em" text-anchor="end" class="blabel">${esc(r.label)}</text>`,
    );
    const wa = (r.original / max) * bw;
    const wb = (r.generated / max) * bw;
    parts.push(
      `<rect x="${labelW}" y="${y0 + 2}" width="${wa.toFixed(1)}" height="10" rx="2" fill="${COLORS.original}"/>`,
    );
    parts.push(
      `<rect x="${labelW}" y="${y0 + 12}" width="${wb.toFixed(1)}" height="10" rx="2" fill="${COLORS.generated}"/>`,
    );
    parts.push(
      `<text x="${labelW + Math.max(wa, wb) + 6}" y="${y0 + 12}" dy="0.32em" class="tick">${(r.original * 100).toFixed(1)} % / ${(r.generated * 100).toFixed(1)} %</text>`,
    );
  });
  return `<svg class="chart wide" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(o.title)}">${parts.join('')}</svg>`;
}

/** A heat map of a square matrix of probabilities in [0, 1]. @internal */
export function heatMap(o: {
  title: string;
  labels: string[];
  matrix: number[][];
  color: string;
  size?: number;
}): string {
  const n = o.labels.length;
  const S = o.size ?? 400;
  const m = { l: 46, t: 46 };
  const cell = n === 0 ? 0 : Math.floor((S - m.l - 10) / n);
  const W = m.l + cell * n + 10;
  const H = m.t + cell * n + 10;
  const parts: string[] = [
    `<text x="0" y="16" class="ctitle">${esc(o.title)}</text>`,
  ];
  o.labels.forEach((l, i) => {
    parts.push(
      `<text x="${m.l - 4}" y="${m.t + i * cell + cell / 2}" dy="0.32em" text-anchor="end" class="tick">${esc(l)}</text>`,
    );
    parts.push(
      `<text x="${m.l + i * cell + cell / 2}" y="${m.t - 6}" text-anchor="middle" class="tick">${esc(l)}</text>`,
    );
  });
  o.matrix.forEach((row, i) =>
    row.forEach((v, j) => {
      const op = Math.min(1, Math.max(0, v));
      parts.push(
        `<rect x="${m.l + j * cell}" y="${m.t + i * cell}" width="${cell - 1}" height="${cell - 1}" fill="${o.color}" fill-opacity="${(0.04 + 0.96 * Math.sqrt(op)).toFixed(3)}"><title>${esc(`${o.labels[i] ?? ''} → ${o.labels[j] ?? ''}: ${(v * 100).toFixed(1)} %`)}</title></rect>`,
      );
      if (cell >= 26 && v >= 0.005)
        parts.push(
          `<text x="${m.l + j * cell + cell / 2}" y="${m.t + i * cell + cell / 2}" dy="0.32em" text-anchor="middle" class="cell${op > 0.35 ? ' inv' : ''}">${Math.round(v * 100)}</text>`,
        );
    }),
  );
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(o.title)}">${parts.join('')}</svg>`;
}
