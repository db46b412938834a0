import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHpaDriver, metricSpecName } from '../../../src/runtime/local/drivers/hpa.ts';
import { driverFor, driverKinds } from '../../../src/runtime/local/drivers/registry.ts';
import type { DriverContext } from '../../../src/runtime/local/drivers/types.ts';
import type { DecisionRecord } from '../../../src/core/decision.ts';
import type { HpaObservation, HpaPolicy, PodInfo } from '../../../src/deciders/hpa/types.ts';
import type { Replica } from '../../../src/runtime/local/supervisor.ts';

const NOW = 1_764_000_000_000;

function fakePod(name: string): Replica {
  const info: PodInfo = { name, phase: 'Running', ready: { status: 'True', lastTransitionTime: NOW - 600_000 }, startTime: NOW - 600_000, containers: [{ name: 'app', requests: { cpu: 100 } }] };
  return { name, terminating: false, ready: true, deployment: { name: 'web', labels: { app: 'web' }, container: { name: 'app' } }, podInfo: () => info } as unknown as Replica;
}

function ctx(opts: { dryRun?: boolean; cpu?: number; scraped?: Map<string, number> } = {}) {
  const scaled: number[] = [];
  const records: DecisionRecord[] = [];
  const pods = [fakePod('web-a'), fakePod('web-b')];
  const c: DriverContext = {
    dryRun: !!opts.dryRun,
    now: () => NOW,
    pods: () => pods,
    specReplicas: () => 2,
    resourceSample: (pod, res) => (res === 'cpu' && opts.cpu !== undefined ? { pod, value: opts.cpu, timestamp: NOW - 1000, windowSeconds: 15 } : null),
    scrapePods: async () => opts.scraped ?? new Map(),
    proxyStats: () => undefined,
    requestRate: () => ({ total: 0, perReplica: new Map() }),
    scale: (_d, n) => { scaled.push(n); },
    record: (_n, r) => { records.push(r); },
    event: () => {},
    log: () => {},
  };
  return { c, scaled, records };
}

const cpuPolicy: HpaPolicy = {
  name: 'web', scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 10,
  metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
};

test('the hpa driver is registered', () => {
  assert.ok(driverKinds().includes('hpa'));
  assert.equal(driverFor('hpa'), createHpaDriver);
});

test('CPU above target: decides from /proc-like samples and actuates the legacy up-limit', async () => {
  const { c, scaled, records } = ctx({ cpu: 150 });
  const d = createHpaDriver({ kind: 'hpa', name: 'web', target: 'web', policy: cpuPolicy }, c, { syncPeriodMs: 15_000, overrides: {} });
  assert.equal(d.status().targets, '<unknown>/50%');
  const rec = await d.sync(NOW);
  assert.ok(rec);
  const obs = (rec!.inputs as { observation: HpaObservation }).observation;
  assert.deepEqual(obs.metrics[0], { kind: 'pods', samples: [{ pod: 'web-a', value: 150, timestamp: NOW - 1000, windowSeconds: 15 }, { pod: 'web-b', value: 150, timestamp: NOW - 1000, windowSeconds: 15 }] });
  assert.equal(rec!.desiredReplicas, 4); // 150% / 50% → 6, limited to max(2×2, 4)
  assert.deepEqual(scaled, [4]);
  assert.equal(records.length, 1);
  assert.equal(d.status().targets, '150%/50%');
});

test('dry-run records the decision and never scales', async () => {
  const { c, scaled, records } = ctx({ cpu: 150, dryRun: true });
  const d = createHpaDriver({ kind: 'hpa', name: 'web', target: 'web', policy: cpuPolicy }, c, { syncPeriodMs: 15_000, overrides: {} });
  const rec = await d.sync(NOW);
  assert.equal(rec!.rescale, true);
  assert.deepEqual(scaled, []);
  assert.equal(records.length, 1);
  assert.equal(d.status().dryRun, true);
});

test('no samples → an error observation (no scale); Pods metrics come from the scrape in milli-units; External is unavailable', async () => {
  const none = ctx();
  const d1 = createHpaDriver({ kind: 'hpa', name: 'web', target: 'web', policy: cpuPolicy }, none.c, { syncPeriodMs: 15_000, overrides: {} });
  const r1 = await d1.sync(NOW);
  assert.equal((r1!.inputs as { observation: HpaObservation }).observation.metrics[0].kind, 'error');
  assert.deepEqual(none.scaled, []);
  const policy: HpaPolicy = { ...cpuPolicy, metrics: [
    { type: 'Pods', pods: { metric: { name: 'inference_queue_depth' }, target: { type: 'AverageValue', averageValue: 5000 } } },
    { type: 'External', external: { metric: { name: 'x' }, target: { type: 'Value', value: 1000 } } },
  ] };
  const s = ctx({ scraped: new Map([['web-a', 12], ['web-b', 8.5]]) });
  const d2 = createHpaDriver({ kind: 'hpa', name: 'web', target: 'web', policy }, s.c, { syncPeriodMs: 15_000, overrides: {} });
  const r2 = await d2.sync(NOW);
  const m = (r2!.inputs as { observation: HpaObservation }).observation.metrics;
  assert.deepEqual(m[0].kind === 'pods' && m[0].samples.map((x) => [x.pod, x.value]), [['web-a', 12000], ['web-b', 8500]]);
  assert.equal(m[1].kind, 'error');
  // (12 + 8.5) / 5 = 4.1 → 5 proposed; a failed metric does not block a scale-up; legacy up-limit max(2×2, 4) = 4
  assert.equal(r2!.desiredReplicas, 4);
});

test('describe names for metric specs follow kubectl', () => {
  assert.deepEqual(metricSpecName(cpuPolicy.metrics[0]), { name: 'resource cpu on pods  (as a percentage of request)', target: '50%' });
  assert.deepEqual(metricSpecName({ type: 'Pods', pods: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: 1500 } } }), { name: '"q" on pods', target: '1500m' });
});
