import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxySampler } from '../../../src/runtime/local/sampling.ts';
import type { KpaItemPolicy } from '../../../src/manifests/knative.ts';
import { createAutoscaler } from '../../../src/autoscalers/factory.ts';
import type { AutoscalerSpec } from '../../../src/autoscalers/types.ts';
import { loadBundle } from '../../../src/runtime/local/bundle.ts';
import { fakeCluster } from '../runtime/fake-cluster.ts';
import { makeKpaPolicy } from '../../../src/deciders/kpa/policy.ts';

const T0 = 1_700_000_000_000;

test('sampler: time-weighted concurrency over the second and arrivals as rps', () => {
  const s = new ProxySampler();
  s.observe(T0, 0, 100);
  s.observe(T0 + 500, 2, 103);
  const out = s.report(T0 + 1000, 105, 1);
  assert.deepEqual(out, { time: T0 + 1000, concurrency: 1, rps: 5 });
  // next second: level stays 2 the whole time
  const out2 = s.report(T0 + 2000, 105, 1);
  assert.deepEqual(out2, { time: T0 + 2000, concurrency: 2, rps: 0 });
  assert.equal(s.drain().length, 2);
});

test('sampler: one sample per second: a second report in the same second waits for the next', () => {
  // the KPA adds up the samples of a second (one per pod upstream); this one stands for all pods
  const s = new ProxySampler();
  s.observe(T0, 4, 0);
  assert.deepEqual(s.report(T0 + 1050, 10, 1), { time: T0 + 1050, concurrency: 4, rps: 10 });
  // a late timer and the tick's own report after a stall: both in second T0/1000 + 1
  s.observe(T0 + 1300, 8, 12);
  assert.equal(s.report(T0 + 1600, 14, 1), null, 'not twice in one second');
  // the next second's sample covers both intervals: 0.25 s at 4, 0.7 s at 8 → 6.95 average; 6 arrivals
  s.observe(T0 + 2000, 8, 16);
  assert.deepEqual(s.report(T0 + 2000, 16, 1), { time: T0 + 2000, concurrency: Math.round(((0.25 * 4 + 0.7 * 8) / 0.95) * 1e6) / 1e6, rps: 6 });
  assert.equal(s.drain().length, 2);
});

test('sampler: seconds with no ready pod and no traffic are not reported; the cold stat is given back', () => {
  const s = new ProxySampler();
  s.observe(T0, 0, 0);
  assert.equal(s.report(T0 + 1000, 0, 0), null);
  s.coldRequest(T0 + 1100);
  s.observe(T0 + 1100, 1, 1);
  // 0.9 s at level 1 after 0.1 s at 0 → 0.9 average, minus the immediate "1" already reported → 0,
  // and with no ready pod nothing more is reported
  assert.equal(s.report(T0 + 2000, 1, 0), null);
  assert.deepEqual(s.drain(), [{ time: T0 + 1100, concurrency: 1, rps: 1 }]);
  // the adjustment applies once: the next second counts fully
  s.observe(T0 + 2500, 3, 4);
  assert.deepEqual(s.report(T0 + 3000, 4, 0), { time: T0 + 3000, concurrency: 2, rps: 3 });
});

const spec = (policy: KpaItemPolicy): AutoscalerSpec => ({ kind: 'kpa', name: 's', target: { kind: 'Deployment', name: 's' }, policy });

test('autoscaler: a cold request at zero decides at once (poke) and scales to 1', () => {
  const kpa = makeKpaPolicy({ name: 's', target: 'Deployment/s', annotations: { windowSeconds: 6 } });
  const f = fakeCluster({ t0: T0, replicas: 0, ready: 0 });
  const d = createAutoscaler(spec({ kpa, revision: { name: 's', target: 'Deployment/s' }, containerConcurrency: 0, timeoutSeconds: 300 }), f.port, { syncPeriodMs: 15_000 });
  try {
    assert.equal(d.syncPeriodMs, 2000, 'KPA ticks every 2 s whatever the HPA sync period');
    f.stats.queued = 1;
    // the activator: the runtime feeds the cold stat to the revision's pipeline, then pokes
    f.port.coldRequest('s', f.now);
    d.poke(f.now);
    assert.deepEqual(f.scaled, [1]);
    assert.equal(f.records.length, 1);
    const obs = (f.records[0]!.inputs as { observation: { poke?: boolean; samples: unknown[] } }).observation;
    assert.equal(obs.poke, true);
    assert.deepEqual(obs.samples, [{ time: T0, concurrency: 1, rps: 1 }]);
    assert.match(d.status().targets, /concurrency$/);
    // a second poke while the decider already wants 1 does not decide again (Knative's Poke rule)
    f.port.coldRequest('s', f.now);
    d.poke(f.now);
    assert.equal(f.records.length, 1);
    // snapshot/restore: the windows and panic state travel as JSON
    const snap = JSON.parse(JSON.stringify(d.snapshot()));
    const e = createAutoscaler(spec({ kpa, revision: { name: 's', target: 'Deployment/s' }, containerConcurrency: 0, timeoutSeconds: 300 }), fakeCluster({ t0: T0, replicas: 1, ready: 1 }).port, {});
    e.restore(snap);
    assert.deepEqual(e.snapshot().state, d.snapshot().state);
    e.close();
  } finally { d.close(); }
});

test('autoscaler: config-autoscaler overrides re-resolve the policy', () => {
  const kpa = makeKpaPolicy({ name: 's', target: 'Deployment/s' });
  const f = fakeCluster({ t0: T0, replicas: 1 });
  const d = createAutoscaler(spec({ kpa, revision: { name: 's', target: 'Deployment/s' }, containerConcurrency: 0, timeoutSeconds: 300 }), f.port, { syncPeriodMs: 15_000, config: { 'stable-window': '10s', 'container-concurrency-target-percentage': '50' } });
  try {
    assert.match(d.status().metricSpecs[0]!.name, /stable 10s, panic 1s/);
    assert.equal(d.status().metricSpecs[0]!.target, '50 per pod');
  } finally { d.close(); }
});

test('loadBundle: a Knative Service becomes Deployment + Service + kpa autoscaler; HPA class → hpa; model → clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-kpa-'));
  try {
    const f = join(dir, 'a.yaml');
    writeFileSync(f, `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: hello}
spec:
  template:
    metadata:
      annotations: {autoscaling.knative.dev/min-scale: "2"}
    spec:
      containerConcurrency: 3
      containers: [{command: [node, server.js], ports: [{containerPort: 9000}]}]
---
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: cpu-model
  annotations: {autoscaling.knative.dev/class: hpa.autoscaling.knative.dev}
spec:
  predictor:
    scaleMetric: cpu
    scaleTarget: 50
    maxReplicas: 3
    containers: [{name: kserve-container, command: [python, serve.py]}]
`);
    const b = loadBundle([f]);
    assert.deepEqual(b.deployments.map((d) => d.name).sort(), ['cpu-model-predictor', 'hello']);
    const hello = b.deployments.find((d) => d.name === 'hello')!;
    assert.equal(hello.containerConcurrency, 3);
    assert.equal(hello.replicas, 1);
    assert.equal(hello.container.readinessProbe?.tcpSocket?.port, 9000);
    assert.deepEqual(b.services.map((s) => [s.name, s.port]).sort(), [['cpu-model', 8080], ['hello', 9000]]);
    const kinds = Object.fromEntries(b.autoscalers.map((a) => [a.name, [a.kind, a.target]]));
    assert.deepEqual(kinds, { hello: ['kpa', 'hello'], 'cpu-model': ['hpa', 'cpu-model-predictor'] });
    assert.equal((b.autoscalers.find((a) => a.kind === 'kpa')!.policy as KpaItemPolicy).kpa.minScale, 2);

    const g = join(dir, 'b.yaml');
    writeFileSync(g, `apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: sk}
spec:
  predictor:
    model: {modelFormat: {name: sklearn}, storageUri: "gs://x/y"}
`);
    assert.throws(() => loadBundle([g]), /b\.yaml:1:1: InferenceService sk: spec\.predictor\.model .*not run locally/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
