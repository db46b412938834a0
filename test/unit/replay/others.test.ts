import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideKeda, emptyKedaState } from '../../../src/deciders/keda/decide.ts';
import type { KedaPolicy, KedaState } from '../../../src/deciders/keda/types.ts';
import type { DecisionRecord } from '../../../src/core/decision.ts';
import { replayRecords } from '../../../src/replay/run.ts';

test('KEDA records replay through the registry; an edited one is reported', () => {
  const policy: KedaPolicy = {
    name: 'worker', namespace: 'default', scaleTargetRef: { kind: 'Deployment', name: 'worker' },
    pollingIntervalSeconds: 30, cooldownPeriodSeconds: 300, initialCooldownPeriodSeconds: 0,
    minReplicaCount: 0, maxReplicaCount: 20,
    triggers: [{ type: 'redis', metricType: 'AverageValue', metadata: { listName: 'jobs' }, target: 5, activationTarget: 0, metricName: 's0-redis-jobs' }],
    annotations: {},
  } as KedaPolicy;
  let state: KedaState = emptyKedaState(0);
  let replicas = 0;
  const records: DecisionRecord[] = [];
  for (const [t, q] of [[0, 0], [30, 12], [45, 40], [60, 3], [400, 0]] as const) {
    const now = t * 1000;
    const pods = Array.from({ length: replicas }, (_, i) => ({ name: `worker-${i}`, phase: 'Running' as const, ready: { status: 'True' as const, lastTransitionTime: 0 }, startTime: 0, containers: [{ name: 'main', requests: { cpu: 100 } }] }));
    const out = decideKeda(policy, { now, target: { specReplicas: replicas, statusReplicas: replicas }, pods, triggers: [{ kind: 'value', value: q, timestamp: now }] }, state);
    records.push(JSON.parse(JSON.stringify(out.record)));
    state = out.state;
    replicas = out.record.desiredReplicas;
  }
  assert.ok(records.some((r) => r.desiredReplicas > 1), 'the scenario scales');
  assert.deepEqual(replayRecords(records).mismatches, []);
  records[2].explanation = 'edited';
  assert.deepEqual(replayRecords(records).mismatches.map((m) => [m.index, m.fields]), [[2, ['explanation']]]);
});

test('records of an unknown decider are refused with the supported list', () => {
  assert.throws(() => replayRecords([{ decider: 'vpa', inputs: {}, desiredReplicas: 1 } as unknown as DecisionRecord]), /no replay for decider "vpa" \(supported: hpa, kpa, keda, tide\)/);
});
