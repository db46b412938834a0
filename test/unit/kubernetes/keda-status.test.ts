// The ScaledObject status KEDA's operator writes, from the KEDA decider's record (pure parts of
// src/runtime/kubernetes/keda/status.ts), and the redaction of secrets in messages (keda/auth.ts).
// The cluster side (informer, /scale, Secrets, Events) is test/k8s/keda.test.ts on a real plane.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideKeda, emptyKedaState } from '../../../src/deciders/keda/decide.ts';
import type { KedaPolicy } from '../../../src/deciders/keda/types.ts';
import { kedaConditions, scaledObjectStatus } from '../../../src/runtime/kubernetes/keda/status.ts';
import { redact } from '../../../src/runtime/kubernetes/keda/auth.ts';

const policy = (over: Partial<KedaPolicy> = {}): KedaPolicy => ({
  name: 'worker', namespace: 'ns',
  scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'worker' },
  pollingIntervalSeconds: 1, cooldownPeriodSeconds: 60, initialCooldownPeriodSeconds: 0, minReplicaCount: 0, maxReplicaCount: 10,
  triggers: [{ type: 'redis', metricType: 'AverageValue', metadata: { listName: 'jobs', listLength: '5' }, target: 5, activationTarget: 0, metricName: 's0-redis-jobs' }],
  annotations: {},
  ...over,
});
const scale = { group: 'apps', version: 'v1', plural: 'deployments', specReplicas: 0, statusReplicas: 0, selector: 'app=worker' };
const so = { metadata: { name: 'worker', namespace: 'ns' }, spec: { triggers: [{ type: 'redis', metadata: {}, authenticationRef: { name: 'redis-auth' } }] } };

test('activation 0 -> 1: KEDA conditions in KEDA\'s order, Fallback=False NoFallbackFound without a fallback, originalReplicaCount from the first scale', () => {
  const p = policy();
  const now = Date.parse('2026-12-02T00:00:00.500Z');
  const { record, state } = decideKeda(p, { now, target: { specReplicas: 0, statusReplicas: 0 }, pods: [], triggers: [{ kind: 'value', value: 20, timestamp: now }] }, emptyKedaState(now - 1000), now);
  assert.equal(record.desiredReplicas, 1);
  const st = scaledObjectStatus({ so, policy: p, scale, record, state, extraConditions: [{ type: 'Fallback', status: 'False', reason: 'NoFallbackFound', message: 'No fallbacks are active on this scaled object' }] });
  assert.equal(st.scaleTargetKind, 'apps/v1.Deployment');
  assert.deepEqual(st.scaleTargetGVKR, { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments' });
  assert.equal(st.originalReplicaCount, 0);
  assert.equal(st.lastActiveTime, '2026-12-02T00:00:00Z');
  assert.deepEqual(st.externalMetricNames, ['s0-redis-jobs']);
  assert.deepEqual(st.triggersActivity, { 's0-redis-jobs': { isActive: true } });
  assert.equal(st.triggersTypes, 'redis');
  assert.equal(st.authenticationsTypes, 'redis-auth');
  assert.equal(st.health, undefined, 'health only with a fallback');
  assert.deepEqual(st.conditions, [
    { type: 'Ready', status: 'True', reason: 'ScaledObjectReady', message: 'ScaledObject is defined correctly and is ready for scaling' },
    { type: 'Active', status: 'True', reason: 'ScalerActive', message: 'Scaling is performed because triggers are active' },
    { type: 'Fallback', status: 'False', reason: 'NoFallbackFound', message: 'No fallbacks are active on this scaled object' },
    { type: 'Paused', status: 'False' },
  ]);
  // a second status keeps the original replica count it already has
  const again = scaledObjectStatus({ so: { ...so, status: st }, policy: p, scale: { ...scale, specReplicas: 1 }, record, state });
  assert.equal(again.originalReplicaCount, 0);
});

test('fallback: health per External metric with its failure count; Fallback=True FallbackExists past failureThreshold', () => {
  const p = policy({ fallback: { failureThreshold: 1, replicas: 3, behavior: 'static' } });
  let state = emptyKedaState(0);
  let record;
  for (let i = 1; i <= 2; i++) {
    const now = i * 1000;
    ({ record, state } = decideKeda(p, { now, target: { specReplicas: 2, statusReplicas: 2 }, pods: [], triggers: [{ kind: 'error', message: 'redis 127.0.0.1:1: unreachable' }] }, state, now));
  }
  const st = scaledObjectStatus({ so, policy: p, scale: { ...scale, specReplicas: 2 }, record, state });
  assert.deepEqual(st.health, { 's0-redis-jobs': { numberOfFailures: 2, status: 'Failing' } });
  assert.deepEqual(st.conditions!.find((c) => c.type === 'Fallback'), { type: 'Fallback', status: 'True', reason: 'FallbackExists', message: 'At least one trigger is falling back on this scaled object' });
  assert.equal(record!.desiredReplicas, 3);
});

test('paused-replicas: Paused=True and pausedReplicaCount; conditions keep what the record does not decide', () => {
  const p = policy({ annotations: { pausedReplicas: 2 } });
  const { record, state } = decideKeda(p, { now: 1000, target: { specReplicas: 5, statusReplicas: 5 }, pods: [], triggers: [] }, emptyKedaState(0), 1000);
  const prev = [{ type: 'Fallback', status: 'False' as const, reason: 'NoFallbackFound', message: 'x' }];
  const st = scaledObjectStatus({ so: { ...so, status: { conditions: prev } }, policy: p, scale, record, state });
  assert.equal(st.pausedReplicaCount, 2);
  assert.deepEqual(st.conditions!.map((c) => [c.type, c.status, c.reason]), [['Ready', 'True', 'ScaledObjectReady'], ['Active', 'Unknown', undefined], ['Fallback', 'False', 'NoFallbackFound'], ['Paused', 'True', 'ScaledObjectPaused']]);
  assert.deepEqual(kedaConditions(undefined, undefined).map((c) => [c.type, c.status]), [['Ready', 'Unknown'], ['Active', 'Unknown'], ['Fallback', 'Unknown'], ['Paused', 'False']]);
});

test('redact: every secret value (longest first) becomes <redacted>; too-short values are left alone', () => {
  assert.equal(redact('WRONGPASS for s3cret-long and s3cret', ['s3cret', 's3cret-long']), 'WRONGPASS for <redacted> and <redacted>');
  assert.equal(redact('amqp://u:pw@host', ['pw']), 'amqp://u:pw@host');
  assert.equal(redact('no secrets here', []), 'no secrets here');
});
