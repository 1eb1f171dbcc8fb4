/**
 * A small SVG line plot for benchmark results: series of (x, y) points, linear or log axes,
 * a legend, a title and axis labels. No dependencies; the output is a standalone SVG file.
 */

export interface PlotSeries {
  name: string;
  points: readonly (readonly [number, number])[];
  /** CSS colour; a palette colour by default. */
  color?: string;
  /** Dashed line (e.g. for a reference). */
  dashed?: boolean;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  /** Axis ranges; from the data by default (y from 0 on a linear axis). */
  xRange?: [number, number];
  yRange?: [number, number];
  /** Tick values; round numbers (linear) or powers of ten (log) by default. */
  xTicks?: number[];
  yTicks?: number[];
  width?: number;
  height?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

/** Tick values for a linear axis: about `count` round steps (1, 2 or 5 × 10^k). */
function linearTicks(lo: number, hi: number, count = 6): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Tick values for a log axis: the powers of ten inside the range (and 2, 5 × them if few). */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  const first = Math.floor(Math.log10(lo));
  const last = Math.ceil(Math.log10(hi));
  const mults = last - first <= 2 ? [1, 2, 5] : [1];
  for (let e = first; e <= last; e++)
    for (const m of mults) {
      const v = m * 10 ** e;
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push(Number(v.toPrecision(12)));
    }
  return ticks;
}

/** Renders the series as an SVG document (a string). Non-finite and, on a log axis, non-positive points are left out. */
export function linePlot(series: readonly PlotSeries[], options: PlotOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 460;
  const left = 72;
  const right = 180;
  const top = 44;
  const bottom = 56;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const logX = options.logX === true;
  const logY = options.logY === true;

  const usable = (x: number, y: number): boolean =>
    Number.isFinite(x) && Number.isFinite(y) && (!logX || x > 0) && (!logY || y > 0);
  const clean = series.map((s) => s.points.filter(([x, y]) => usable(x, y)));
  const xs = clean.flatMap((p) => p.map(([x]) => x));
  const ys = clean.flatMap((p) => p.map(([, y]) => y));

  let [x0, x1] = options.xRange ?? [xs.length ? Math.min(...xs) : 0, xs.length ? Math.max(...xs) : 1];
  let [y0, y1] = options.yRange ?? [
    logY ? (ys.length ? Math.min(...ys) : 1) : Math.min(0, ...ys),
    ys.length ? Math.max(...ys) * (logY ? 1 : 1.05) : 1,
  ];
  if (x0 === x1) [x0, x1] = logX ? [x0 / 2, x1 * 2] : [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = logY ? [y0 / 2, y1 * 2] : [y0 - 1, y1 + 1];

  const tx = (v: number): number => (logX ? Math.log10(v / x0) / Math.log10(x1 / x0) : (v - x0) / (x1 - x0));
  const ty = (v: number): number => (logY ? Math.log10(v / y0) / Math.log10(y1 / y0) : (v - y0) / (y1 - y0));
  const px = (v: number): number => left + tx(v) * plotW;
  const py = (v: number): number => top + plotH - ty(v) * plotH;
  const f = (v: number): string => v.toFixed(1);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${f(width / 2)}" y="24" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`,
  );

  // grid and ticks
  for (const v of options.xTicks ?? (logX ? logTicks(x0, x1) : linearTicks(x0, x1))) {
    const x = f(px(v));
    out.push(
      `<line x1="${x}" y1="${top}" x2="${x}" y2="${top + plotH}" stroke="#e4e4e4"/>`,
      `<text x="${x}" y="${top + plotH + 16}" text-anchor="middle">${formatTick(v)}</text>`,
    );
  }
  for (const v of options.yTicks ?? (logY ? logTicks(y0, y1) : linearTicks(y0, y1))) {
    const y = f(py(v));
    out.push(
      `<line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" stroke="#e4e4e4"/>`,
      `<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatTick(v)}</text>`,
    );
  }
  out.push(
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`,
    `<text x="${f(left + plotW / 2)}" y="${height - 14}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(18 ${f(top + plotH / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );

  // series, clipped to the plot area
  out.push(`<clipPath id="plot-area"><rect x="${left}" y="${top}" width="${plotW}" height="${plotH}"/></clipPath>`);
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const pts = clean[i];
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : '';
    if (pts.length > 1)
      out.push(
        `<polyline clip-path="url(#plot-area)" fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts
          .map(([x, y]) => `${f(px(x))},${f(py(y))}`)
          .join(' ')}"/>`,
      );
    for (const [x, y] of pts)
      out.push(`<circle clip-path="url(#plot-area)" cx="${f(px(x))}" cy="${f(py(y))}" r="3" fill="${color}"/>`);
    // legend entry
    const ly = top + 10 + i * 20;
    const lx = left + plotW + 14;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
