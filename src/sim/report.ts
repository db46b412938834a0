// Outputs: the side-by-side table, a self-contained HTML report (uPlot inlined from node_modules, no
// CDN), an SVG chart and a CSV time series.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { SimResult, Summary } from './engine.ts';
import type { LowerBound } from './bound.ts';
import { dominators, paretoFront, type FrontierPoint } from './sweep.ts';

export interface ReportRun extends SimResult {
  /** Cost relative to the oracle (when one ran). */
  vsOracle?: number;
}

function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '∞';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms)}ms`;
}

export function summaryTable(runs: ReportRun[]): string {
  const oracle = runs.find((r) => r.summary.policy.startsWith('oracle'));
  const head = ['policy', 'replica-s', 'vs oracle', 'idle rep-s', 'cold starts', 'actions', 'p50', 'p95', 'p99', `SLO ${fmtMs(runs[0]?.summary.sloMs ?? 0)}`, 'max rep'];
  const rows = runs.map((r) => {
    const s = r.summary;
    const ratio = oracle ? s.replicaSeconds / oracle.summary.replicaSeconds : NaN;
    return [
      s.policy,
      Math.round(s.replicaSeconds).toString(),
      Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : '-',
      Math.round(s.idleReplicaSeconds).toString(),
      s.coldStarts.toString(),
      s.scalingActions.toString(),
      fmtMs(s.p50Ms), fmtMs(s.p95Ms), fmtMs(s.p99Ms),
      `${(s.sloAttainment * 100).toFixed(2)}%`,
      s.maxReplicas.toString(),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** One line under the table: the provable lower bound, the attainment ceiling, and each run's distance to the bound. */
export function boundLine(lb: LowerBound, runs: ReportRun[]): string {
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  if (!lb.feasible || lb.replicaSeconds === undefined) {
    return `lower bound: ${pct(lb.target)} is INFEASIBLE for every policy: ${lb.tooLong} of ${lb.requests} requests need more than the SLO for service alone (attainment ceiling ${pct(lb.ceiling)})`;
  }
  const dist = runs.filter((r) => r.summary.sloAttainment >= lb.target - 1e-12)
    .map((r) => `${r.summary.policy} ${(r.summary.replicaSeconds / lb.replicaSeconds!).toFixed(2)}x`);
  return `lower bound at ${pct(lb.target)}: ${Math.round(lb.replicaSeconds)} replica-s (min x duration ${Math.round(lb.floorReplicaSeconds)} + work beyond it ${Math.round(lb.extraReplicaSeconds)}; attainment ceiling ${pct(lb.ceiling)})`
    + (dist.length ? `; cost / bound of the runs reaching it: ${dist.join(', ')}` : '; no run reached it');
}

/** The frontier sweep as a table, one row per setting, with who dominates whom. */
export function frontierTable(pts: FrontierPoint[]): string {
  const front = new Set(paretoFront(pts));
  const head = ['setting', 'replica-s', 'SLO attainment', 'max rep', 'on frontier', 'dominated by'];
  const rows = pts.map((p) => {
    const d = dominators(p, pts);
    return [p.label, Math.round(p.replicaSeconds).toString(), `${(p.sloAttainment * 100).toFixed(2)}%`, p.maxReplicas.toString(), front.has(p) ? 'yes' : '',
      d.length ? `${d.length} (${d.slice(0, 2).map((q) => q.label).join('; ')}${d.length > 2 ? '; ...' : ''})` : ''];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 || i >= 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const FAMILY_COLORS: Record<string, string> = { hpa: '#1f77b4', kpa: '#2ca02c', keda: '#ff7f0e', tide: '#d62728' };

/** SVG scatter: replica-seconds (x) vs SLO attainment (y, "nines" scale), one colour per family, the bound as a line. */
/** `ref`: the clairvoyant reference schedule, drawn as a diamond (not a policy: it knows the future). */
export function frontierSvg(pts: FrontierPoint[], title: string, lb?: LowerBound, width = 960, height = 460, ref?: { replicaSeconds: number; sloAttainment: number }): string {
  const m = { l: 70, r: 20, t: 36, b: 46 };
  const w = width - m.l - m.r;
  const h = height - m.t - m.b;
  const nines = (a: number): number => -Math.log10(Math.max(1e-5, 1 - a));
  const xs = pts.map((p) => p.replicaSeconds).concat(lb?.replicaSeconds !== undefined ? [lb.replicaSeconds] : [], ref ? [ref.replicaSeconds] : []);
  const ys = pts.map((p) => nines(p.sloAttainment)).concat(ref ? [nines(ref.sloAttainment)] : []);
  const x0 = Math.min(...xs) * 0.95, x1 = Math.max(...xs) * 1.05;
  const y0 = Math.max(0, Math.min(...ys) - 0.1), y1 = Math.max(...ys, lb ? nines(lb.ceiling) : 0) + 0.1;
  const X = (v: number): number => m.l + ((v - x0) / Math.max(1e-9, x1 - x0)) * w;
  const Y = (v: number): number => m.t + h - ((v - y0) / Math.max(1e-9, y1 - y0)) * h;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/><text x="${m.l}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`);
  parts.push(`<line x1="${m.l}" y1="${m.t + h}" x2="${m.l + w}" y2="${m.t + h}" stroke="black"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + h}" stroke="black"/>`);
  for (let i = 0; i <= 5; i++) {
    const xv = x0 + ((x1 - x0) * i) / 5;
    parts.push(`<text x="${X(xv)}" y="${m.t + h + 16}" text-anchor="middle">${Math.round(xv).toLocaleString('en-US')}</text>`);
    const yv = y0 + ((y1 - y0) * i) / 5;
    parts.push(`<text x="${m.l - 6}" y="${Y(yv) + 4}" text-anchor="end">${((1 - 10 ** -yv) * 100).toFixed(yv > 2.5 ? 3 : 2)}%</text>`);
  }
  parts.push(`<text x="${m.l + w / 2}" y="${height - 8}" text-anchor="middle">replica-seconds (cost)</text>`);
  parts.push(`<text x="14" y="${m.t + h / 2}" transform="rotate(-90 14 ${m.t + h / 2})" text-anchor="middle">SLO attainment</text>`);
  if (lb?.replicaSeconds !== undefined) {
    parts.push(`<line x1="${X(lb.replicaSeconds)}" y1="${m.t}" x2="${X(lb.replicaSeconds)}" y2="${m.t + h}" stroke="#555" stroke-dasharray="5,4"/><text x="${X(lb.replicaSeconds) + 4}" y="${m.t + 12}" fill="#555">lower bound at ${(lb.target * 100).toFixed(1)}%</text>`);
  }
  if (lb) parts.push(`<line x1="${m.l}" y1="${Y(nines(lb.ceiling))}" x2="${m.l + w}" y2="${Y(nines(lb.ceiling))}" stroke="#999" stroke-dasharray="2,3"/><text x="${m.l + w - 4}" y="${Y(nines(lb.ceiling)) - 4}" text-anchor="end" fill="#777">attainment ceiling</text>`);
  for (const fam of ['hpa', 'kpa', 'keda', 'tide']) {
    const fp = paretoFront(pts.filter((p) => p.family === fam)).sort((a, b) => a.replicaSeconds - b.replicaSeconds);
    if (fp.length > 1) parts.push(`<path d="${fp.map((p, i) => `${i ? 'L' : 'M'}${X(p.replicaSeconds).toFixed(1)},${Y(nines(p.sloAttainment)).toFixed(1)}`).join('')}" fill="none" stroke="${FAMILY_COLORS[fam]}" stroke-width="1.2"/>`);
  }
  for (const p of pts) {
    const cx = X(p.replicaSeconds).toFixed(1), cy = Y(nines(p.sloAttainment)).toFixed(1);
    parts.push(p.isDefault
      ? `<rect x="${Number(cx) - 6}" y="${Number(cy) - 6}" width="12" height="12" fill="${FAMILY_COLORS[p.family]}" stroke="black"><title>${esc(p.label)}</title></rect>`
      : `<circle cx="${cx}" cy="${cy}" r="4" fill="${FAMILY_COLORS[p.family]}" fill-opacity="0.75"><title>${esc(p.label)}: ${Math.round(p.replicaSeconds)} replica-s, ${(p.sloAttainment * 100).toFixed(2)}%</title></circle>`);
  }
  if (ref) {
    const cx = X(ref.replicaSeconds), cy = Y(nines(ref.sloAttainment));
    parts.push(`<path d="M${cx.toFixed(1)},${(cy - 7).toFixed(1)}l7,7l-7,7l-7,-7z" fill="white" stroke="black"><title>clairvoyant schedule: ${Math.round(ref.replicaSeconds)} replica-s, ${(ref.sloAttainment * 100).toFixed(2)}%</title></path>`);
    parts.push(`<path d="M${(m.l + w - 150).toFixed(1)},${(m.t + h - 81).toFixed(1)}l5,5l-5,5l-5,-5z" fill="white" stroke="black"/><text x="${m.l + w - 140}" y="${m.t + h - 82}">clairvoyant schedule</text>`);
  }
  ['hpa', 'kpa', 'keda', 'tide'].forEach((f, k) => parts.push(`<circle cx="${m.l + w - 150}" cy="${m.t + h - 70 + k * 16}" r="4" fill="${FAMILY_COLORS[f]}"/><text x="${m.l + w - 140}" y="${m.t + h - 66 + k * 16}">${f === 'tide' ? 'Tide (square: default)' : f.toUpperCase()}</text>`));
  parts.push('</svg>');
  return parts.join('\n');
}

export function seriesCsv(runs: ReportRun[]): string {
  const out = ['policy,t_s,replicas,ready,rps,in_flight,queued,latency_mean_ms,latency_max_ms,slo_miss_rate,metric,metric_target'];
  for (const r of runs) {
    const s = r.series;
    for (let i = 0; i < s.t.length; i++) {
      out.push([JSON.stringify(r.summary.policy), s.t[i], s.replicas[i], s.ready[i], s.rps[i].toFixed(3), s.inFlight[i].toFixed(3), s.queued[i],
        s.latencyMeanMs[i].toFixed(1), s.latencyMaxMs[i].toFixed(1), s.sloMissRate[i].toFixed(5), s.metric[i] ?? '', s.metricTarget[i] ?? ''].join(','));
    }
  }
  return out.join('\n') + '\n';
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** A static SVG: replicas of every policy over time, with the load (rps) as a grey area behind. */
export function svgChart(runs: ReportRun[], title: string, width = 960, height = 420): string {
  const m = { l: 56, r: 56, t: 36, b: 40 };
  const w = width - m.l - m.r;
  const h = height - m.t - m.b;
  const base = runs[0]?.series;
  const tMax = Math.max(1, ...runs.map((r) => r.series.t[r.series.t.length - 1] ?? 0));
  const rMax = Math.max(1, ...runs.map((r) => Math.max(0, ...r.series.replicas)));
  const lMax = Math.max(1, ...(base ? base.rps : [1]));
  const x = (t: number): number => m.l + (t / tMax) * w;
  const yR = (v: number): number => m.t + h - (v / (rMax * 1.1)) * h;
  const yL = (v: number): number => m.t + h - (v / (lMax * 1.1)) * h;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="${m.l}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`);
  if (base && base.t.length) {
    let d = `M${x(base.t[0]).toFixed(1)},${yL(0).toFixed(1)}`;
    for (let i = 0; i < base.t.length; i++) d += `L${x(base.t[i]).toFixed(1)},${yL(base.rps[i]).toFixed(1)}`;
    d += `L${x(base.t[base.t.length - 1]).toFixed(1)},${yL(0).toFixed(1)}Z`;
    parts.push(`<path d="${d}" fill="#ddd" stroke="none"/>`);
  }
  runs.forEach((r, k) => {
    const s = r.series;
    if (!s.t.length) return;
    let d = '';
    for (let i = 0; i < s.t.length; i++) {
      const px = x(s.t[i]).toFixed(1);
      const py = yR(s.replicas[i]).toFixed(1);
      d += i === 0 ? `M${px},${py}` : `H${px}V${py}`;
    }
    parts.push(`<path d="${d}" fill="none" stroke="${COLORS[k % COLORS.length]}" stroke-width="1.5"/>`);
    parts.push(`<rect x="${m.l + 10}" y="${m.t + 6 + k * 16}" width="10" height="10" fill="${COLORS[k % COLORS.length]}"/><text x="${m.l + 26}" y="${m.t + 15 + k * 16}">${esc(r.summary.policy)}</text>`);
  });
  // axes
  parts.push(`<line x1="${m.l}" y1="${m.t + h}" x2="${m.l + w}" y2="${m.t + h}" stroke="black"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + h}" stroke="black"/><line x1="${m.l + w}" y1="${m.t}" x2="${m.l + w}" y2="${m.t + h}" stroke="#999"/>`);
  for (let i = 0; i <= 5; i++) {
    const t = (tMax * i) / 5;
    parts.push(`<text x="${x(t)}" y="${m.t + h + 16}" text-anchor="middle">${fmtDur(t)}</text>`);
    const rv = (rMax * 1.1 * i) / 5;
    parts.push(`<text x="${m.l - 6}" y="${yR(rv) + 4}" text-anchor="end">${rv.toFixed(rMax < 10 ? 1 : 0)}</text>`);
    const lv = (lMax * 1.1 * i) / 5;
    parts.push(`<text x="${m.l + w + 6}" y="${yL(lv) + 4}" fill="#777">${lv.toFixed(0)}</text>`);
  }
  parts.push(`<text x="${m.l + w / 2}" y="${height - 6}" text-anchor="middle">time</text>`);
  parts.push(`<text x="14" y="${m.t + h / 2}" transform="rotate(-90 14 ${m.t + h / 2})" text-anchor="middle">replicas</text>`);
  parts.push(`<text x="${width - 10}" y="${m.t + h / 2}" transform="rotate(90 ${width - 10} ${m.t + h / 2})" text-anchor="middle" fill="#777">requests/s (grey)</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

function fmtDur(s: number): string {
  if (s >= 172800) return `${(s / 86400).toFixed(1)}d`;
  if (s >= 7200) return `${(s / 3600).toFixed(1)}h`;
  if (s >= 120) return `${(s / 60).toFixed(0)}m`;
  return `${s.toFixed(0)}s`;
}

function uplotAssets(): { js: string; css: string } {
  const req = createRequire(import.meta.url);
  const dir = dirname(req.resolve('uplot/package.json'));
  return {
    js: readFileSync(join(dir, 'dist', 'uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(join(dir, 'dist', 'uPlot.min.css'), 'utf8'),
  };
}

/** Self-contained HTML: table + interactive charts (replicas, load, latency, metric vs target) + the SVG. */
export function htmlReport(runs: ReportRun[], meta: { title: string; trace: string; notes?: string[]; bound?: LowerBound; frontier?: FrontierPoint[] }): string {
  const { js, css } = uplotAssets();
  const boundHtml = meta.bound ? `<p>${esc(boundLine(meta.bound, runs))}</p>` : '';
  const frontierHtml = meta.frontier?.length
    ? `<h2>Cost vs attainment: every baseline's knob swept, and Tide's SLO target</h2>${frontierSvg(meta.frontier, meta.title, meta.bound)}<pre>${esc(frontierTable(meta.frontier))}</pre>`
    : '';
  const data = runs.map((r) => ({ name: r.summary.policy, summary: r.summary, series: r.series }));
  const table = summaryTable(runs);
  const svg = svgChart(runs, meta.title);
  // '<' is escaped so that no '</script>' can end the data block early
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(meta.title)}</title>
<style>${css}
body{font-family:sans-serif;margin:24px;max-width:1200px} pre{background:#f6f6f6;padding:12px;overflow:auto}
h2{margin-top:32px} .chart{margin:8px 0 24px}</style></head>
<body>
<h1>${esc(meta.title)}</h1>
<p>Trace: <code>${esc(meta.trace)}</code>. ${(meta.notes ?? []).map(esc).join(' ')}</p>
<pre>${esc(table)}</pre>
${boundHtml}
${frontierHtml}
<h2>Replicas</h2><div id="replicas" class="chart"></div>
<h2>Load (requests/s) and in-flight requests</h2><div id="load" class="chart"></div>
<h2>Latency (mean per interval, ms)</h2><div id="latency" class="chart"></div>
<h2>Metric vs target, per policy</h2><div id="metrics"></div>
<h2>Static chart (SVG)</h2>${svg}
<script>${js}</script>
<script>
const runs = ${json};
const colors = ${JSON.stringify(COLORS)};
const W = Math.min(1150, window.innerWidth - 60);
function plot(el, title, xs, series, opts) {
  const o = Object.assign({ width: W, height: 280, title, scales: { x: { time: false } },
    axes: [{ label: 'seconds' }, {}], series: [{ label: 't (s)' }].concat(series) }, opts || {});
  new uPlot(o, [xs].concat(series.map(s => s.data)), el);
}
function s(label, data, i, extra) { return Object.assign({ label, data, stroke: colors[i % colors.length], width: 1.5 }, extra || {}); }
const xs = runs[0] ? runs[0].series.t : [];
plot(document.getElementById('replicas'), 'replicas', xs, runs.map((r, i) => s(r.name, r.series.replicas, i, { paths: uPlot.paths.stepped({ align: 1 }) })));
plot(document.getElementById('load'), 'load', xs, [s('requests/s', runs[0] ? runs[0].series.rps : [], 8)].concat(runs.map((r, i) => s('in-flight ' + r.name, r.series.inFlight, i))));
plot(document.getElementById('latency'), 'latency', xs, runs.map((r, i) => s(r.name, r.series.latencyMeanMs, i)), { scales: { x: { time: false }, y: { distr: 3 } } });
const mdiv = document.getElementById('metrics');
runs.forEach((r, i) => {
  if (!r.series.metric.some(v => v !== null)) return;
  const d = document.createElement('div'); d.className = 'chart'; mdiv.appendChild(d);
  plot(d, r.name + ': ' + (r.series.metricLabel || 'metric'), r.series.t, [s('metric', r.series.metric, i), s('target', r.series.metricTarget, 8, { dash: [6, 4] })]);
});
</script>
</body></html>
`;
}

export function summaryJson(runs: ReportRun[]): Summary[] {
  return runs.map((r) => r.summary);
}
