// The frontier sweep: one point per setting, dominance computed right, and the HTML report charts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SimOptions } from '../../../src/sim/engine.ts';
import { dominators, paretoFront, sweepFrontier, type FrontierPoint } from '../../../src/sim/sweep.ts';
import { lowerBound } from '../../../src/sim/bound.ts';
import { frontierSvg, frontierTable, htmlReport } from '../../../src/sim/report.ts';
import type { PolicyContext } from '../../../src/sim/run.ts';
import { generate } from '../../../src/sim/workload.ts';
import { service } from './helpers.ts';

const pt = (family: FrontierPoint['family'], label: string, replicaSeconds: number, sloAttainment: number): FrontierPoint =>
  ({ family, label, isDefault: false, replicaSeconds, sloAttainment, maxReplicas: 1 });

test('dominance and the Pareto front', () => {
  const a = pt('hpa', 'a', 100, 0.99), b = pt('kpa', 'b', 90, 0.995), c = pt('tide', 'c', 80, 0.98), d = pt('keda', 'd', 90, 0.99);
  assert.deepEqual(dominators(a, [a, b, c, d]).map((p) => p.label), ['b']);
  assert.deepEqual(dominators(d, [a, b, c, d]), []); // equal attainment is not domination
  assert.deepEqual(paretoFront([a, b, c, d]).map((p) => p.label), ['b', 'c']);
});

test('a small sweep covers every family and the HTML report charts it', () => {
  const svc = service({ coldStart: { kind: 'fixed', ms: 10_000 } });
  const base: SimOptions = { seed: 1, trace: generate({ kind: 'diurnal', meanRps: 10, amplitude: 0.5, periodMs: 600_000 }, 1200_000, 2), service: svc, sloMs: 1000, initialReplicas: 2, maxReplicas: 20 };
  const ctx: PolicyContext = { service: svc, sloMs: 1000, sloTarget: 0.99, minReplicas: 1, maxReplicas: 20, seasonMs: 0 };
  const pts = sweepFrontier(base, ctx, { grid: { hpaTargets: [50, 80], hpaScaleDownWindowsS: [300], kpaUtilizations: [70], kpaWindowsS: [60], kedaPerSlot: [1], tideTargets: [0.95] } });
  assert.deepEqual(pts.map((p) => p.family), ['hpa', 'hpa', 'kpa', 'keda', 'tide', 'tide']);
  assert.equal(pts.filter((p) => p.isDefault).length, 1);
  assert.match(pts.find((p) => p.isDefault)!.label, /99\.0% \(default\)/);
  for (const p of pts) assert.ok(p.maxReplicas <= 20 && p.replicaSeconds > 0);
  assert.match(frontierTable(pts), /on frontier/);
  const html = htmlReport([], { title: 't', trace: 't', frontier: pts, bound: lowerBound(base, 0.99, 1) });
  assert.match(html, /Cost vs attainment/);
  assert.match(html, /lower bound at 99\.0%/);
});

test('the frontier chart draws each point where its cost and attainment put it, and the clairvoyant reference when given', () => {
  const pts = [pt('hpa', 'h', 100, 0.9), pt('tide', 't', 200, 0.999)];
  const svg = frontierSvg(pts, 'x', undefined, 960, 460, { replicaSeconds: 150, sloAttainment: 0.99 });
  // x from 95 (0.95 x 100) to 210 (1.05 x 200) over 870 px from 70; y in nines: 1 .. 3 (+0.1 margins)
  const circle = (label: string) => new RegExp(`<circle cx="([0-9.]+)" cy="([0-9.]+)"[^>]*><title>${label}:`).exec(svg)!;
  const [, hx, hy] = circle('h').map(Number);
  const [, tx, ty] = circle('t').map(Number);
  assert.ok(Math.abs(hx - (70 + (5 / 115) * 870)) < 0.1 && Math.abs(tx - (70 + (105 / 115) * 870)) < 0.1);
  assert.ok(ty < hy, 'more nines is higher on the chart');
  const ref = /<path d="M([0-9.]+),([0-9.]+)l7,7l-7,7l-7,-7z"[^>]*><title>clairvoyant schedule: 150 replica-s, 99\.00%/.exec(svg);
  assert.ok(ref, 'the reference diamond');
  assert.ok(Math.abs(Number(ref[1]) - (70 + (55 / 115) * 870)) < 0.1);
  assert.doesNotMatch(frontierSvg(pts, 'x'), /clairvoyant/);
});
