// The KEDA autoscaler over the port: one loop at the faster of pollingInterval and the HPA sync
// period, at zero replicas only KEDA's own polling (every pollingInterval), a poke polls at once,
// cpu/memory from the resource metrics API, scalers through the port, status and snapshot/restore.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKedaAutoscaler } from '../../../src/autoscalers/keda.ts';
import { createAutoscaler } from '../../../src/autoscalers/factory.ts';
import type { AutoscalerSpec } from '../../../src/autoscalers/types.ts';
import type { KedaPolicy } from '../../../src/deciders/keda/types.ts';
import type { KedaDecisionRecord } from '../../../src/deciders/keda/decide.ts';
import { fakePort, NOW } from './helpers.ts';
import { policy as kedaPolicy, trigger } from '../keda/helpers.ts';

const spec = (p: KedaPolicy, createdAt: number | undefined = NOW - 3_600_000): AutoscalerSpec => ({
  kind: 'keda', name: p.name, target: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, policy: p,
  ...(createdAt !== undefined ? { createdAt } : {}),
});
const value = (v: number) => () => ({ kind: 'value' as const, value: v, timestamp: NOW });

test('the loop runs at the faster of pollingInterval and the HPA sync period; the first sync waits one period', () => {
  const slow = createAutoscaler(spec(kedaPolicy({ pollingIntervalSeconds: 30 })), fakePort(), {});
  assert.equal(slow.syncPeriodMs, 15_000);
  assert.equal(slow.firstSyncDelayMs, 15_000);
  const fast = createKedaAutoscaler(spec(kedaPolicy({ pollingIntervalSeconds: 5 })), fakePort(), { syncPeriodMs: 15_000, firstSyncDelayMs: 1 });
  assert.equal(fast.syncPeriodMs, 5_000);
  assert.equal(fast.firstSyncDelayMs, 1);
  assert.equal(createKedaAutoscaler(spec(kedaPolicy({ pollingIntervalSeconds: 30 })), fakePort(), { syncPeriodMs: 10_000 }).syncPeriodMs, 10_000);
  assert.equal(fast.kind, 'keda');
  assert.equal(fast.pokeDelivery, 'resync-hint');
});

test('at zero replicas only every pollingInterval is polled; a poke polls at once', () => {
  const port = fakePort({ spec: 0, pods: [], scaler: value(0) });
  const a = createKedaAutoscaler(spec(kedaPolicy({ pollingIntervalSeconds: 30 })), port, {});
  const first = a.sync(NOW) as KedaDecisionRecord | null;
  assert.ok(first, 'the first sync polls');
  assert.equal(a.sync(NOW + 15_000), null, 'half a polling interval later: not polled');
  assert.equal(a.sync(NOW + 29_999), null);
  assert.ok(a.sync(NOW + 30_000), 'a full polling interval later: polled');
  assert.equal(port.records.length, 2);
  // a poke forgets the last poll: the next sync polls although the interval has not passed
  a.poke(NOW + 31_000);
  assert.equal(port.records.length, 3, 'poke syncs right away');
  // a trigger above activation activates 0 → 1
  port.scaler = value(50);
  a.poke(NOW + 32_000);
  assert.deepEqual(port.scaled, [1]);
});

test('with replicas, every sync runs (the generated HPA syncs too)', () => {
  const port = fakePort({ spec: 2, scaler: value(20) });
  const a = createKedaAutoscaler(spec(kedaPolicy({ pollingIntervalSeconds: 30 })), port, {});
  assert.ok(a.sync(NOW));
  assert.ok(a.sync(NOW + 1_000));
  assert.equal(port.records.length, 2);
  assert.deepEqual(port.scaled, [4], '20 / 5 per pod → 4');
});

test('triggers: cpu/memory read from the resource metrics API, others from the scaler; no scaler in this environment is an error', () => {
  const asked: string[] = [];
  const port = fakePort({
    spec: 2,
    resource: (_r, res) => { asked.push(res); return { kind: 'pods', samples: [] }; },
    scaler: (i) => { asked.push(`scaler ${i}`); return { kind: 'value', value: 1, timestamp: NOW }; },
  });
  const p = kedaPolicy({ triggers: [trigger({ type: 'cpu', metricType: 'Utilization', target: 50, metricName: 'cpu' }, 0), trigger({}, 1)] });
  createKedaAutoscaler(spec(p), port, {}).sync(NOW);
  assert.deepEqual(asked, ['cpu', 'scaler 1']);
  const none = fakePort({ spec: 2 });
  (none as { scalerMetric?: unknown }).scalerMetric = undefined;
  const r = createKedaAutoscaler(spec(kedaPolicy()), none, {}).sync(NOW) as KedaDecisionRecord;
  assert.match(r.details.triggers[0].error ?? '', /not available in this environment/);
  assert.equal(r.desiredReplicas, 2, 'an error: no scale-down');
});

test('status: reference, min/max, kubectl targets, lastScaleTime once scaled; metric is the driving ratio', () => {
  const port = fakePort({ spec: 2, scaler: value(20) });
  const a = createKedaAutoscaler(spec(kedaPolicy({ minReplicaCount: 1, maxReplicaCount: 7 })), port, {});
  const before = a.status();
  assert.equal(before.reference, 'Deployment/worker');
  assert.equal(before.minReplicas, 1);
  assert.equal(before.maxReplicas, 7);
  assert.equal(before.lastScaleTime, undefined);
  a.sync(NOW);
  const st = a.status();
  assert.equal(st.lastScaleTime, NOW);
  assert.equal(st.targets, '10/5 (avg)');
  assert.ok(a.metric());
  assert.equal(a.metric()!.value, 200, '10 per pod / target 5 = 200 %');
});

test('snapshot/restore carries the decider state and the last poll time', () => {
  const port = fakePort({ spec: 0, pods: [], scaler: value(0) });
  const a = createKedaAutoscaler(spec(kedaPolicy({ pollingIntervalSeconds: 30 })), port, {});
  a.sync(NOW);
  const snap = a.snapshot();
  assert.equal(snap.extra?.lastPoll, NOW);
  const b = createKedaAutoscaler(spec(kedaPolicy({ pollingIntervalSeconds: 30 })), port, {});
  b.restore(snap);
  assert.equal(b.sync(NOW + 10_000), null, 'restored: the interval counts from the old last poll');
  assert.ok(b.sync(NOW + 30_000));
  // a fresh one has no last poll
  const c = createKedaAutoscaler(spec(kedaPolicy()), port, {});
  assert.equal(c.snapshot().extra?.lastPoll, null);
  a.close();
});

test('controller knobs reach the decider; the decider state carries from one sync to the next and through restore', () => {
  const port = fakePort({ spec: 2, scaler: () => ({ kind: 'error' as const, message: 'down' }) });
  const p = kedaPolicy({ fallback: { failureThreshold: 5, replicas: 6, behavior: 'static' } });
  const a = createKedaAutoscaler(spec(p), port, { config: { tolerance: 0.5 } });
  const r1 = a.sync(NOW) as KedaDecisionRecord;
  assert.deepEqual(r1.inputs.config, { tolerance: 0.5 });
  const r2 = a.sync(NOW + 15_000) as KedaDecisionRecord;
  assert.equal(r2.details.triggers[0].failures, 2, 'failures accumulate across syncs');
  const none = createKedaAutoscaler(spec(p), port, {});
  assert.equal('config' in (none.sync(NOW) as KedaDecisionRecord).inputs, false);
  const b = createKedaAutoscaler(spec(p), port, {});
  b.restore(a.snapshot());
  assert.equal((b.sync(NOW + 30_000) as KedaDecisionRecord).details.triggers[0].failures, 3, 'restored state');
});
