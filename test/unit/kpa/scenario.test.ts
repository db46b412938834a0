import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario, replayRecords } from '../../../src/replay/run.ts';
import type { Scenario } from '../../../src/replay/scenario.ts';

const KSVC = `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: hello}
spec:
  template:
    metadata:
      annotations:
        autoscaling.knative.dev/target: "10"
        autoscaling.knative.dev/target-utilization-percentage: "100"
    spec:
      containers: [{command: [node, server.js]}]
`;

test('tide decide runs a KPA scenario from a Knative Service: steady, 3× step (panic), replay reproduces', () => {
  const scenario = {
    policy: KSVC,
    replicas: 2,
    steps: [
      { at: 0, metrics: [{ value: 20 }] },
      { at: 2, metrics: [{ value: 20 }] },
      { at: 4, metrics: [{ values: [60, 60] }] },
      { at: 6, metrics: [{ value: 60 }] },
    ],
  } as unknown as Scenario;
  const recs = runScenario(scenario);
  assert.equal(recs.length, 4);
  assert.ok(recs.every((r) => r.decider === 'kpa'));
  assert.equal(recs[0]!.desiredReplicas, 2);
  assert.equal(recs[1]!.desiredReplicas, 2);
  // two seconds at 60 in a 6 s panic window: (4×20 + 2×60) / 6 = 33.3 → ceil(3.33) = 4 ≥ 2 × 2 ready → panic
  const step = recs[2]! as any;
  assert.equal(step.details.panicking, true);
  assert.equal(step.desiredReplicas, 4);
  assert.ok(step.limitedBy.includes('panic'));
  assert.deepEqual(replayRecords(JSON.parse(JSON.stringify(recs))).mismatches, []);
});

test('tide decide KPA scenario from a KServe InferenceService with minReplicas 0: no traffic → zero', () => {
  const scenario = {
    policy: `apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: m}
spec:
  predictor:
    minReplicas: 0
    containers: [{command: [python, serve.py]}]
`,
    steps: Array.from({ length: 50 }, (_, i) => ({ at: i * 2, metrics: [{ value: i < 5 ? 3 : 0 }] })),
  } as unknown as Scenario;
  const recs = runScenario(scenario);
  const zero = recs.findIndex((r) => r.rescale && r.desiredReplicas === 0);
  assert.ok(zero > 0, 'reaches zero');
  // traffic stops at t=10 s; the stable window (60 s) must empty first, and the PA be active ≥ 60 s
  assert.ok(recs[zero]!.now - recs[0]!.now >= 70_000, `too early: ${(recs[zero]!.now - recs[0]!.now) / 1000}s`);
});
