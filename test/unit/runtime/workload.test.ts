import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDuration, quantityToMilli } from '../../../src/runtime/local/workload.ts';
import { loadBundle } from '../../../src/runtime/local/bundle.ts';
import { humanDuration, table } from '../../../src/runtime/local/format.ts';
import { parseShown } from '../../../src/runtime/local/metrics.ts';
import { probeTimeFor } from '../../../src/runtime/local/supervisor.ts';

test('quantities to milli-units and durations', () => {
  assert.equal(quantityToMilli('200m'), 200);
  assert.equal(quantityToMilli('1'), 1000);
  assert.equal(quantityToMilli('0.5'), 500);
  assert.equal(quantityToMilli('128Mi'), 128 * 1024 * 1024 * 1000);
  assert.equal(quantityToMilli('1k'), 1_000_000);
  assert.throws(() => quantityToMilli('12 cores'), /invalid quantity/);
  assert.equal(parseDuration('15s'), 15_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('2'), 2000);
  assert.throws(() => parseDuration('soon'), /invalid duration/);
});

test('kubectl HumanDuration and tables', () => {
  assert.deepEqual([5_000, 119_000, 150_000, 600_000, 7_200_000, 3 * 3600_000 + 60_000, 50 * 3600_000, 3 * 86400_000 + 3600_000].map(humanDuration),
    ['5s', '119s', '2m30s', '10m', '120m', '3h1m', '2d2h', '3d1h']);
  assert.equal(table(['NAME', 'AGE'], [['a-long-name', '5s'], ['b', '10m']]), 'NAME          AGE\na-long-name   5s\nb             10m');
});

test('parseShown reads the values describe prints', () => {
  assert.equal(parseShown('23%'), 23);
  assert.equal(parseShown('120m'), 0.12);
  assert.equal(parseShown('2k'), 2000);
  assert.equal(parseShown('<unknown>'), null);
});

test('loadBundle links HPA → Deployment → Service through src/spec, with the local details', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-bundle-'));
  try {
    const file = join(dir, 'app.yaml');
    writeFileSync(file, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {tide.dev/probe-period: 250ms, autoscaling.knative.dev/container-concurrency: "4"}
    spec:
      terminationGracePeriodSeconds: 7
      containers:
      - name: srv
        image: ignored
        command: [python, -m, http.server]
        args: ["$(PORT)"]
        workingDir: sub
        env: [{name: MODEL, value: tiny}]
        ports: [{containerPort: 8000, name: http}]
        resources: {requests: {cpu: 250m, memory: 64Mi}}
        readinessProbe: {httpGet: {path: /health, port: http}, periodSeconds: 5}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 9000, targetPort: http}]
---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
  targetCPUUtilizationPercentage: 60
`);
    const b = loadBundle([file]);
    assert.equal(b.deployments.length, 1);
    const d = b.deployments[0];
    assert.deepEqual(d.container.command, ['python', '-m', 'http.server', '$(PORT)']);
    assert.equal(d.container.workingDir, join(dir, 'sub'));
    assert.equal(d.container.env.MODEL, 'tiny');
    assert.deepEqual(d.container.requests, { cpu: 250, memory: 64 * 1024 * 1024 * 1000 });
    assert.equal(d.replicas, 2);
    assert.equal(d.terminationGracePeriodSeconds, 7);
    assert.equal(d.containerConcurrency, 4);
    assert.equal(d.container.readinessProbe?.httpGet?.port, 'http');
    assert.deepEqual(probeTimeFor(d), { periodMs: 250 });
    assert.match(d.templateHash, /^[bcdfghjklmnpqrstvwxz]{10}$/);
    assert.deepEqual(b.services.map((s) => [s.name, s.port]), [['web', 9000]]);
    assert.equal(b.autoscalers.length, 1);
    assert.equal(b.autoscalers[0].kind, 'hpa');
    assert.equal(b.autoscalers[0].target, 'web');
    const policy = b.autoscalers[0].policy as { minReplicas: number; maxReplicas: number; metrics: unknown[] };
    assert.equal(policy.minReplicas, 1);
    assert.equal(policy.maxReplicas, 5);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
