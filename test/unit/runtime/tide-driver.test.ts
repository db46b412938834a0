// The local runtime's driver for Tide's predictive policy, with a fake runtime and mocked timers:
// which manifests select it (the simulator's predictivePolicyForDoc), sizing from proxy snapshots
// and finished requests, dry-run, the activator poke, and records that replay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { autoscalerFactory, createAutoscaler } from '../../../src/autoscalers/factory.ts';
import type { AutoscalerSpec } from '../../../src/autoscalers/types.ts';
import { fakeCluster } from './fake-cluster.ts';
import { loadBundle } from '../../../src/runtime/local/bundle.ts';
import { replayRecords } from '../../../src/replay/run.ts';
import { defaultPredictivePolicy, type PredictivePolicy } from '../../../src/policies/predictive.ts';
import type { DecisionEvent, DecisionRecord } from '../../../src/core/decision.ts';
import type { ProxyStats } from '../../../src/runtime/local/proxy-types.ts';
import type { Replica } from '../../../src/runtime/local/supervisor.ts';

const T0 = 1_764_000_000_000;

function bundle(yaml: string): ReturnType<typeof loadBundle> {
  const dir = mkdtempSync(join(tmpdir(), 'tide-unit-'));
  try {
    const file = join(dir, 'app.yaml');
    writeFileSync(file, yaml);
    return loadBundle([file]);
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

const DEPLOY = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: x, command: [node, s.js], ports: [{containerPort: 8080}]}]
`;
const hpa = (annotations: string) => `---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
${annotations}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 9
`;

test('tide.dev/policy: predictive selects the tide driver, with the manifest bounds and annotations', () => {
  const b = bundle(DEPLOY + hpa('  annotations: {tide.dev/policy: predictive, tide.dev/cold-start: 4s, tide.dev/slots-per-replica: "3"}'));
  assert.equal(b.autoscalers.length, 1);
  const a = b.autoscalers[0];
  assert.equal(a.kind, 'tide');
  assert.equal(a.target, 'web');
  const p = a.policy as PredictivePolicy;
  assert.deepEqual([p.name, p.target, p.minReplicas, p.maxReplicas, p.slotsPerReplica, p.coldStartMs, p.prewarmHorizonMs, p.scaleDownWindowMs], ['web', 'Deployment/web', 2, 9, 3, 4000, 6000, 60_000]);
  assert.ok(autoscalerFactory('tide'));
  // without the annotation (or another policy name) the native decider keeps it
  assert.equal(bundle(DEPLOY + hpa('')).autoscalers[0].kind, 'hpa');
  assert.equal(bundle(DEPLOY + hpa('  annotations: {tide.dev/policy: reactive}')).autoscalers[0].kind, 'hpa');
});

test('a Knative Service with the annotation: tide driver, containerConcurrency as the slots', () => {
  const ksvc = `apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: kn
  annotations: {tide.dev/policy: predictive}
spec:
  template:
    metadata:
      annotations: {autoscaling.knative.dev/min-scale: "1", autoscaling.knative.dev/max-scale: "5"}
    spec:
      containerConcurrency: 4
      containers: [{image: x, command: [node, s.js]}]
`;
  const b = bundle(ksvc);
  const a = b.autoscalers.find((x) => x.name === 'kn')!;
  assert.equal(a.kind, 'tide');
  const p = a.policy as PredictivePolicy;
  assert.deepEqual([p.minReplicas, p.maxReplicas, p.slotsPerReplica, p.target], [1, 5, 4, `Deployment/${a.target}`]);
});

test('a bad tide.dev annotation is a file:line error', () => {
  assert.throws(() => bundle(DEPLOY + hpa('  annotations: {tide.dev/policy: predictive, tide.dev/slo-target: lots}')), /app\.yaml:\d+: tide\.dev\/slo-target: "lots" must be a percentage/);
});

function fakeRuntime(opts: { dryRun?: boolean; replicas?: number } = {}) {
  return Object.assign(fakeCluster({ t0: T0, replicas: opts.replicas ?? 1 }), { dryRun: !!opts.dryRun });
}

const spec = (p: PredictivePolicy): AutoscalerSpec => ({ kind: 'tide', name: 'web', target: { kind: 'Deployment', name: 'web' }, policy: p });

const policy = (p: Partial<PredictivePolicy> = {}) => defaultPredictivePolicy({ name: 'web', target: 'Deployment/web', minReplicas: 1, maxReplicas: 8, slotsPerReplica: 2, targetUtilization: 0.8, coldStartMs: 1000, scaleDownWindowMs: 5000, seasonMs: 0, ...p });

async function drive(t: import('node:test').TestContext, rt: ReturnType<typeof fakeRuntime>, p: PredictivePolicy, seconds: (i: number) => [number, number, number, number?, number?], n: number) {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const d = createAutoscaler(spec(p), rt.port, { syncPeriodMs: 2000, dryRun: rt.dryRun });
  for (let i = 1; i <= n; i++) {
    rt.second(...seconds(i));
    t.mock.timers.tick(1000); // the driver's 1 s proxy snapshot
    if (i % 2 === 0) await d.sync(rt.now);
  }
  return d;
}

test('sizes from proxy demand (30 req/s x 200 ms = 6 busy slots → ceil(6 / (2 x 0.8)) = 4), then scales down after the window; records replay', async (t) => {
  const rt = fakeRuntime();
  const d = await drive(t, rt, policy(), (i) => (i <= 20 ? [30, 200, 6] : [0, 200, 0]), 40);
  assert.equal(rt.scaled[0], 4);
  const atLoad = rt.records.filter((r) => r.now <= T0 + 20_000);
  assert.ok(atLoad.length > 0 && atLoad.every((r) => r.decider === 'tide' && r.desiredReplicas === 4), JSON.stringify(atLoad.map((r) => r.desiredReplicas)));
  assert.equal(Math.round((atLoad.at(-1)!.details as { serviceMs: number }).serviceMs), 200);
  // load stops at 20 s: back to min, not before the 5 s scale-down window
  assert.equal(rt.scaled.at(-1), 1, JSON.stringify(rt.records.map((r) => [r.now - T0, r.currentReplicas, r.desiredReplicas, (r.details as any).requiredNow])));
  const down = rt.records.find((r) => r.desiredReplicas === 1)!;
  assert.ok(down.now - (T0 + 20_000) >= 5000, `${down.now - T0}`);
  const s = d.status();
  assert.equal(s.kind, 'tide');
  assert.match(s.targets, /^[\d.]+\/1\.6 tide\/predicted-concurrency$/);
  assert.equal(s.desiredReplicas, 1);
  const { mismatches } = replayRecords(JSON.parse(JSON.stringify(rt.records)));
  assert.deepEqual(mismatches, []);
  d.close?.();
  assert.equal(rt.listeners.size, 0, 'close unsubscribes');
});

test('window budget under tide up: the proxy counts who missed the SLO only by waiting, and the scale-down window shrinks after an hour within budget, then grows back on misses', async (t) => {
  // a 1 s SLO against a 1 s cold start and 200 ms service: a cold start breaks the SLO, not reactive
  const p = policy({ sloLatencyMs: 1000, coldStartMs: 1000, scaleDownWindowMs: 60_000, spikeMemory: false });
  const rt = fakeRuntime();
  const windowAt = (from: number) => rt.records.filter((r) => r.now >= T0 + from * 1000).map((r) => (r.details as { windowMs?: number }).windowMs ?? 60_000);
  // seconds 1–10: 3 of 30 requests per second waited 900 ms (late: 1.1 s, their 200 ms service fits);
  // then 90 minutes on time; then 10 of 30 late per second
  const d = await drive(t, rt, p, (i) => (i <= 10 ? [30, 200, 6, 3, 900] : i <= 5400 ? [30, 200, 6] : [30, 200, 6, 10, 900]), 5600);
  const first = rt.records[0].inputs as { observation: { samples: { late?: number; lateSloMs?: number; arrivals: number }[] } };
  const early = first.observation.samples.filter((s) => s.arrivals > 0);
  assert.ok(early.length > 0 && early.every((s) => s.late === 3 && s.lateSloMs === 1000), JSON.stringify(early));
  // within the first hour (the ratio's memory) the window stays the configured one
  const warmUp = rt.records.filter((r) => r.now < T0 + 3_500_000);
  assert.ok(warmUp.length > 100 && warmUp.every((r) => (r.details as { windowMs?: number }).windowMs === undefined));
  // 30 minutes after the warm-up: shrunk by about e^-0.5, the explanation says why when it holds
  const shrunk = rt.records.filter((r) => r.now > T0 + 5_300_000 && r.now <= T0 + 5_400_000).map((r) => (r.details as { windowMs?: number }).windowMs);
  assert.ok(shrunk.length > 0 && shrunk.every((w) => w !== undefined && w > 30_000 && w < 40_000), JSON.stringify(shrunk));
  // late requests over the budget: back to the configured window within about two minutes
  assert.equal(windowAt(5560).at(-1), 60_000, JSON.stringify(windowAt(5400)));
  const { mismatches } = replayRecords(JSON.parse(JSON.stringify(rt.records)));
  assert.deepEqual(mismatches, []);
  d.close?.();
});

test('a changed record does not replay (verify catches it)', async (t) => {
  const rt = fakeRuntime();
  const d = await drive(t, rt, policy(), () => [30, 200, 6], 6);
  const recs = JSON.parse(JSON.stringify(rt.records)) as DecisionRecord[];
  recs[0].desiredReplicas += 1;
  assert.equal(replayRecords(recs).mismatches.length, 1);
  d.close?.();
});

test('dry run: decisions recorded, nothing scaled', async (t) => {
  const rt = fakeRuntime({ dryRun: true });
  const d = await drive(t, rt, policy(), () => [30, 200, 6], 10);
  assert.deepEqual(rt.scaled, []);
  assert.ok(rt.records.some((r) => r.desiredReplicas === 4 && r.currentReplicas === 1 && r.rescale));
  assert.equal(d.status().dryRun, true);
  d.close?.();
});

test('poke: a request with no replica scales 0 → max(1, min) at once; no-op when replicas exist', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const rt = fakeRuntime({ replicas: 0 });
  const d = createAutoscaler(spec(policy({ minReplicas: 0 })), rt.port, { syncPeriodMs: 2000 });
  assert.equal(d.pokeDelivery, 'inline');
  d.poke(rt.now);
  assert.deepEqual(rt.scaled, [1]);
  assert.equal(rt.events[0].reason, 'SuccessfulRescale');
  d.poke(rt.now);
  assert.deepEqual(rt.scaled, [1]);
  d.close?.();
});
