import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadManifestsLenient, loadManifests } from '../../../src/manifests/load.ts';
import { formatDiagnostic } from '../../../src/manifests/diagnostics.ts';
import type { KnativeNormalized } from '../../../src/manifests/dialects/knative-workload.ts';
import { setKnativeClusterConfig } from '../../../src/manifests/dialects/knative-workload.ts';
import { kpaConfigFromMap, defaultKpaConfig } from '../../../src/deciders/kpa/config.ts';
import type { KpaPolicy } from '../../../src/deciders/kpa/types.ts';
import type { HpaPolicy } from '../../../src/deciders/hpa/types.ts';

function load(text: string) {
  const r = loadManifestsLenient({ file: 'm.yaml', text });
  return { ...r, messages: r.diagnostics.map(formatDiagnostic) };
}
function one(text: string): KnativeNormalized {
  const r = load(text);
  assert.deepEqual(r.errors.map(formatDiagnostic), []);
  return r.bundle.documents[0]!.normalized as KnativeNormalized;
}
const kpa = (n: KnativeNormalized) => { assert.equal(n.autoscaler.decider, 'kpa'); return n.autoscaler.policy as KpaPolicy; };

// The seed's InferenceService, as the user wrote it (web spacing fixed).
const SEED_ISVC = `apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: custom-model-autoscaling
spec:
  predictor:
    scaleTarget: 1
    scaleMetric: concurrency
    containers:
    - name: kserve-container
      image: ghcr.io/kyryl-opens-ml/app-kserve:latest
      imagePullPolicy: Always
      env:
      - name: WANDB_API_KEY
        valueFrom:
          secretKeyRef:
            name: wandb
            key: WANDB_API_KEY
`;

const SEED_ISVC_ANN = `apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: custom-model-autoscaling
  annotations:
    autoscaling.knative.dev/target: "10"
    autoscaling.knative.dev/metric: "concurrency"
    autoscaling.knative.dev/min-scale: "1"
    autoscaling.knative.dev/max-scale: "10"
    autoscaling.knative.dev/scale-down-delay: "30s"
spec:
  predictor:
    containers:
    - name: kserve-container
      image: ghcr.io/kyryl-opens-ml/app-kserve:latest
`;

const SEED_ISVC_ZERO = `apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: custom-model-scale-to-zero
  annotations:
    autoscaling.knative.dev/min-scale: "0"
    autoscaling.knative.dev/scale-to-zero-pod-retention-period: "5m"
spec:
  predictor:
    containers:
    - name: kserve-container
      image: ghcr.io/kyryl-opens-ml/app-kserve:latest
`;

test('seed InferenceService loads: scaleTarget 1 → target 0.7 per pod, min-scale 1 by KServe default', () => {
  const n = one(SEED_ISVC);
  const p = kpa(n);
  assert.equal(p.metric, 'concurrency');
  assert.ok(Math.abs(p.targetValue - 0.7) < 1e-9);
  assert.equal(p.totalValue, 1);
  assert.equal(p.minScale, 1);
  assert.equal(p.maxScale, 0);
  assert.equal(p.target, 'Deployment/custom-model-autoscaling-predictor');
  assert.equal(n.deployment.name, 'custom-model-autoscaling-predictor');
  assert.equal(n.service.name, 'custom-model-autoscaling');
  assert.equal(n.service.ports[0]!.port, 8080);
  assert.equal(n.deployment.containers[0]!.readinessProbe?.handler.type, 'tcpSocket');
  assert.equal(n.timeoutSeconds, 300);
});

test('seed annotations: target 10, max 10 from the ISVC annotation is dropped (KServe), delay 30s', () => {
  const r = load(SEED_ISVC_ANN);
  assert.deepEqual(r.errors, []);
  const p = kpa(r.bundle.documents[0]!.normalized);
  assert.ok(Math.abs(p.targetValue - 7) < 1e-9);
  assert.equal(p.scaleDownDelaySeconds, 30);
  assert.equal(p.minScale, 1);
  assert.equal(p.maxScale, 0, 'max-scale on ISVC metadata is not propagated; maxReplicas unset = unlimited');
  const w = r.messages.find((m) => m.includes('max-scale'));
  assert.ok(w && /warning: .*maxReplicas/.test(w), String(w));
  assert.match(w!, /^m\.yaml:9:5: /);
});

test('seed scale-to-zero ISVC: min-scale "0" annotation is overridden by minReplicas default 1 (with a warning)', () => {
  const r = load(SEED_ISVC_ZERO);
  assert.deepEqual(r.errors, []);
  const p = kpa(r.bundle.documents[0]!.normalized);
  assert.equal(p.minScale, 1);
  assert.equal(p.scaleToZeroPodRetentionPeriodSeconds, 300);
  assert.ok(r.messages.some((m) => /min-scale.*minReplicas/.test(m)));
  const zero = kpa(one(SEED_ISVC_ZERO.replace('  predictor:\n', '  predictor:\n    minReplicas: 0\n')));
  assert.equal(zero.minScale, 0);
});

test('KServe mapping: rps metric, maxReplicas, containerConcurrency caps the target, timeout', () => {
  const n = one(`apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: { name: m }
spec:
  predictor:
    minReplicas: 0
    maxReplicas: 5
    containerConcurrency: 4
    scaleTarget: 10
    timeout: 60
    containers: [{ name: c, command: [python, serve.py], ports: [{ containerPort: 9000 }] }]
`);
  const p = kpa(n);
  assert.equal(p.minScale, 0);
  assert.equal(p.maxScale, 5);
  assert.equal(p.totalValue, 4);
  assert.ok(Math.abs(p.targetValue - 2.8) < 1e-9);
  assert.equal(n.timeoutSeconds, 60);
  assert.equal(n.responseStartTimeoutSeconds, 60);
  assert.equal(n.service.ports[0]!.port, 9000);
  assert.equal(n.deployment.replicas, 1);
  const rps = kpa(one(`apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: { name: m }
spec:
  predictor:
    scaleMetric: rps
    containers: [{ command: [x] }]
`));
  assert.equal(rps.metric, 'rps');
  assert.ok(Math.abs(rps.targetValue - 140) < 1e-9);
});

test('KServe validation: cpu metric with KPA, rps target < 1, minReplicas > maxReplicas, bad name — all at once', () => {
  const r = load(`apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: { name: 9bad }
spec:
  predictor:
    minReplicas: 3
    maxReplicas: 2
    scaleMetric: cpu
    containers: [{ command: [x] }]
`);
  const m = r.errors.map(formatDiagnostic);
  assert.ok(m.some((x) => /^m\.yaml:3:19: metadata\.name: a InferenceService name/.test(x)), m.join('\n'));
  assert.ok(m.some((x) => /^m\.yaml:7:18: spec\.predictor\.maxReplicas: 'MinReplicas' cannot be greater than MaxReplicas/.test(x)), m.join('\n'));
  assert.ok(m.some((x) => /^m\.yaml:8:18: spec\.predictor\.scaleMetric: \[cpu\] is not a supported metric/.test(x)), m.join('\n'));
  assert.equal(m.filter((x) => x.includes('scaleMetric')).length, 1, 'not reported twice');
  const r2 = load(`apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: { name: m }
spec:
  predictor:
    scaleMetric: rps
    scaleTarget: 0
    containers: [{ command: [x] }]
`);
  assert.ok(r2.errors.map(formatDiagnostic).some((x) => /scaleTarget: the target for rps should be greater than 1/.test(x)));
});

test('KServe HPA class: cpu metric maps to an HPA Resource cpu Utilization target', () => {
  const n = one(`apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: m
  annotations: { autoscaling.knative.dev/class: hpa.autoscaling.knative.dev }
spec:
  predictor:
    minReplicas: 2
    maxReplicas: 6
    scaleMetric: cpu
    scaleTarget: 60
    containers: [{ command: [x] }]
`);
  assert.equal(n.autoscaler.decider, 'hpa');
  const h = n.autoscaler.policy as HpaPolicy;
  assert.equal(h.minReplicas, 2);
  assert.equal(h.maxReplicas, 6);
  assert.deepEqual(h.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
  assert.equal(h.behavior, undefined);
});

test('KServe Standard (raw) mode: HPA with v2 default behavior, cpu 80% default', () => {
  const n = one(`apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: m
  annotations: { serving.kserve.io/deploymentMode: RawDeployment }
spec:
  predictor:
    maxReplicas: 4
    containers: [{ command: [x] }]
`);
  const h = n.autoscaler.policy as HpaPolicy;
  assert.equal(n.autoscaler.decider, 'hpa');
  assert.equal(h.minReplicas, 1);
  assert.equal(h.maxReplicas, 4);
  assert.equal((h.metrics[0] as { resource: { target: { averageUtilization: number } } }).resource.target.averageUtilization, 80);
  assert.equal(h.behavior?.scaleDown.stabilizationWindowSeconds, 300);
});

test('predictor.model loads (autoscaling decides) but is marked not runnable locally', () => {
  const n = one(`apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: { name: sk }
spec:
  predictor:
    model:
      modelFormat: { name: sklearn }
      storageUri: gs://kfserving-examples/models/sklearn/1.0/model
`);
  assert.match(n.notRunnable ?? '', /predictor\.model.*not run locally/);
});

const KSVC = (ann: string, extra = '') => `apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: hello
spec:
  template:
    metadata:
      annotations:
${ann}
    spec:
      containerConcurrency: 10
      timeoutSeconds: 30
${extra}      containers:
        - image: ghcr.io/knative/helloworld-go:latest
          command: [node, server.js]
          ports: [{ containerPort: 8081 }]
`;

test('Knative Service: every annotation parsed, aliases accepted', () => {
  const n = one(KSVC(`        autoscaling.knative.dev/class: kpa.autoscaling.knative.dev
        autoscaling.knative.dev/metric: concurrency
        autoscaling.knative.dev/target: "50"
        autoscaling.knative.dev/target-utilization-percentage: "80"
        autoscaling.knative.dev/minScale: "0"
        autoscaling.knative.dev/max-scale: "20"
        autoscaling.knative.dev/initial-scale: "2"
        autoscaling.knative.dev/activation-scale: "2"
        autoscaling.knative.dev/scale-down-delay: "1m"
        autoscaling.knative.dev/window: "40s"
        autoscaling.knative.dev/panic-window-percentage: "20"
        autoscaling.knative.dev/panic-threshold-percentage: "150"
        autoscaling.knative.dev/scale-to-zero-pod-retention-period: "10s"
        autoscaling.knative.dev/target-burst-capacity: "-1"
        autoscaling.knative.dev/metric-aggregation-algorithm: weighted-exponential`));
  const p = kpa(n);
  assert.equal(p.totalValue, 10); // target 50 capped by containerConcurrency 10
  assert.ok(Math.abs(p.targetValue - 8) < 1e-9);
  assert.equal(p.minScale, 0);
  assert.equal(p.maxScale, 20);
  assert.equal(p.initialScale, 2);
  assert.equal(p.activationScale, 2);
  assert.equal(p.scaleDownDelaySeconds, 60);
  assert.equal(p.stableWindowSeconds, 40);
  assert.equal(p.panicWindowSeconds, 8);
  assert.equal(p.panicThreshold, 1.5);
  assert.equal(p.scaleToZeroPodRetentionPeriodSeconds, 10);
  assert.equal(p.targetBurstCapacity, -1);
  assert.equal(p.aggregation, 'weighted-exponential');
  assert.equal(n.deployment.replicas, 2);
  assert.equal(n.containerConcurrency, 10);
  assert.equal(n.timeoutSeconds, 30);
  assert.equal(n.service.ports[0]!.port, 8081);
  assert.equal(n.deployment.name, 'hello');
});

test('Knative annotation validation with positions, all problems at once', () => {
  const r = load(KSVC(`        autoscaling.knative.dev/window: "5s"
        autoscaling.knative.dev/panic-threshold-percentage: "100"
        autoscaling.knative.dev/target: "0"
        autoscaling.knative.dev/min-scale: "5"
        autoscaling.knative.dev/max-scale: "3"
        autoscaling.knative.dev/metric: cpu
        autoscaling.knative.dev/target-burst-capacity: "-2"
        autoscaling.knative.dev/scale-down-delay: "1500ms"
        autoscaling.knative.dev/initial-scale: "0"
        autoscaling.knative.dev/activation-scale: "1"
        autoscaling.knative.dev/class: foo.knative.dev
        autoscaling.knative.dev/windw: "60s"`));
  const m = r.errors.map(formatDiagnostic);
  const expect = [
    /^m\.yaml:9:41: spec\.template\.metadata\.annotations\.autoscaling\.knative\.dev\/window: expected 6s <= 5s <= 1h0m0s$/,
    /:10:61: .*panic-threshold-percentage: expected 110 <= 100 <= 1000/,
    /:11:41: .*\/target: target 0 should be at least 0\.01/,
    /:13:44: .*max-scale: max-scale=3 is less than min-scale=5/,
    /:15:56: .*target-burst-capacity: invalid value: -2/,
    /:16:51: .*scale-down-delay: must be specified with at most second precision/,
    /:17:48: .*initial-scale: invalid value: 0 \(initial-scale=0 not allowed by cluster\)/,
    /:18:51: .*activation-scale: min-scale=5 is greater than activation-scale=1/,
    /:19:40: .*\/class: invalid value: foo\.knative\.dev/,
  ];
  for (const re of expect) assert.ok(m.some((x) => re.test(x)), `${re} not in\n${m.join('\n')}`);
  assert.equal(m.length, expect.length, m.join('\n'));
  // with an invalid class the metric is not checked (as upstream); with the default class it is
  const r2 = load(KSVC('        autoscaling.knative.dev/metric: cpu\n        autoscaling.knative.dev/windw: "60s"'));
  const m2 = r2.errors.map(formatDiagnostic);
  assert.deepEqual(m2.map((x) => x.replace(/ \(.*/, '')), ['m.yaml:9:41: spec.template.metadata.annotations.autoscaling.knative.dev/metric: invalid value: cpu']);
  assert.equal(r2.bundle.documents.length, 0);
  const r3 = load(KSVC('        autoscaling.knative.dev/windw: "60s"'));
  assert.ok(r3.messages.some((x) => /^m\.yaml:9:9: warning: .*windw: unknown autoscaling annotation/.test(x)), r3.messages.join('\n'));
});

test('Knative Service: autoscaling annotations on the Service metadata are rejected; containerConcurrency and timeout ranges', () => {
  const r = load(`apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: hello
  annotations: { autoscaling.knative.dev/min-scale: "1" }
spec:
  template:
    spec:
      containerConcurrency: 1001
      timeoutSeconds: 601
      containers: [{ command: [x] }]
`);
  const m = r.errors.map(formatDiagnostic);
  assert.ok(m.some((x) => /^m\.yaml:5:18: metadata\.annotations\.autoscaling\.knative\.dev\/min-scale: autoscaling annotations must be put under "spec\.template\.metadata\.annotations"/.test(x)), m.join('\n'));
  assert.ok(m.some((x) => /containerConcurrency: expected 0 <= 1001 <= 1000/.test(x)), m.join('\n'));
  assert.ok(m.some((x) => /timeoutSeconds: expected 0 <= 601 <= 600/.test(x)), m.join('\n'));
});

test('Knative Service: unknown field and class HPA with metric memory', () => {
  const r = load(`apiVersion: serving.knative.dev/v1
kind: Service
metadata: { name: hello }
spec:
  template:
    spec:
      containerConcurency: 1
      containers: [{ command: [x] }]
`);
  assert.ok(r.errors.map(formatDiagnostic).some((x) => /unknown field "containerConcurency" \(did you mean "containerConcurrency"\?\)/.test(x)));
  const n = one(KSVC(`        autoscaling.knative.dev/class: hpa.autoscaling.knative.dev
        autoscaling.knative.dev/metric: memory
        autoscaling.knative.dev/target: "512"
        autoscaling.knative.dev/window: "2m"`));
  const h = n.autoscaler.policy as HpaPolicy;
  assert.deepEqual(h.metrics, [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: 512 * 1024 * 1024 * 1000 } } }]);
  assert.equal(h.behavior?.scaleDown.stabilizationWindowSeconds, 120);
  assert.equal(h.minReplicas, 1);
  assert.equal(h.maxReplicas, 2147483647);
});

test('config-autoscaler overrides apply to normalization', () => {
  try {
    setKnativeClusterConfig(kpaConfigFromMap({ 'container-concurrency-target-percentage': '100', 'stable-window': '30s', 'target-burst-capacity': '0' }));
    const p = kpa(one(KSVC('        autoscaling.knative.dev/metric: concurrency')));
    assert.equal(p.targetValue, 10);
    assert.equal(p.stableWindowSeconds, 30);
    assert.equal(p.panicWindowSeconds, 3);
    assert.equal(p.targetBurstCapacity, 0);
  } finally { setKnativeClusterConfig(defaultKpaConfig()); }
});

test('loadManifests throws a ManifestError listing the problems', () => {
  assert.throws(() => loadManifests({ file: 'x.yaml', text: KSVC('        autoscaling.knative.dev/window: "2h"') }), /x\.yaml:9:41: .*window: expected 6s <= 2h <= 1h0m0s/);
});
