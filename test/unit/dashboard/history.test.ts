// The dashboard's sampler: histogram quantiles between snapshots, the bounded ring, and one tick
// over a fake runtime (real prom-client metrics, fake supervisors/drivers/proxy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DashboardHistory, histByLabel, histQuantile, Ring, type HistSnap } from '../../../src/dashboard/history.ts';
import { RuntimeMetrics } from '../../../src/runtime/local/metrics.ts';
import type { LocalRuntime } from '../../../src/runtime/local/controller.ts';
import type { DecisionRecord } from '../../../src/core/decision.ts';

const snap = (les: number[], counts: number[]): HistSnap => {
  let c = 0;
  const cum = counts.map((n) => (c += n));
  return { les, cum, count: c, sum: 0 };
};

test('histQuantile interpolates inside the bucket like histogram_quantile', () => {
  const h = snap([0.01, 0.1, 1, Infinity], [0, 10, 0, 0]);
  const close = (a: number | null, b: number) => assert.ok(a !== null && Math.abs(a - b) < 1e-12, `${a} ≈ ${b}`);
  close(histQuantile(0.5, h), 0.055);
  assert.equal(histQuantile(1, h), 0.1);
  // only the difference between snapshots counts
  const older = snap([0.01, 0.1, 1, Infinity], [0, 10, 0, 0]);
  const newer = snap([0.01, 0.1, 1, Infinity], [0, 10, 4, 0]);
  close(histQuantile(0.5, newer, older), 0.55);
  assert.equal(histQuantile(0.5, older, older), null);
  // the +Inf bucket answers its lower bound
  assert.equal(histQuantile(0.99, snap([0.01, 0.1, Infinity], [1, 0, 99])), 0.1);
});

test('property: quantiles are monotone in q and stay within the finite bounds', () => {
  const les = [0.001, 0.01, 0.1, 1, 10, Infinity];
  fc.assert(fc.property(fc.array(fc.nat(50), { minLength: 6, maxLength: 6 }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), (counts, a, b) => {
    const h = snap(les, counts);
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    const x = histQuantile(lo, h);
    const y = histQuantile(hi, h);
    if (h.cum[h.cum.length - 1] === 0) return x === null && y === null;
    return x !== null && y !== null && x <= y && x >= 0 && y <= 10;
  }));
});

test('Ring keeps the newest items up to its capacity', () => {
  const r = new Ring<number>(3);
  for (let i = 1; i <= 5; i++) r.push(i);
  assert.deepEqual(r.toArray(), [3, 4, 5]);
  assert.equal(r.last(), 5);
  assert.equal(r.length, 3);
});

test('histByLabel sums the other labels per service', async () => {
  const m = new RuntimeMetrics();
  m.latency.observe({ service: 'a', code: '200' }, 0.003);
  m.latency.observe({ service: 'a', code: '503' }, 0.02);
  m.latency.observe({ service: 'b', code: '200' }, 2);
  const by = histByLabel((await m.latency.get()).values as never, 'service');
  assert.equal(by.get('a')!.count, 2);
  assert.equal(by.get('a')!.cum.at(-1), 2);
  assert.equal(by.get('a')!.les.at(-1), Infinity);
  assert.equal(by.get('b')!.count, 1);
});

function fakeRuntime() {
  const metrics = new RuntimeMetrics();
  const replica = (name: string, ready: boolean) => ({
    name, ready, terminating: false,
    status: () => ({ name, deployment: 'web', ready, status: 'Running', restartCount: 0, created: 1000 }),
  });
  const reps = [replica('web-1', true), replica('web-2', false)];
  const decisions = new Map<string, DecisionRecord[]>();
  const stats = { now: 0, queued: 3, inFlight: 2, requestsTotal: 0, replicas: [] };
  const rt = {
    startedAt: 0,
    opts: { dryRun: false, syncPeriodMs: 1000 },
    metrics,
    decisions,
    supervisors: new Map([['web', { desired: 2, active: () => reps }]]),
    services: new Map([['web', { spec: { name: 'web' }, deployment: 'web', port: 1234, proxy: { stats: () => stats } }]]),
    drivers: new Map([['web', {
      name: 'web', kind: 'kpa', target: 'web',
      status: () => ({ minReplicas: 0, maxReplicas: 5, currentReplicas: 2, desiredReplicas: 3, metrics: [{ metric: 'concurrency', current: '2.5', target: '1', proposedReplicas: 3 }], metricSpecs: [] }),
    }]]),
    replicas: () => reps,
  };
  return { rt: rt as unknown as LocalRuntime, metrics, decisions };
}

test('a tick samples replicas, autoscaler metrics, RPS, latency quantiles, queue and cold starts', async () => {
  const { rt, metrics, decisions } = fakeRuntime();
  const h = new DashboardHistory(rt, { podView: () => ({ inFlight: 1 }), historyMs: 3000, sampleMs: 1000, rateWindowMs: 60_000 });
  const first = (await h.tick())!;
  assert.deepEqual(first.deployments.web, { replicas: 2, ready: 1, desired: 2 });
  assert.deepEqual(first.autoscalers.web, { current: 2, desired: 3, metrics: [{ name: 'concurrency', value: 2.5, target: 1, shown: '2.5/1' }] });
  assert.equal(first.services.web.p50, null);
  assert.equal(first.services.web.queue, 3);
  assert.equal(first.services.web.inFlight, 2);
  for (let i = 0; i < 10; i++) metrics.latency.observe({ service: 'web', code: '200' }, 0.02);
  metrics.coldStart.observe({ service: 'web' }, 1.5);
  decisions.set('web', [{ autoscaler: 'web', decider: 'kpa', now: Date.now(), currentReplicas: 2, desiredReplicas: 3, rescale: true, drivingMetric: 0, proposals: [{ metric: 'concurrency', current: '2.5', target: '1', proposedReplicas: 3 }], limitedBy: [], explanation: 'up' } as unknown as DecisionRecord]);
  const updates: unknown[] = [];
  h.subscribe((u) => updates.push(u));
  await new Promise((r) => setTimeout(r, 20));
  const second = (await h.tick())!;
  const s = second.services.web;
  assert.ok(s.rps > 0);
  assert.ok(s.p50! > 10 && s.p50! <= 25, String(s.p50)); // inside the 10–25 ms bucket
  assert.equal(s.coldStarts, 1);
  assert.equal(s.coldStartsTotal, 1);
  assert.equal(s.coldStartMs, 1500);
  const u = updates[0] as { pods: { name: string; inFlight: number }[]; decisions: { drivingMetric: string; desiredReplicas: number }[] };
  assert.deepEqual(u.pods.map((p) => [p.name, p.inFlight]), [['web-1', 1], ['web-2', 1]]);
  assert.deepEqual(u.decisions.map((d) => [d.drivingMetric, d.desiredReplicas]), [['concurrency', 3]]);
  // a decision is announced once
  await h.tick();
  assert.equal((updates[1] as { decisions: unknown[] }).decisions.length, 0);
  // the ring is bounded by historyMs / sampleMs (+1)
  for (let i = 0; i < 5; i++) await h.tick();
  assert.equal(h.snapshot().samples.length, 4);
  assert.equal(h.snapshot().decisions.length, 1);
  assert.equal(h.snapshot().meta.deployments[0].autoscalers[0], 'web');
  h.close();
});
