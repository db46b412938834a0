// The HPA autoscaler's metric plumbing at its edges: no metrics = cpu at 80 % (upstream's default),
// every metric API may be missing (unavailable, never a crash) or present (used).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHpaAutoscaler, observeHpaMetric } from '../../../src/autoscalers/hpa.ts';
import type { AutoscalerSpec } from '../../../src/autoscalers/types.ts';
import type { HpaPolicy, MetricSpec } from '../../../src/deciders/hpa/types.ts';
import { fakePort, NOW } from './helpers.ts';

const base: HpaPolicy = { name: 'web', scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 10, metrics: [] };
const spec = (policy: HpaPolicy): AutoscalerSpec => ({ kind: 'hpa', name: policy.name, target: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, policy });

test('no metrics in the spec: cpu at 80 % of request, as upstream', () => {
  const port = fakePort({ resource: () => ({ kind: 'pods', samples: ['web-a', 'web-b'].map((p) => ({ pod: p, value: 121, timestamp: NOW - 1000, windowSeconds: 15 })) }) });
  const a = createHpaAutoscaler(spec(base), port, {});
  assert.equal(a.status().targets, '<none>', 'kubectl shows the spec, which names no metric');
  const r = a.sync(NOW) as { desiredReplicas: number } | null;
  // 121 m of 100 m requested = 121 % vs 80 % → ceil(2 × 1.5125) = 4 (a target of 81 % would give 3)
  assert.equal(r!.desiredReplicas, 4);
});

test('a poke syncs at once (a resync hint): the decision is made and written without waiting for the period', () => {
  const port = fakePort({ resource: () => ({ kind: 'pods', samples: ['web-a', 'web-b'].map((p) => ({ pod: p, value: 160, timestamp: NOW - 1000, windowSeconds: 15 })) }) });
  const a = createHpaAutoscaler(spec(base), port, {});
  a.poke(NOW);
  assert.equal(port.records.length, 1);
  assert.deepEqual(port.scaled, [4]);
});

test('each metric type goes to its API when present, and is unavailable when the port lacks it', () => {
  const pods: MetricSpec = { type: 'Pods', pods: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: 1 } } };
  const object: MetricSpec = { type: 'Object', object: { describedObject: { apiVersion: 'v1', kind: 'Service', name: 's' }, metric: { name: 'rps' }, target: { type: 'Value', value: 1 } } };
  const external: MetricSpec = { type: 'External', external: { metric: { name: 'x' }, target: { type: 'Value', value: 1 } } };
  const r = { kind: 'hpa', name: 'web', target: base.scaleTargetRef } as never;
  const port = fakePort({
    custom: () => ({ kind: 'pods', samples: [] }),
    object: () => ({ kind: 'value', value: 7, timestamp: NOW }) as never,
    external: () => ({ kind: 'values', values: [3], timestamp: NOW }) as never,
  });
  assert.equal((observeHpaMetric(port, r, pods) as { kind: string }).kind, 'pods');
  assert.equal((observeHpaMetric(port, r, object) as { kind: string }).kind, 'value');
  assert.equal((observeHpaMetric(port, r, external) as { kind: string }).kind, 'values');
  const bare = fakePort();
  for (const k of ['podMetrics', 'objectMetric', 'externalMetric'] as const) delete (bare as unknown as Record<string, unknown>)[k];
  for (const [m, api] of [[pods, 'custom metrics API'], [object, 'custom metrics API'], [external, 'external metrics API']] as const) {
    const o = observeHpaMetric(bare, r, m) as { kind: string; message: string };
    assert.equal(o.kind, 'error');
    assert.match(o.message, new RegExp(`${api} is not available`));
  }
});
