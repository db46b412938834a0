// Cost–attainment frontiers on every benchmark scenario (bench/scenarios.ts): each baseline's main
// knob swept (src/sim/sweep.ts), Tide's SLO target swept, the clairvoyant reference schedule and
// the provable lower bound. Prints markdown for docs/benchmarks.md; --html DIR writes one report
// per scenario with the chart. Deterministic (seed 1). Minutes per scenario: run under nice.
//   npx node bench/frontier.ts [scenario ...] [--days 7] [--no-oracle] [--html DIR] [--svg DIR] [--quick]
// --svg DIR writes DIR/<scenario>.svg, the chart docs/benchmarks.md shows (docs/frontiers/).
import { writeFileSync, mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { scenario, TUNE, EVALUATE } from './scenarios.ts';
import { SYNTH_TUNE } from './synth-scenarios.ts';
import { lowerBound } from '../src/sim/bound.ts';
import { runOracle, warmStartReplicas } from '../src/sim/oracle.ts';
import { dominators, paretoFront, sweepFrontier, type SweepGrid } from '../src/sim/sweep.ts';
import { frontierSvg, frontierTable } from '../src/sim/report.ts';
import { traceRequestCount } from '../src/sim/workload.ts';

const args = process.argv.slice(2);
const opt = (k: string) => (args.includes(k) ? args[args.indexOf(k) + 1] : undefined);
const days = Number(opt('--days') ?? 7);
const html = opt('--html');
const svgDir = opt('--svg');
const names = args.filter((a) => !a.startsWith('--') && a !== opt('--days') && a !== html && a !== svgDir);
const run = names.length ? names : [...TUNE, ...SYNTH_TUNE, ...EVALUATE];
const quick: Partial<SweepGrid> | undefined = args.includes('--quick')
  ? { hpaTargets: [30, 50, 70, 90], hpaScaleDownWindowsS: [60, 300], kpaUtilizations: [50, 70, 90], kpaWindowsS: [60], kedaPerSlot: [0.5, 1, 2], tideTargets: [0.95, 0.99, 0.999] }
  : undefined;
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const num = (x: number) => Math.round(x).toLocaleString('en-US');

for (const name of run) {
  const t0 = performance.now();
  const sc = await scenario(name, days);
  sc.base.initialReplicas = Math.max(sc.ctx.minReplicas, warmStartReplicas(sc.base));
  const lb = lowerBound(sc.base, sc.ctx.sloTarget, sc.ctx.minReplicas);
  const oracle = args.includes('--no-oracle') ? undefined : runOracle(sc.base, sc.ctx.sloTarget, { iterations: 5, minReplicas: sc.ctx.minReplicas, maxReplicas: sc.ctx.maxReplicas });
  const pts = sweepFrontier(sc.base, sc.ctx, { grid: quick, onRun: (l) => process.stderr.write(`${name}: ${l}\n`) });
  const tide = pts.find((p) => p.isDefault)!;
  const dom = dominators(tide, pts.filter((p) => p.family !== 'tide'));
  console.log(`\n#### ${name} (${sc.set === 'tune' ? 'tuned on' : 'evaluate-only'}): ${sc.describe}\n`);
  console.log(`${num(traceRequestCount(sc.base.trace))} requests, ${sc.base.initialReplicas} warm replicas, seed 1, ${((performance.now() - t0) / 1000).toFixed(0)} s for ${pts.length + (oracle?.evaluations ?? 0)} simulations.\n`);
  console.log(`- lower bound at ${pct(sc.ctx.sloTarget)}: ${lb.feasible ? `${num(lb.replicaSeconds!)} replica-s` : '**infeasible**'} (attainment ceiling ${pct(lb.ceiling)}: ${lb.tooLong} requests need more than the SLO for service alone)`);
  if (oracle) console.log(`- clairvoyant schedule: ${num(oracle.summary.replicaSeconds)} replica-s at ${pct(oracle.summary.sloAttainment)}${oracle.reached ? '' : ' (target unreachable for it)'}${lb.replicaSeconds ? `, ${(oracle.summary.replicaSeconds / lb.replicaSeconds).toFixed(2)}× the bound` : ''}`);
  console.log(`- Tide default: ${num(tide.replicaSeconds)} replica-s at ${pct(tide.sloAttainment)}${oracle ? `, ${(tide.replicaSeconds / oracle.summary.replicaSeconds).toFixed(2)}× the clairvoyant schedule` : ''}${lb.replicaSeconds ? `, ${(tide.replicaSeconds / lb.replicaSeconds).toFixed(2)}× the bound` : ''}`);
  console.log(`- baseline settings both cheaper and higher in attainment than Tide's default: ${dom.length ? dom.map((d) => `${d.label} (${num(d.replicaSeconds)}, ${pct(d.sloAttainment)})`).join('; ') : '**none**'}`);
  const eq = pts.filter((q) => q.family !== 'tide' && q.replicaSeconds < tide.replicaSeconds && q.sloAttainment >= tide.sloAttainment).sort((a, b) => a.replicaSeconds - b.replicaSeconds);
  console.log(`- baseline settings cheaper than Tide's default at equal or higher attainment: ${eq.length ? `${eq.slice(0, 4).map((d) => `${d.label} (${num(d.replicaSeconds)}, ${pct(d.sloAttainment)})`).join(', ')}${eq.length > 4 ? ` and ${eq.length - 4} more` : ''}` : '**none**'}\n`);
  console.log("Each baseline family's Pareto front (no other setting of any baseline is at most as costly and at least as good), and Tide's SLO-target sweep:\n");
  console.log('| setting | replica-s | SLO attainment | max replicas |');
  console.log('|---|---:|---:|---:|');
  const front = new Set(paretoFront(pts.filter((q) => q.family !== 'tide')));
  const shown = [...[...front].sort((a, b) => a.sloAttainment - b.sloAttainment || a.replicaSeconds - b.replicaSeconds), ...pts.filter((q) => q.family === 'tide')];
  for (const p of shown) console.log(`| ${p.isDefault ? `**${p.label}**` : p.label} | ${num(p.replicaSeconds)} | ${pct(p.sloAttainment)} | ${p.maxReplicas} |`);
  if (svgDir) {
    mkdirSync(svgDir, { recursive: true });
    const ref = oracle ? { replicaSeconds: oracle.summary.replicaSeconds, sloAttainment: oracle.summary.sloAttainment } : undefined;
    writeFileSync(`${svgDir}/${name}.svg`, frontierSvg(pts, `${name} (${sc.set === 'tune' ? 'tuned on' : 'evaluate-only'})`, lb, 960, 460, ref) + '\n');
  }
  if (html) {
    mkdirSync(html, { recursive: true });
    const body = `<!doctype html><meta charset="utf-8"><title>${name}</title><body style="font-family:sans-serif"><h1>${name}</h1><p>${sc.describe}</p>${frontierSvg(pts, name, lb)}<pre>${frontierTable(pts).replace(/</g, '&lt;')}</pre></body>`;
    writeFileSync(`${html}/${name}.html`, body);
  }
}
