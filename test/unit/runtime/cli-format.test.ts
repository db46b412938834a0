import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeHpa, eventRows } from '../../../src/cli/commands/describe.ts';
import { HPA_HEADER, hpaRows, podRows, restartsCell } from '../../../src/cli/commands/get.ts';
import { table } from '../../../src/runtime/local/format.ts';
import type { AutoscalerStatus } from '../../../src/runtime/local/drivers/types.ts';
import type { DecisionRecord } from '../../../src/core/decision.ts';

const NOW = 1_764_000_000_000;
const status: AutoscalerStatus = {
  kind: 'hpa', name: 'app-fastapi', reference: 'Deployment/app-fastapi', targets: '23%/50%', minReplicas: 1, maxReplicas: 10,
  currentReplicas: 2, desiredReplicas: 2, created: NOW - 185_000, metrics: [{ metric: 'cpu resource utilization (percentage of request)', current: '23%', target: '50%', proposedReplicas: 1 }],
  conditions: [{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' }],
  metricSpecs: [{ name: 'resource cpu on pods  (as a percentage of request)', target: '50%' }], dryRun: false,
};

test('get hpa prints the seed\'s columns', () => {
  const out = table(HPA_HEADER, hpaRows([status], NOW));
  assert.equal(out, [
    'NAME          REFERENCE                TARGETS   MINPODS   MAXPODS   REPLICAS   AGE',
    'app-fastapi   Deployment/app-fastapi   23%/50%   1         10        2          3m5s',
  ].join('\n'));
  assert.match(out.split('\n')[1], /^app-fastapi\s+Deployment\/app-fastapi\s+23%\/50%\s+1\s+10\s+2\s+3m5s$/);
});

test('get pods columns and RESTARTS "N (age ago)"', () => {
  assert.equal(restartsCell({ restartCount: 0 }, NOW), '0');
  assert.equal(restartsCell({ restartCount: 3, lastRestart: NOW - 12_000 }, NOW), '3 (12s ago)');
  const rows = podRows([{ name: 'p', ready: false, status: 'CrashLoopBackOff', restartCount: 2, lastRestart: NOW - 5000, created: NOW - 60_000 } as never], NOW);
  assert.deepEqual(rows, [['p', '0/1', 'CrashLoopBackOff', '2 (5s ago)', '60s']]);
});

test('describe hpa: kubectl sections, the kubectl metric name, and the last decision explained', () => {
  const last = { now: NOW - 10_000, currentReplicas: 2, desiredReplicas: 2, rescale: false, drivingMetric: 0, proposals: status.metrics, limitedBy: ['stabilization'], explanation: 'kept 2 replicas: held by the stabilization window' } as unknown as DecisionRecord;
  const out = describeHpa({ ...status, lastDecision: last, events: [
    { time: NOW - 60_000, type: 'Normal', reason: 'SuccessfulRescale', object: 'horizontalpodautoscaler/app-fastapi', message: 'New size: 2; reason: cpu resource utilization (percentage of request) above target' },
  ], decisions: [] }, NOW);
  assert.match(out, /^Name:\s+app-fastapi$/m);
  assert.match(out, /^Reference:\s+Deployment\/app-fastapi$/m);
  assert.match(out, /^ {2}resource cpu on pods {2}\(as a percentage of request\):\s+23% \/ 50%$/m);
  assert.match(out, /^Deployment pods:\s+2 current \/ 2 desired$/m);
  assert.match(out, /^ {2}AbleToScale\s+True\s+ReadyForNewScale\s+recommended size matches current size$/m);
  assert.match(out, /Driving metric:\s+cpu resource utilization \(percentage of request\): 23% \/ 50% -> 1 replicas/);
  assert.match(out, /Limited by:\s+stabilization/);
  assert.match(out, /Normal\s+SuccessfulRescale\s+60s\s+horizontal-pod-autoscaler\s+New size: 2/);
});

test('repeated events are grouped with a count', () => {
  const e = (t: number) => ({ time: NOW - t, type: 'Warning' as const, reason: 'Unhealthy', object: 'pod/p', message: 'Readiness probe failed' });
  assert.deepEqual(eventRows([e(30_000), e(20_000), e(10_000)], 'tide', NOW), [['Warning', 'Unhealthy', '10s (x3 over 20s)', 'tide', 'Readiness probe failed']]);
});
