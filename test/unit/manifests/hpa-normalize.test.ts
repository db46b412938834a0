import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { formatDiagnostic, hpaFromAutoscaleFlags, loadManifests, loadManifestsLenient } from '../../../src/manifests/index.ts';
import type { HpaPolicy } from '../../../src/deciders/hpa/types.ts';

const SEED = new URL('../../../examples/manifests/seed/', import.meta.url);
const seed = (f: string) => ({ file: f, text: readFileSync(new URL(f, SEED), 'utf8') });
const policyOf = (text: string, file = 'h.yaml'): HpaPolicy => loadManifests([{ file, text }]).autoscalers[0].normalized;

const UP_DEFAULT = { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] };
// upstream leaves the scaleDown window unset: the controller's --horizontal-pod-autoscaler-downscale-stabilization applies
const DOWN_DEFAULT = { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };

test('autoscaling/v1: legacy policy, cpu Utilization from targetCPUUtilizationPercentage (default 80), minReplicas 1', () => {
  const p = policyOf('apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: a}\nspec:\n  scaleTargetRef: {kind: Deployment, name: a}\n  maxReplicas: 5\n');
  assert.equal(p.minReplicas, 1);
  assert.equal(p.behavior, undefined);
  assert.deepEqual(p.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  assert.deepEqual(p.source, { file: 'h.yaml', apiVersion: 'autoscaling/v1' });
});

test('autoscaling/v2 without behavior stays on the legacy path; no metrics means cpu 80%', () => {
  const p = policyOf('apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: a, namespace: n}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: a}\n  maxReplicas: 5\n');
  assert.equal(p.behavior, undefined);
  assert.equal(p.namespace, 'n');
  assert.equal(p.metrics[0].type, 'Resource');
});

test('autoscaling/v2 behavior: missing direction and fields take upstream defaults; tolerance parsed', () => {
  const p = policyOf(`apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: a}
spec:
  scaleTargetRef: {kind: Deployment, name: a}
  maxReplicas: 5
  behavior:
    scaleDown:
      selectPolicy: Min
      tolerance: 50m
`);
  assert.deepEqual(p.behavior?.scaleUp, UP_DEFAULT);
  assert.deepEqual(p.behavior?.scaleDown, { ...DOWN_DEFAULT, selectPolicy: 'Min', tolerance: 0.05 });
  const q = policyOf(`apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: a}
spec:
  scaleTargetRef: {kind: Deployment, name: a}
  maxReplicas: 5
  behavior:
    scaleUp: {stabilizationWindowSeconds: 60}
`);
  assert.deepEqual(q.behavior?.scaleUp, { ...UP_DEFAULT, stabilizationWindowSeconds: 60 });
  assert.deepEqual(q.behavior?.scaleDown, DOWN_DEFAULT);
});

test('metric targets become milli-units', () => {
  const p = policyOf(`apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: a}
spec:
  scaleTargetRef: {kind: Deployment, name: a}
  maxReplicas: 5
  metrics:
  - type: Resource
    resource: {name: memory, target: {type: AverageValue, averageValue: 1Gi}}
  - type: ContainerResource
    containerResource: {name: cpu, container: app, target: {type: Utilization, averageUtilization: 60}}
  - type: Object
    object:
      describedObject: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: main}
      metric: {name: requests-per-second}
      target: {type: Value, value: 2k}
  - type: External
    external:
      metric: {name: queue_messages_ready, selector: {matchLabels: {queue: jobs}}}
      target: {type: AverageValue, averageValue: 30}
`);
  assert.deepEqual(p.metrics, [
    { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: 1073741824000 } } },
    { type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target: { type: 'Utilization', averageUtilization: 60 } } },
    { type: 'Object', object: { describedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main' }, metric: { name: 'requests-per-second' }, target: { type: 'Value', value: 2000000 } } },
    { type: 'External', external: { metric: { name: 'queue_messages_ready', selector: { matchLabels: { queue: 'jobs' } } }, target: { type: 'AverageValue', averageValue: 30000 } } },
  ]);
});

test('upstream validation: maxReplicas ≥ minReplicas, positive targets, empty policies, targets matching the source', () => {
  const r = () => loadManifests([{ file: 'h.yaml', text: `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: a}
spec:
  scaleTargetRef: {kind: Deployment, name: a/b}
  minReplicas: 4
  maxReplicas: 2
  metrics:
  - type: Pods
    pods: {metric: {name: q}, target: {type: AverageValue, averageValue: "-1"}}
  - type: External
    external: {metric: {name: e}, target: {type: Value}}
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50, averageValue: 100m}}
  - type: Custom
  behavior:
    scaleDown: {policies: []}
` }]);
  assert.throws(r, (e: Error) => {
    const want = [
      'h.yaml:5:44: spec.scaleTargetRef.name: may not contain \'/\'',
      'h.yaml:7:16: spec.maxReplicas: must be greater than or equal to `minReplicas` (minReplicas is 4)',
      'h.yaml:10:74: spec.metrics[0].pods.target.averageValue: must be positive',
      'h.yaml:12:43: spec.metrics[1].external.target.averageValue: must set either a target value for metric or a per-pod target',
      'h.yaml:14:79: spec.metrics[2].resource.target.averageValue: may not set both a target raw value and a target utilization',
      'h.yaml:15:11: spec.metrics[3].type: Unsupported value: "Custom"',
      'h.yaml:17:27: spec.behavior.scaleDown.policies: must specify at least one Policy',
    ];
    for (const w of want) assert.ok(e.message.includes(w), `missing ${w}\n${e.message}`);
    return true;
  });
});

test('kubectl autoscale deployment X --cpu-percent=50 --min=1 --max=10', () => {
  const { object, yaml } = hpaFromAutoscaleFlags({ deployment: 'app-fastapi', cpuPercent: 50, min: 1, max: 10 });
  assert.equal(object.apiVersion, 'autoscaling/v2');
  assert.deepEqual(object.spec, {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'app-fastapi' },
    minReplicas: 1, maxReplicas: 10,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
  });
  const p = policyOf(yaml, 'autoscale.yaml');
  assert.equal(p.name, 'app-fastapi');
  assert.equal(p.behavior, undefined);
  assert.deepEqual([p.minReplicas, p.maxReplicas], [1, 10]);
  assert.deepEqual(p.metrics[0], { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } });
  // flags left out: the server defaults apply (min 1, cpu 80%)
  const bare = hpaFromAutoscaleFlags({ deployment: 'web', max: 3 });
  assert.equal(bare.object.spec.minReplicas, undefined);
  assert.equal(bare.object.spec.metrics, undefined);
  const pb = policyOf(bare.yaml);
  assert.equal(pb.minReplicas, 1);
  assert.equal(pb.metrics[0].type === 'Resource' && pb.metrics[0].resource.target.averageUtilization, 80);
});

test('seed manifests load and normalize (v1, v2 with behavior, v2 with Pods/External)', () => {
  const b = loadManifests([
    seed('app-fastapi-resources.yaml'), seed('app-fastapi-hpa.yaml'), seed('app-fastapi-hpa-v2.yaml'), seed('inference-server-hpa.yaml'),
  ], { env: {} });
  assert.deepEqual(b.documents.map((d) => `${d.kind}/${d.name}`), [
    'Deployment/app-fastapi', 'Service/app-fastapi', 'HorizontalPodAutoscaler/app-fastapi', 'HorizontalPodAutoscaler/app-fastapi-advanced',
    'HorizontalPodAutoscaler/inference-server-hpa',
  ]);
  // the chapter's two inference-server HPAs are alternatives with the same name: loading both is an error
  assert.throws(() => loadManifests([seed('inference-server-hpa.yaml'), seed('inference-server-hpa-custom-metrics.yaml')]),
    /inference-server-hpa-custom-metrics\.yaml:5:9: metadata\.name: duplicate HorizontalPodAutoscaler "inference-server-hpa" \(first defined at inference-server-hpa\.yaml:1:1\)/);
  const customDoc = loadManifests([seed('inference-server-hpa-custom-metrics.yaml')]).autoscalers[0];
  const dep = b.deployments[0].normalized;
  assert.equal(dep.replicas, 2);
  assert.deepEqual(dep.containers[0].requests, { cpu: 200 });
  assert.deepEqual(dep.containers[0].limits, { cpu: 500 });
  // WANDB_API_KEY from a Secret, and the guide's two HPAs on app-fastapi: AmbiguousSelector on both
  assert.equal(b.warnings.length, 3);
  assert.match(formatDiagnostic(b.warnings[1]), /app-fastapi-hpa\.yaml:7:5: warning: spec\.scaleTargetRef: pods by selector app=app-fastapi are controlled by more than one HPA \(e\.g\. \[default\/app-fastapi default\/app-fastapi-advanced\]\): Kubernetes sets ScalingActive=False \(AmbiguousSelector\)/);
  const [v1, v2, inf] = b.autoscalers.map((a) => a.normalized as HpaPolicy);
  const custom = customDoc.normalized as HpaPolicy;
  assert.equal(v1.metrics[0].type === 'Resource' && v1.metrics[0].resource.target.averageUtilization, 50);
  assert.equal(b.scaleTargetOf(b.autoscalers[0]).name, 'app-fastapi');
  assert.deepEqual(b.servicesFor(b.deployments[0]).map((s) => s.name), ['app-fastapi']);
  assert.deepEqual(v2.behavior, {
    scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] },
    scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 30 }, { type: 'Pods', value: 4, periodSeconds: 30 }] },
  });
  assert.equal(inf.namespace, 'ai-inference');
  assert.deepEqual(inf.behavior?.scaleDown.policies, [{ type: 'Percent', value: 10, periodSeconds: 60 }]);
  assert.deepEqual(custom.metrics.map((m) => m.type), ['Pods', 'External']);
  assert.equal(custom.metrics[0].type === 'Pods' && custom.metrics[0].pods.target.averageValue, 50000);
  assert.throws(() => b.scaleTargetOf(b.autoscalers[2]), /inference-server-hpa\.yaml:10:11: spec\.scaleTargetRef\.name: Deployment "inference-server" not found/);
});

test('minReplicas: 0 (HPAScaleToZero, on by default since v1.37) needs an Object or External metric; gate off rejects it', () => {
  const hpa = (metrics: string) => `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: a}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: a}
  minReplicas: 0
  maxReplicas: 5
  metrics:
${metrics}`;
  const external = `  - type: External
    external: {metric: {name: queue}, target: {type: AverageValue, averageValue: "10"}}
`;
  const cpu = `  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
`;
  assert.equal(policyOf(hpa(external)).minReplicas, 0);
  const forbidden = loadManifestsLenient([{ file: 'h.yaml', text: hpa(cpu) }]).errors.map(formatDiagnostic);
  assert.deepEqual(forbidden, ['h.yaml:9:3: spec.metrics: Forbidden: must specify at least one Object or External metric to support scaling to zero replicas (add an Object or External metric, or set minReplicas to 1 or more)']);
  const off = loadManifestsLenient([{ file: 'h.yaml', text: hpa(external) }], { featureGates: { HPAScaleToZero: false } }).errors.map(formatDiagnostic);
  assert.equal(off.length, 1);
  assert.match(off[0], /^h\.yaml:6:16: spec\.minReplicas: must be greater than or equal to 1 \(minReplicas: 0 needs the HPAScaleToZero feature gate/);
  const negative = loadManifestsLenient([{ file: 'h.yaml', text: hpa(external).replace('minReplicas: 0', 'minReplicas: -1') }]).errors.map(formatDiagnostic);
  assert.deepEqual(negative, ['h.yaml:6:16: spec.minReplicas: must be greater than or equal to 0']);
});
