// Pure parts of the Kubernetes shell: selector strings, live HPA -> policy, decision -> HPA status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector, selectorMatchesLabels } from '../../../src/runtime/kubernetes/client.ts';
import { policyOf } from '../../../src/runtime/kubernetes/hpa-policy.ts';
import { podInfoOf } from '../../../src/runtime/kubernetes/observe.ts';
import { currentMetricsOf, setCondition, statusFromRecord } from '../../../src/runtime/kubernetes/status.ts';
import { decideHpa, emptyHpaState } from '../../../src/deciders/hpa/decide.ts';

test('string selectors as /scale prints them', () => {
  const s = parseSelector('app=x,tier in (a, b),!legacy,env!=dev,track');
  assert.equal(s.length, 5);
  assert.ok(selectorMatchesLabels(s, { app: 'x', tier: 'b', track: '1' }));
  assert.ok(!selectorMatchesLabels(s, { app: 'x', tier: 'c', track: '1' }));
  assert.ok(!selectorMatchesLabels(s, { app: 'x', tier: 'a', track: '1', legacy: 'y' }));
  assert.ok(!selectorMatchesLabels(s, { app: 'x', tier: 'a', track: '1', env: 'dev' }));
  assert.ok(!selectorMatchesLabels(s, { app: 'x', tier: 'a' }));
  assert.throws(() => parseSelector('app=x;y'));
});

const v2 = {
  metadata: { name: 'web', namespace: 'ns', uid: 'u', generation: 3, annotations: { 'tide.dev/mode': 'active' } },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 1, maxReplicas: 10,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
  },
  status: { currentReplicas: 2, desiredReplicas: 2 },
};

test('a live HPA becomes the decider policy through the manifest dialect', () => {
  const r = policyOf(v2 as any);
  assert.ok(r.ok);
  assert.equal(r.policy.maxReplicas, 10);
  assert.equal(r.policy.behavior, undefined, 'no behavior: legacy path, as upstream');
  const bad = policyOf({ ...v2, spec: { ...v2.spec, minReplicas: 5, maxReplicas: 2 } } as any);
  assert.ok(!bad.ok);
  assert.match(bad.problems.join(), /spec\.maxReplicas: must be greater than or equal to `minReplicas`/);
});

test('pods from the API (Dates or strings) become PodInfo with milli requests', () => {
  const p = podInfoOf({
    metadata: { name: 'a', labels: { app: 'x' } },
    spec: { containers: [{ name: 'c', resources: { requests: { cpu: '200m', memory: '1Gi' } } }] },
    status: { phase: 'Running', startTime: '2026-01-01T00:00:00Z' as any, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date('2026-01-01T00:00:05Z') }] },
  } as any);
  assert.equal(p.containers[0].requests.cpu, 200);
  assert.equal(p.containers[0].requests.memory, 1024 ** 3 * 1000);
  assert.equal(p.startTime, Date.parse('2026-01-01T00:00:00Z'));
  assert.equal(p.ready?.lastTransitionTime, Date.parse('2026-01-01T00:00:05Z'));
});

/** The v2 fixture decided on two Running, Ready pods (100m CPU requested) with these CPU samples (milli), at `now`. */
function decideOnTwoPods(now: number, a: number, b: number) {
  const r = policyOf(v2 as any);
  assert.ok(r.ok);
  const pod = (n: string) => ({ name: n, phase: 'Running' as const, ready: { status: 'True' as const, lastTransitionTime: now - 600_000 }, startTime: now - 600_000, containers: [{ name: 'c', requests: { cpu: 100 } }] });
  const obs = {
    now,
    target: { specReplicas: 2, statusReplicas: 2, selector: 'app=web' },
    pods: [pod('a'), pod('b')],
    metrics: [{ kind: 'pods' as const, samples: [{ pod: 'a', value: a, timestamp: now - 5000, windowSeconds: 15 }, { pod: 'b', value: b, timestamp: now - 5000, windowSeconds: 15 }] }],
  };
  return decideHpa({ ...r.policy, namespace: 'ns' }, obs, emptyHpaState(), {});
}

test('status as kube-controller-manager writes it', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  const { record } = decideOnTwoPods(now, 90, 90);
  assert.equal(record.desiredReplicas, 4);
  const cm = currentMetricsOf(record);
  assert.deepEqual(cm, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90, averageValue: '90m' } } }]);
  const st = statusFromRecord(v2 as any, record, true);
  assert.equal(st.currentReplicas, 2);
  assert.equal(st.desiredReplicas, 4);
  assert.equal(st.observedGeneration, 3);
  assert.equal((st.lastScaleTime as Date).getTime(), now);
  assert.deepEqual(st.conditions!.map((c) => [c.type, c.status, c.reason]), [['AbleToScale', 'True', 'SucceededRescale'], ['ScalingActive', 'True', 'ValidMetricFound'], ['ScalingLimited', 'False', 'DesiredWithinRange'], ['ScaledToZero', 'False', 'NotScaledToZero']]); // v1.37 (HPAScaleToZero) writes ScaledToZero on every rescale
  const again = setCondition(st, { type: 'AbleToScale', status: 'True', reason: 'X', message: 'm' }, new Date(now + 1000));
  assert.equal((again.conditions![0].lastTransitionTime as Date).getTime(), (st.conditions![0].lastTransitionTime as Date).getTime(), 'same status keeps the transition time');
});

test("currentMetrics' averageValue is upstream's rawProposal: the int64 average over the counted pods", () => {
  // 181m over 2 pods: upstream writes 90m (int64 division), not 91m (rounded)
  const { record } = decideOnTwoPods(Date.parse('2026-01-01T00:10:00Z'), 90, 91);
  assert.deepEqual(currentMetricsOf(record), [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90, averageValue: '90m' } } }]);
});

test('policyOf parses each version of an HPA object once', () => {
  const obj = structuredClone(v2) as any;
  const a = policyOf(obj);
  assert.equal(policyOf(obj), a, 'the same object: the cached result');
  const edited = structuredClone(obj);
  edited.spec.maxReplicas = 7;
  const b = policyOf(edited);
  assert.notEqual(b, a);
  assert.ok(b.ok && b.policy.maxReplicas === 7);
});
