// Two HPAs on one Deployment (the guide's app-fastapi v1 and v2 HPAs together): upstream sets
// ScalingActive=False, reason AmbiguousSelector, on both, and neither scales. Tide finds this when
// the manifests are loaded and each HPA's policy carries who else selects its pods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decideHpa, emptyHpaState } from '../../../src/deciders/hpa/decide.ts';
import type { HpaObservation, HpaPolicy } from '../../../src/deciders/hpa/types.ts';
import { loadBundle } from '../../../src/runtime/local/bundle.ts';

const SEED = fileURLToPath(new URL('../../../examples/manifests/seed/', import.meta.url));
const T0 = Date.UTC(2026, 0, 1, 12);
const MSG = 'pods by selector app=app-fastapi are controlled by more than one HPA (e.g. [default/app-fastapi default/app-fastapi-advanced])';

function hot(replicas: number): HpaObservation {
  const pods = Array.from({ length: replicas }, (_, i) => ({
    name: `app-fastapi-${i}`, phase: 'Running' as const, ready: { status: 'True' as const, lastTransitionTime: T0 - 600_000 },
    startTime: T0 - 700_000, labels: { app: 'app-fastapi' }, containers: [{ name: 'app-fastapi', requests: { cpu: 200, memory: 256_000 } }],
  }));
  const samples = pods.map((p) => ({ pod: p.name, value: 190, timestamp: T0 - 1000, windowSeconds: 15 }));
  return {
    now: T0,
    target: { specReplicas: replicas, statusReplicas: replicas, selector: 'app=app-fastapi' },
    pods,
    metrics: [{ kind: 'pods', samples }, { kind: 'pods', samples: samples.map((s) => ({ ...s, value: 200_000 })) }],
  };
}

test('both HPAs on app-fastapi get ScalingActive=False AmbiguousSelector with upstream\'s message, and neither scales', () => {
  const b = loadBundle(['app-fastapi-resources.yaml', 'app-fastapi-hpa.yaml', 'app-fastapi-hpa-v2.yaml'].map((f) => join(SEED, f)));
  const hpas = b.autoscalers.filter((a) => a.kind === 'hpa');
  assert.deepEqual(hpas.map((a) => a.name).sort(), ['app-fastapi', 'app-fastapi-advanced']);
  for (const a of hpas) {
    const policy = a.policy as HpaPolicy;
    assert.deepEqual(policy.selectingHpas, ['default/app-fastapi', 'default/app-fastapi-advanced']);
    const obs = hot(2);
    obs.metrics = obs.metrics.slice(0, policy.metrics.length);
    const { record } = decideHpa(policy, obs, emptyHpaState());
    assert.equal(record.desiredReplicas, 2, `${a.name} must not act`);
    const active = record.conditions.find((c) => c.type === 'ScalingActive');
    assert.deepEqual([active?.status, active?.reason, active?.message], ['False', 'AmbiguousSelector', MSG]);
    assert.deepEqual(record.events.map((e) => [e.type, e.reason, e.message]), [['Warning', 'AmbiguousSelector', MSG], ['Warning', 'FailedComputeMetricsReplicas', MSG]]);
  }
});

test('one HPA alone scales as before (the input is absent)', () => {
  const b = loadBundle(['app-fastapi-resources.yaml', 'app-fastapi-hpa.yaml'].map((f) => join(SEED, f)));
  const policy = b.autoscalers[0].policy as HpaPolicy;
  assert.equal(policy.selectingHpas, undefined);
  const obs = hot(2);
  obs.metrics = obs.metrics.slice(0, 1);
  const { record } = decideHpa(policy, obs, emptyHpaState());
  assert.ok(record.desiredReplicas > 2, `scales up: ${record.explanation}`);
  assert.equal(record.conditions.find((c) => c.type === 'ScalingActive')?.reason, 'ValidMetricFound');
});

test('an HPA and a KEDA ScaledObject on one Deployment: KEDA\'s generated HPA is ambiguous too', async () => {
  const { loadManifests } = await import('../../../src/manifests/index.ts');
  const { generatedHpaPolicy } = await import('../../../src/deciders/keda/decide.ts');
  const so = '---\napiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: q}\nspec:\n  scaleTargetRef: {name: app-fastapi}\n  minReplicaCount: 1\n  triggers: [{type: cpu, metricType: Utilization, metadata: {value: "50"}}]\n';
  const b = loadManifests([join(SEED, 'app-fastapi-resources.yaml'), join(SEED, 'app-fastapi-hpa.yaml'), { file: 'so.yaml', text: so }]);
  const keda = b.autoscalers.find((a) => a.kind === 'ScaledObject')!;
  const hpa = generatedHpaPolicy(keda.normalized as Parameters<typeof generatedHpaPolicy>[0]);
  assert.deepEqual(hpa.selectingHpas, ['default/app-fastapi', 'default/keda-hpa-q']);
  const obs = hot(2);
  obs.metrics = obs.metrics.slice(0, hpa.metrics.length);
  const { record } = decideHpa(hpa, obs, emptyHpaState());
  assert.equal(record.desiredReplicas, 2);
  assert.equal(record.conditions.find((c) => c.type === 'ScalingActive')?.reason, 'AmbiguousSelector');
});
