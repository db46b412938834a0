// Pure parts of `tide.dev/policy: predictive` on a cluster (src/runtime/kubernetes/predictive.ts):
// which HPAs run it and with what policy, the scale selector as PromQL matchers, the status written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { policyOf } from '../../../src/runtime/kubernetes/hpa-policy.ts';
import { predictiveSpecFor, predictiveStatus, selectorFromString } from '../../../src/runtime/kubernetes/predictive.ts';
import { decidePredictive, emptyPredictiveState, type PredictivePolicy } from '../../../src/policies/predictive.ts';
import { labelMatchers } from '../../../src/sources/metric-mapping.ts';

const hpa = (annotations: Record<string, string>) => ({
  metadata: { name: 'chat', namespace: 'ns', uid: 'u', generation: 2, annotations },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'chat' },
    minReplicas: 2, maxReplicas: 9,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
  },
  status: { currentReplicas: 2, desiredReplicas: 2 },
}) as any;

function specOf(annotations: Record<string, string>) {
  const h = hpa(annotations);
  const pr = policyOf(h);
  assert.ok(pr.ok);
  return predictiveSpecFor(h, pr.policy, 'ns');
}

test('only HPAs annotated tide.dev/policy: predictive run the policy, with the HPA bounds and the tide.dev knobs', () => {
  assert.equal(specOf({}), undefined);
  assert.equal(specOf({ 'tide.dev/policy': 'hpa' }), undefined);
  const s = specOf({ 'tide.dev/policy': 'predictive', 'tide.dev/cold-start': '1s', 'tide.dev/slots-per-replica': '2' });
  assert.ok(s && s.ok);
  assert.equal(s.spec.kind, 'tide');
  const p = s.spec.policy as PredictivePolicy;
  assert.equal(p.minReplicas, 2);
  assert.equal(p.maxReplicas, 9);
  assert.equal(p.slotsPerReplica, 2);
  assert.equal(p.coldStartMs, 1000);
  assert.equal(p.target, 'Deployment/chat');
  assert.deepEqual(s.spec.target, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'chat', namespace: 'ns' });
  // a knob change (annotations do not bump the generation) gives a new key; the mode does not
  const s2 = specOf({ 'tide.dev/policy': 'predictive', 'tide.dev/cold-start': '2s', 'tide.dev/slots-per-replica': '2' });
  const s3 = specOf({ 'tide.dev/policy': 'predictive', 'tide.dev/cold-start': '1s', 'tide.dev/slots-per-replica': '2', 'tide.dev/mode': 'active' });
  assert.ok(s2?.ok && s3?.ok);
  assert.notEqual(s2.key, s.key);
  assert.equal(s3.key, s.key);
  const bad = specOf({ 'tide.dev/policy': 'predictive', 'tide.dev/slots-per-replica': 'two' });
  assert.ok(bad && !bad.ok);
  assert.match(bad.problem, /tide\.dev\/slots-per-replica: "two" must be a positive integer/);
});

test('the scale selector as PromQL label matchers', () => {
  assert.equal(labelMatchers(selectorFromString('app=chat')), 'app="chat"');
  assert.equal(labelMatchers(selectorFromString('app=chat,tier in (a,b),!legacy,env!=dev')), 'app="chat",tier=~"a|b",legacy="",env!~"dev"');
});

test('status after a predictive decision: upstream reasons, no currentMetrics, transition times kept', () => {
  const policy = { ...specOf({ 'tide.dev/policy': 'predictive', 'tide.dev/cold-start': '1s', 'tide.dev/slots-per-replica': '2', 'tide.dev/target-utilization': '80%', 'tide.dev/season': 'none' })!, } as any;
  const p = policy.spec.policy as PredictivePolicy;
  const t0 = Date.parse('2026-12-01T10:00:00Z');
  const samples = Array.from({ length: 30 }, (_, i) => ({ t: t0 - 30_000 + i * 1000, arrivals: 30, busyMs: 6000, queuedMs: 0 }));
  const { record } = decidePredictive(p, { now: t0, currentReplicas: 2, readyReplicas: 2, samples, queued: 0, inFlight: 6 }, emptyPredictiveState());
  assert.equal(record.desiredReplicas, 4);
  const h = hpa({});
  const st = predictiveStatus(h, record, true);
  assert.equal(st.currentReplicas, 2);
  assert.equal(st.desiredReplicas, 4);
  assert.deepEqual(st.currentMetrics, []);
  assert.equal(st.observedGeneration, 2);
  assert.equal(new Date(st.lastScaleTime as unknown as string).getTime(), t0);
  const by = Object.fromEntries(st.conditions!.map((c) => [c.type, c]));
  assert.equal(by.AbleToScale.reason, 'SucceededRescale');
  assert.equal(by.ScalingActive.reason, 'ValidMetricFound');
  assert.match(by.ScalingActive.message!, /^the HPA was able to successfully calculate a replica count from tide\/predicted-concurrency \(tide\.dev\/policy: predictive\): scaled 2→4: /);
  assert.equal(by.ScalingLimited.reason, 'DesiredWithinRange');
  // the next status keeps lastTransitionTime of unchanged condition statuses
  const later = predictiveStatus({ ...h, status: st }, { ...record, time: new Date(t0 + 60_000).toISOString(), now: t0 + 60_000, currentReplicas: 4, rescale: false }, false);
  const by2 = Object.fromEntries(later.conditions!.map((c) => [c.type, c]));
  assert.equal(by2.AbleToScale.reason, 'ReadyForNewScale');
  assert.equal(new Date(by2.ScalingActive.lastTransitionTime as unknown as string).getTime(), t0);
  assert.equal(new Date(later.lastScaleTime as unknown as string).getTime(), t0);
});
