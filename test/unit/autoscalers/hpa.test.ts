// The HPA autoscaler over the port: observation, decision, actuation, dry-run, status, async answers,
// snapshot/restore of its memory; and the local runtime's answers (LocalClusterPort) it relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHpaAutoscaler, metricSpecName } from '../../../src/autoscalers/hpa.ts';
import { autoscalerFactory, autoscalerKinds, createAutoscaler } from '../../../src/autoscalers/factory.ts';
import type { AutoscalerSpec } from '../../../src/autoscalers/types.ts';
import type { HpaObservation, HpaPolicy } from '../../../src/deciders/hpa/types.ts';
import { LocalClusterPort, type LocalCluster } from '../../../src/runtime/local/port.ts';
import type { Replica } from '../../../src/runtime/local/supervisor.ts';
import { fakePort, NOW, pod } from './helpers.ts';

const cpuPolicy: HpaPolicy = {
  name: 'web', scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 10,
  metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
};
const spec = (policy: HpaPolicy = cpuPolicy): AutoscalerSpec => ({ kind: 'hpa', name: policy.name, target: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, policy });
const cpu = (value: number, pods = ['web-a', 'web-b']) => () => ({ kind: 'pods' as const, samples: pods.map((p) => ({ pod: p, value, timestamp: NOW - 1000, windowSeconds: 15 })) });

test('the factory builds hpa autoscalers', () => {
  assert.ok(autoscalerKinds().includes('hpa'));
  assert.equal(autoscalerFactory('hpa'), createHpaAutoscaler);
  assert.throws(() => createAutoscaler({ ...spec(), kind: 'nope' }, fakePort()), /no autoscaler for kind "nope"/);
});

test('CPU above target: decides from the resource metrics and writes /scale (legacy up-limit)', async () => {
  const port = fakePort({ resource: cpu(150) });
  const a = createAutoscaler(spec(), port, { syncPeriodMs: 15_000 });
  assert.equal(a.status().targets, '<unknown>/50%');
  assert.equal(a.firstSyncDelayMs, 15_000);
  const rec = await a.sync(NOW);
  assert.ok(rec);
  const obs = (rec!.inputs as { observation: HpaObservation }).observation;
  assert.deepEqual(obs.target, { specReplicas: 2, statusReplicas: 2, selector: 'app=web' });
  assert.equal(obs.metrics[0].kind, 'pods');
  assert.equal(rec!.desiredReplicas, 4); // 150% / 50% → 6, limited to max(2×2, 4)
  assert.deepEqual(port.scaled, [4]);
  assert.equal(port.records.length, 1);
  const st = a.status();
  assert.equal(st.targets, '150%/50%');
  assert.equal(st.lastScaleTime, NOW);
  assert.equal(st.desiredReplicas, 4);
  assert.equal(a.metric()!.value, 300);
});

test('a synchronous port gives a synchronous sync (the simulator relies on it); an async one a Promise', async () => {
  const sync = createAutoscaler(spec(), fakePort({ resource: cpu(150) }), {});
  const r = sync.sync(NOW);
  assert.ok(r && !(r instanceof Promise));
  const port = fakePort({ resource: cpu(150), async: true });
  const as = createAutoscaler(spec(), port, {});
  const p = as.sync(NOW);
  assert.ok(p instanceof Promise);
  assert.equal(as.sync(NOW), null, 'no second sync while one is in flight');
  assert.equal((await p)!.desiredReplicas, 4);
  assert.deepEqual(port.scaled, [4]);
});

test('dry-run (shadow mode) records the decision and never writes /scale', async () => {
  const port = fakePort({ resource: cpu(150) });
  const a = createAutoscaler(spec(), port, { dryRun: true });
  const rec = await a.sync(NOW);
  assert.equal(rec!.rescale, true);
  assert.deepEqual(port.scaled, []);
  assert.equal(port.records.length, 1);
  assert.equal(a.status().dryRun, true);
});

test('a failed /scale write becomes a FailedRescale event; the decision is still recorded', async () => {
  const port = fakePort({ resource: cpu(150), failScale: 'Operation cannot be fulfilled: the object has been modified' });
  const a = createAutoscaler(spec(), port, {});
  await a.sync(NOW);
  assert.equal(port.records.length, 1);
  assert.equal(port.events[0].reason, 'FailedRescale');
  assert.match(port.events[0].message, /^New size: 4; reason: .*; error: Operation cannot be fulfilled/);
});

test('controller knobs reach the decider (tolerance, downscale stabilization)', async () => {
  const port = fakePort({ resource: cpu(54) }); // 54/50 = 1.08: within the default 10 % tolerance
  const a = createAutoscaler(spec(), port, { config: { tolerance: 0.05, downscaleStabilizationSeconds: 0 } });
  const rec = await a.sync(NOW);
  const cfg = (rec!.inputs as { config: { tolerance: number; downscaleStabilizationSeconds: number; syncPeriodSeconds: number } }).config;
  assert.deepEqual([cfg.tolerance, cfg.downscaleStabilizationSeconds, cfg.syncPeriodSeconds], [0.05, 0, 15]);
  assert.equal(rec!.desiredReplicas, 3);
});

test('missing metric APIs are unavailable metrics, not crashes; a failed metric does not block a scale-up', async () => {
  const policy: HpaPolicy = { ...cpuPolicy, metrics: [
    { type: 'Pods', pods: { metric: { name: 'inference_queue_depth' }, target: { type: 'AverageValue', averageValue: 5000 } } },
    { type: 'External', external: { metric: { name: 'x' }, target: { type: 'Value', value: 1000 } } },
  ] };
  const port = fakePort({ custom: () => ({ kind: 'pods', samples: [{ pod: 'web-a', value: 12000, timestamp: NOW, windowSeconds: 15 }, { pod: 'web-b', value: 8500, timestamp: NOW, windowSeconds: 15 }] }) });
  delete (port as { externalMetric?: unknown }).externalMetric;
  const a = createAutoscaler(spec(policy), port, {});
  const rec = await a.sync(NOW);
  const m = (rec!.inputs as { observation: HpaObservation }).observation.metrics;
  assert.equal(m[1].kind, 'error');
  assert.match((m[1] as { message: string }).message, /external metrics API is not available/);
  assert.equal(rec!.desiredReplicas, 4); // (12 + 8.5) / 5 = 4.1 → 5; legacy up-limit max(2×2, 4) = 4
});

test('snapshot/restore carries the recommendation history: a restarted HPA resumes the stabilization window', async () => {
  const pods4 = ['a', 'b', 'c', 'd'].map((n) => pod(`web-${n}`));
  const port = fakePort({ resource: cpu(150) });
  const a = createAutoscaler(spec(), port, {});
  await a.sync(NOW);                          // → 4 (6 recommended, legacy up-limit)
  const low = cpu(10, pods4.map((p) => p.name));
  port.resource = low; port.pods = pods4;
  for (let t = 15_000; t <= 150_000; t += 15_000) { port.t = NOW + t; await a.sync(NOW + t); }
  const snap = JSON.parse(JSON.stringify(a.snapshot()));
  assert.equal(snap.kind, 'hpa');
  assert.ok(JSON.stringify(snap).length < 4000, `small: ${JSON.stringify(snap).length}`);
  // restored from the snapshot: decides exactly as the original; a fresh one (no memory) does not
  const mk = () => fakePort({ resource: low, spec: port.spec, pods: pods4 });
  const pb = mk(); const pf = mk();
  const b = createAutoscaler(spec(), pb, {});
  b.restore(snap);
  const fresh = createAutoscaler(spec(), pf, {});
  const seq = { a: [] as number[], b: [] as number[], fresh: [] as number[] };
  for (let t = 165_000; t <= 480_000; t += 15_000) {
    for (const [k, x, p] of [['a', a, port], ['b', b, pb], ['fresh', fresh, pf]] as const) {
      p.t = NOW + t;
      seq[k].push((await x.sync(NOW + t))!.desiredReplicas);
    }
  }
  assert.deepEqual(seq.b, seq.a, JSON.stringify(seq));
  assert.notDeepEqual(seq.fresh, seq.a, JSON.stringify(seq));
  assert.ok(seq.a.includes(1), `the original scales down once its window has passed: ${seq.a}`);
  assert.equal(b.status().lastScaleTime, a.status().lastScaleTime);
  assert.throws(() => b.restore({ ...snap, name: 'other' }), /snapshot belongs to hpa\/other/);
  assert.throws(() => b.restore({ ...snap, v: 2 }), /unsupported snapshot version 2/);
});

test('describe names for metric specs follow kubectl', () => {
  assert.deepEqual(metricSpecName(cpuPolicy.metrics[0]), { name: 'resource cpu on pods  (as a percentage of request)', target: '50%' });
  assert.deepEqual(metricSpecName({ type: 'Pods', pods: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: 1500 } } }), { name: '"q" on pods', target: '1500m' });
});

// ---- the local runtime's answers ----------------------------------------------------------------

function localCluster(opts: { cpu?: number; scraped?: Map<string, number>; container?: string } = {}) {
  const scaled: number[] = [];
  const replica = (name: string, terminating = false): Replica => ({
    name, terminating, ready: true, deployment: { name: 'web', labels: { app: 'web' }, container: { name: opts.container ?? 'app' } },
    podInfo: () => pod(name, terminating ? { deletionTimestamp: NOW } : {}),
  }) as unknown as Replica;
  const reps = [replica('web-a'), replica('web-b'), replica('web-old', true)];
  const rt: LocalCluster = {
    syncPeriodMs: 15_000,
    replicas: (_d, incl) => reps.filter((r) => incl || !r.terminating),
    specReplicas: () => 2,
    scaleDeployment: (_d, n) => { scaled.push(n); },
    resourceSample: (p, res) => (res === 'cpu' && opts.cpu !== undefined ? { pod: p, value: opts.cpu, timestamp: NOW - 1000, windowSeconds: 15 } : null),
    scrapePods: async () => opts.scraped ?? new Map(),
    proxyStats: () => undefined,
    onRequestDone: () => () => {},
    recordDecision: () => {},
    autoscalerEvent: () => {},
    log: () => {},
  };
  return { port: new LocalClusterPort(rt), scaled };
}

test('local port: /scale, pods (terminating included), resource metrics from /proc samples, scraped pod metrics in milli-units', async () => {
  const { port, scaled } = localCluster({ cpu: 150, scraped: new Map([['web-a', 12], ['web-b', 8.5]]) });
  const ref = { kind: 'hpa', name: 'web', target: { kind: 'Deployment', name: 'web' } };
  assert.deepEqual(port.getScale(ref.target), { specReplicas: 2, statusReplicas: 2, selector: 'app=web' });
  assert.deepEqual(port.listPods(ref.target).map((p) => [p.name, p.deletionTimestamp !== undefined]), [['web-a', false], ['web-b', false], ['web-old', true]]);
  assert.equal(port.readyPods(ref.target), 2);
  const r = port.resourceMetrics(ref, 'cpu');
  assert.deepEqual(r.kind === 'pods' && r.samples.map((s) => [s.pod, s.value]), [['web-a', 150], ['web-b', 150]]);
  const c = await port.podMetrics(ref, { name: 'q' });
  assert.deepEqual(c.kind === 'pods' && c.samples.map((s) => [s.pod, s.value, s.windowSeconds]), [['web-a', 12000, 15], ['web-b', 8500, 15]]);
  port.setScale(ref.target, 5);
  assert.deepEqual(scaled, [5]);
  port.close();
});

test('local port: no samples for running pods, a missing container, an empty scrape and a missing PromQL mapping are errors', async () => {
  const { port } = localCluster({});
  const ref = { kind: 'hpa', name: 'web', target: { kind: 'Deployment', name: 'web' } };
  assert.deepEqual(port.resourceMetrics(ref, 'cpu'), { kind: 'error', message: 'no metrics returned from resource metrics API' });
  assert.deepEqual(port.resourceMetrics(ref, 'cpu', 'sidecar'), { kind: 'error', message: 'container sidecar not present in the pods of Deployment web' });
  assert.equal((await port.podMetrics(ref, { name: 'q' })).kind, 'error');
  const e = await port.externalMetric({ ...ref, source: { file: '/nonexistent/app.yaml' } }, { name: 'x' });
  assert.equal(e.kind, 'error');
  assert.match((e as { message: string }).message, /no PromQL for metric "x"/);
  port.close();
});
