/**
 * SVG charts of a scenario's points, written by hand (no dependency): throughput against concurrency
 * (or offered rate) on the left, p50 and p99 latency on the right. The x positions are evenly spaced
 * categories (1, 4, 16, 64 ...), which reads like a log scale for those series.
 */
import { escapeXml } from '../src/xml/tree.js';

export interface ChartPoint {
  x: number;
  throughput: number;
  p50: number;
  p99: number;
}

const W = 360;
const H = 240;
const M = { left: 56, right: 16, top: 34, bottom: 44 };

/** A round upper bound for an axis: 1, 2 or 5 times a power of ten. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)).replace(/\.0+$/, '');

function panel(offsetX: number, title: string, xLabel: string, yLabel: string, xs: number[], series: { name: string; color: string; values: number[] }[]): string {
  const iw = W - M.left - M.right;
  const ih = H - M.top - M.bottom;
  const yMax = niceMax(Math.max(...series.flatMap((s) => s.values), 0));
  const px = (i: number): number => M.left + (xs.length === 1 ? iw / 2 : (i * iw) / (xs.length - 1));
  const py = (v: number): number => M.top + ih - (v / yMax) * ih;
  const out: string[] = [`<g transform="translate(${offsetX},0)">`];
  out.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`);
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(v)}" y2="${py(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 6}" y="${py(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  xs.forEach((x, i) => out.push(`<text x="${px(i)}" y="${H - M.bottom + 16}" text-anchor="middle">${fmt(x)}</text>`));
  out.push(`<text x="${M.left + iw / 2}" y="${H - 8}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  out.push(`<text transform="translate(14,${M.top + ih / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`);
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ih}" stroke="#333"/>`);
  out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + ih}" y2="${M.top + ih}" stroke="#333"/>`);
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => `${px(i).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`);
    s.values.forEach((v, i) => out.push(`<circle cx="${px(i).toFixed(1)}" cy="${py(v).toFixed(1)}" r="3" fill="${s.color}"><title>${escapeXml(`${s.name} at ${xs[i]}: ${fmt(v)}`)}</title></circle>`));
    out.push(`<rect x="${M.left + 8 + k * 70}" y="${M.top + 2}" width="10" height="10" fill="${s.color}"/><text x="${M.left + 22 + k * 70}" y="${M.top + 11}">${escapeXml(s.name)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

/** The chart of one scenario as an SVG document. */
export function scenarioChart(title: string, xLabel: string, points: ChartPoint[]): string {
  const xs = points.map((p) => p.x);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 24}" viewBox="0 0 ${2 * W} ${H + 24}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${W}" y="${H + 18}" text-anchor="middle" fill="#555">${escapeXml(title)}</text>`,
    panel(0, 'Throughput', xLabel, 'requests / s', xs, [{ name: 'req/s', color: '#1f77b4', values: points.map((p) => p.throughput) }]),
    panel(W, 'Latency', xLabel, 'ms', xs, [
      { name: 'p50', color: '#2ca02c', values: points.map((p) => p.p50) },
      { name: 'p99', color: '#d62728', values: points.map((p) => p.p99) },
    ]),
    '</svg>',
    '',
  ].join('\n');
}

/** RSS (MB) against time (minutes) with the least-squares trend line over the minutes it was fitted on: the soak's chart. */
export function rssChart(title: string, samples: { minutes: number; mb: number }[], trend: { slope: number; intercept: number; fromMinutes: number }): string {
  const w = 2 * W;
  const iw = w - M.left - M.right;
  const ih = H - M.top - M.bottom;
  const xMax = niceMax(Math.max(...samples.map((s) => s.minutes), 1));
  const yMax = niceMax(Math.max(...samples.map((s) => s.mb), 1));
  const px = (x: number): number => M.left + (x / xMax) * iw;
  const py = (v: number): number => M.top + ih - (Math.max(0, v) / yMax) * ih;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${H}" viewBox="0 0 ${w} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${w / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    out.push(`<line x1="${M.left}" x2="${w - M.right}" y1="${py(v)}" y2="${py(v)}" stroke="#ddd"/><text x="${M.left - 6}" y="${py(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
    const x = (xMax * k) / 4;
    out.push(`<text x="${px(x)}" y="${H - M.bottom + 16}" text-anchor="middle">${fmt(x)}</text>`);
  }
  out.push(`<text x="${M.left + iw / 2}" y="${H - 8}" text-anchor="middle">minutes</text>`);
  out.push(`<text transform="translate(14,${M.top + ih / 2}) rotate(-90)" text-anchor="middle">gateway RSS (MB)</text>`);
  out.push(`<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${samples.map((s) => `${px(s.minutes).toFixed(1)},${py(s.mb).toFixed(1)}`).join(' ')}"/>`);
  const x0 = Math.max(trend.fromMinutes, samples[0]?.minutes ?? 0);
  const x1 = samples.at(-1)?.minutes ?? 0;
  out.push(`<line x1="${px(x0)}" y1="${py(trend.intercept + trend.slope * x0)}" x2="${px(x1)}" y2="${py(trend.intercept + trend.slope * x1)}" stroke="#d62728" stroke-dasharray="5,4"/>`);
  out.push(`<text x="${w - M.right}" y="${M.top + 11}" text-anchor="end" fill="#d62728">trend ${fmt(trend.slope)} MB/min</text>`, '</svg>', '');
  return out.join('\n');
}
