import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadManifests, loadManifestsLenient, formatDiagnostic } from '../../../src/manifests/index.ts';
import type { KedaPolicy } from '../../../src/deciders/keda/types.ts';

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: worker}
spec:
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers: [{name: main, image: worker, resources: {requests: {cpu: 100m}}}]
`;

const good = `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker-so
  annotations:
    autoscaling.keda.sh/paused-scale-in: "true"
spec:
  scaleTargetRef: {name: worker}
  cooldownPeriod: 30
  maxReplicaCount: 8
  fallback: {failureThreshold: 3, replicas: 4}
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown: {stabilizationWindowSeconds: 10}
  triggers:
    - type: redis
      metadata: {address: "127.0.0.1:6379", listName: jobs, listLength: "5", activationListLength: "2"}
    - type: prometheus
      name: rps
      metricType: Value
      metadata: {serverAddress: "http://127.0.0.1:9090", query: "sum(rate(http_requests_total[1m]))", threshold: "100"}
`;

test('a ScaledObject normalizes to KEDA defaults and per-trigger targets', () => {
  const b = loadManifests([{ file: 'so.yaml', text: good }, { file: 'd.yaml', text: deployment }]);
  const doc = b.find('ScaledObject', 'worker-so')!;
  assert.equal(doc.autoscaler?.decider ?? doc.dialect.decider, 'keda');
  const p = doc.normalized as KedaPolicy;
  assert.equal(p.pollingIntervalSeconds, 30);
  assert.equal(p.cooldownPeriodSeconds, 30);
  assert.equal(p.initialCooldownPeriodSeconds, 0);
  assert.equal(p.minReplicaCount, 0);
  assert.equal(p.maxReplicaCount, 8);
  assert.deepEqual(p.fallback, { failureThreshold: 3, replicas: 4, behavior: 'static' });
  assert.deepEqual(p.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'worker' });
  assert.equal(p.behavior?.scaleDown.stabilizationWindowSeconds, 10);
  assert.equal(p.behavior?.scaleUp.stabilizationWindowSeconds, 0); // defaulted direction
  assert.deepEqual(p.annotations, { pausedScaleIn: true });
  assert.deepEqual(p.triggers.map((t) => [t.metricName, t.metricType, t.target, t.activationTarget]), [
    ['s0-redis-jobs', 'AverageValue', 5, 2],
    ['s1-prometheus', 'Value', 100, 0],
  ]);
  assert.equal(b.scaleTargetOf(doc).name, 'worker');
});

function errorsOf(text: string, env: Record<string, string> = {}): string[] {
  const r = loadManifestsLenient([{ file: 'so.yaml', text }], { env });
  return r.errors.map(formatDiagnostic);
}

test('webhook rules: replica bounds, idle, triggers, fallback, modifiers, cpu-only', () => {
  const base = (spec: string, meta = '') => `apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: so${meta}\nspec:\n  scaleTargetRef: {name: worker}\n${spec}`;
  const redis = `  triggers:\n    - type: redis\n      metadata: {address: "127.0.0.1:6379", listName: q}\n`;
  let e = errorsOf(base(`  minReplicaCount: 5\n  maxReplicaCount: 3\n${redis}`));
  assert.ok(e.some((x) => /^so\.yaml:7:\d+: spec\.minReplicaCount: MinReplicaCount=5 must be less than MaxReplicaCount=3/.test(x)), e.join('\n'));
  e = errorsOf(base(`  minReplicaCount: 2\n  idleReplicaCount: 2\n${redis}`));
  assert.ok(e.some((x) => /spec\.idleReplicaCount: IdleReplicaCount=2 must be less than MinReplicaCount=2/.test(x)), e.join('\n'));
  e = errorsOf(base(`  triggers: []\n`));
  assert.ok(e.some((x) => /no triggers defined/.test(x)), e.join('\n'));
  e = errorsOf(base(`  triggers:\n    - type: kafka\n      metadata: {topic: t}\n`));
  assert.ok(e.some((x) => /spec\.triggers\[0\]\.type: trigger type "kafka" is not supported \(.*redis/.test(x)), e.join('\n'));
  e = errorsOf(base(`  triggers:\n    - type: redis\n      metadata: {address: "127.0.0.1:6379"}\n`));
  assert.ok(e.some((x) => /spec\.triggers\[0\]\.metadata: redis trigger: metadata\.listName is required/.test(x)), e.join('\n'));
  e = errorsOf(base(`  triggers:\n    - type: redis\n      metadata: {address: "127.0.0.1:6379", listName: q, listLength: 5}\n`));
  assert.ok(e.some((x) => /must be strings/.test(x)), e.join('\n'));
  e = errorsOf(base(`  triggers:\n    - type: redis\n      name: a\n      metadata: {address: "127.0.0.1:6379", listName: q}\n    - type: redis\n      name: a\n      metadata: {address: "127.0.0.1:6379", listName: r}\n`));
  assert.ok(e.some((x) => /triggerName "a" is defined multiple times/.test(x)), e.join('\n'));
  e = errorsOf(base(`  triggers:\n    - type: cpu\n      metricType: Utilization\n      metadata: {value: "50"}\n`));
  assert.ok(e.some((x) => /only cpu\/memory triggers AND minReplica is 0/.test(x)), e.join('\n'));
  e = errorsOf(base(`  minReplicaCount: 1\n  fallback: {failureThreshold: 3, replicas: 2}\n  triggers:\n    - type: cpu\n      metricType: Utilization\n      metadata: {value: "50"}\n`));
  assert.ok(e.some((x) => /has to have the `AverageValue` type for the fallback/.test(x)), e.join('\n'));
  e = errorsOf(base(`  advanced:\n    scalingModifiers: {formula: "a + nope", target: "2"}\n  triggers:\n    - type: redis\n      name: a\n      metadata: {address: "127.0.0.1:6379", listName: q}\n`));
  assert.ok(e.some((x) => /scalingModifiers\.formula: error validating formula in ScalingModifiers: unknown name nope/.test(x)), e.join('\n'));
  e = errorsOf(base(`  advanced:\n    scalingModifiers: {formula: "a"}\n  triggers:\n    - type: redis\n      name: a\n      metadata: {address: "127.0.0.1:6379", listName: q}\n`));
  assert.ok(e.some((x) => /formula is given but target is empty/.test(x)), e.join('\n'));
  e = errorsOf(base(`  advanced:\n    scalingModifiers: {formula: "a", target: "-1"}\n  triggers:\n    - type: redis\n      name: a\n      metadata: {address: "127.0.0.1:6379", listName: q}\n`));
  assert.ok(e.some((x) => /scalingModifiers\.target: error validating target/.test(x)), e.join('\n'));
  e = errorsOf(base(`  minReplicaCount: 1\n  triggers:\n    - type: memory\n      metadata: {value: "512Mi"}\n`));
  assert.ok(e.some((x) => /unknown metric type: , allowed values are 'Utilization' or 'AverageValue'/.test(x)), e.join('\n'));
  e = errorsOf(base(redis, '\n  annotations: {autoscaling.keda.sh/paused-replicas: "two"}'));
  assert.ok(e.some((x) => /paused-replicas: must be a non-negative integer/.test(x)), e.join('\n'));
  e = errorsOf(base(`  triggers:\n    - type: redis\n      metadata: {address: "127.0.0.1:6379", listName: q, password: hunter2}\n`));
  assert.ok(e.some((x) => /password must not be given inline; .* passwordFromEnv/.test(x)), e.join('\n'));
  e = errorsOf(base(`  triggers:\n    - type: cron\n      metadata: {timezone: Mars/Base, start: "0 8 * * *", end: "0 9 * * *", desiredReplicas: "2"}\n`));
  assert.ok(e.some((x) => /unknown time zone "Mars\/Base"/.test(x)), e.join('\n'));
  e = errorsOf(base(`  minReplicaCount: 0\n  pollingInterval: 0\n  cooldownPeriod: -1\n  minReplicaCont: 1\n${redis}`));
  assert.ok(e.some((x) => /spec\.pollingInterval: must be greater than or equal to 1/.test(x)), e.join('\n'));
  assert.ok(e.some((x) => /spec\.cooldownPeriod: must be greater than or equal to 0/.test(x)), e.join('\n'));
  assert.ok(e.some((x) => /minReplicaCont/.test(x)), e.join('\n'));
});

test('a missing …FromEnv variable is a warning at load time, not an error', () => {
  const text = `apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: so}\nspec:\n  scaleTargetRef: {name: worker}\n  triggers:\n    - type: rabbitmq\n      metadata: {hostFromEnv: RABBIT_URL_NOT_SET, queueName: q, value: "5"}\n`;
  const r = loadManifestsLenient([{ file: 'so.yaml', text }], { env: {} });
  assert.deepEqual(r.errors, []);
  assert.ok(r.bundle.warnings.some((w) => /RABBIT_URL_NOT_SET/.test(w.message)));
});

test("scalingModifiers: KEDA's documented predicate formula loads; findLast is refused with its reason, at the formula's line", () => {
  const so = (formula: string) => `apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: so\nspec:\n  scaleTargetRef: {name: worker}\n  advanced:\n    scalingModifiers:\n      formula: ${JSON.stringify(formula)}\n      target: "2"\n  triggers:\n` +
    ['trig_one', 'trig_two', 'trig_three'].map((n) => `    - type: redis\n      name: ${n}\n      metadata: {address: "127.0.0.1:6379", listName: ${n}}\n`).join('');
  assert.deepEqual(errorsOf(so('count([trig_one,trig_two,trig_three],{#>1}) > 1 ? 5 : 0')), []);
  assert.deepEqual(errorsOf(so('sum(map([trig_one, trig_two], # * 2)) + len(filter([trig_three], # > 0))')), []);
  const e = errorsOf(so('findLast([trig_one, trig_two], # > 1) ?? 0'));
  assert.ok(e.some((x) => /^so\.yaml:9:\d+: spec\.advanced\.scalingModifiers\.formula: .*findLast\(\) is not supported: .*stack/.test(x)), e.join('\n'));
});
