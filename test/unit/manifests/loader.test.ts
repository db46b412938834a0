import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadManifests, loadManifestsLenient, ManifestError, formatDiagnostic, resolveTargetPort, supportedKinds } from '../../../src/manifests/index.ts';
import { UserError } from '../../../src/core/errors.ts';

const HPA_BAD = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplica: 2
  minReplicas: -1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: AverageValue, averageValue: 12xyz}
  - type: Pods
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleUp:
      policies: [{type: Pods, value: 0, periodSeconds: 4000}]
      selectPolicy: Maximum
      stabilizationWindowSeconds: 7200
`;

function messages(text: string, file = 'm.yaml'): string[] {
  return loadManifestsLenient([{ file, text }]).errors.map(formatDiagnostic);
}

test('reports every problem at once, each with file:line:col and field path', () => {
  const errs = messages(HPA_BAD);
  const expect = [
    'm.yaml:7:3: spec.minReplica: unknown field "minReplica" (did you mean "minReplicas"?)',
    'm.yaml:8:16: spec.minReplicas: must be greater than or equal to 0',
    'm.yaml:14:50: spec.metrics[0].resource.target.averageValue: invalid quantity "12xyz"',
    'm.yaml:15:5: spec.metrics[1].pods: must populate information for the given metric source',
    'm.yaml:16:5: spec.metrics[1].resource: must populate the given metric source only',
    'm.yaml:19:38: spec.behavior.scaleUp.policies[0].value: must be greater than zero',
    'm.yaml:19:56: spec.behavior.scaleUp.policies[0].periodSeconds: must be less than or equal to 1800',
    'm.yaml:20:21: spec.behavior.scaleUp.selectPolicy: must be one of Max, Min, Disabled',
    'm.yaml:21:35: spec.behavior.scaleUp.stabilizationWindowSeconds: must be less than or equal to 3600',
  ];
  for (const e of expect) assert.ok(errs.some((m) => m.startsWith(e)), `missing: ${e}\n got:\n${errs.join('\n')}`);
  assert.equal(errs.length, expect.length, errs.join('\n'));
});

test('loadManifests throws a ManifestError (a UserError) listing all errors, sorted by position', () => {
  try {
    loadManifests([{ file: 'm.yaml', text: HPA_BAD }]);
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof ManifestError);
    assert.ok(e instanceof UserError);
    assert.equal(e.diagnostics.length, 9);
    const lines = e.message.split('\n').slice(1);
    assert.equal(lines.length, 9);
    assert.match(lines[0], /^ {2}m\.yaml:7:3: /);
    assert.match(lines[8], /^ {2}m\.yaml:21:35: /);
  }
});

test('unknown kinds are errors naming the supported list; known kind with another version names the versions', () => {
  const errs = messages(`apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\n---\napiVersion: autoscaling/v2beta1\nkind: HorizontalPodAutoscaler\nmetadata: {name: x}\n---\nkind: Service\n`);
  assert.equal(errs.length, 3, errs.join('\n'));
  assert.match(errs[0], /^m\.yaml:2:7: kind: unsupported kind "StatefulSet" \(apiVersion apps\/v1\) \(supported: apps\/v1 Deployment, v1 Service, autoscaling\/v1 HorizontalPodAutoscaler, autoscaling\/v2 HorizontalPodAutoscaler/);
  assert.match(errs[1], /^m\.yaml:5:13: apiVersion: apiVersion "autoscaling\/v2beta1" is not supported for HorizontalPodAutoscaler \(use autoscaling\/v1 or autoscaling\/v2/);
  assert.match(errs[2], /^m\.yaml:9:1: apiVersion: required field is missing/);
  assert.ok(supportedKinds().includes('v1 Service'));
});

test('YAML syntax errors carry their position; other documents are still checked', () => {
  const errs = messages(`apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 70000}]\n---\na: [1, 2\nb: c\n`);
  assert.ok(errs.some((e) => /^m\.yaml:5:18: spec\.ports\[0\]\.port: must be between 1 and 65535/.test(e)), errs.join('\n'));
  assert.ok(errs.some((e) => /^m\.yaml:\d+:\d+: YAML syntax error: /.test(e)), errs.join('\n'));
});

test('bad quantities in a Deployment, type errors and missing fields', () => {
  const errs = messages(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: two
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: other}}
    spec:
      containers:
      - name: web
        resources:
          requests: {cpu: 1.5cores, memory: 1Gi}
        readinessProbe: {periodSeconds: 5}
        ports: [{containerPort: 8080}]
`);
  const want = [
    /^m\.yaml:6:13: spec\.replicas: expected an integer, got the string "two"/,
    /^m\.yaml:14:27: spec\.template\.spec\.containers\[0\]\.resources\.requests\.cpu: invalid quantity "1\.5cores" \(a number with an optional suffix/,
  ];
  for (const w of want) assert.ok(errs.some((e) => w.test(e)), `${w}\n${errs.join('\n')}`);
  // semantic problems of fields the schema accepted are reported too
  assert.ok(errs.some((e) => /readinessProbe: must specify a handler type/.test(e)), errs.join('\n'));
  assert.ok(errs.some((e) => /spec\.template\.metadata\.labels: `selector` does not match template `labels`/.test(e)), errs.join('\n'));
});

test('metadata and status fields users carry are accepted; a missing name is not', () => {
  const ok = loadManifestsLenient([{ file: 'a.yaml', text: `apiVersion: v1
kind: Service
metadata:
  name: s
  namespace: prod
  uid: 123
  resourceVersion: "9"
  creationTimestamp: "2024-01-01T00:00:00Z"
  annotations: {a: b}
spec:
  type: ClusterIP
  clusterIP: 10.0.0.1
  selector: {app: s}
  ports: [{port: 80, targetPort: http}]
status:
  loadBalancer: {}
` }]);
  assert.deepEqual(ok.errors, []);
  assert.deepEqual(ok.bundle.services[0].normalized.ports, [{ name: undefined, port: 80, targetPort: 'http', protocol: 'TCP' }]);
  const bad = messages('apiVersion: v1\nkind: Service\nmetadata: {labels: {a: b}}\nspec: {ports: [{port: 80}]}\n');
  assert.equal(bad.length, 1);
  assert.match(bad[0], /^m\.yaml:3:11: metadata\.name: required field is missing/);
});

test('List documents are expanded; duplicates are reported with the first position', () => {
  const text = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: s}
  spec: {selector: {app: a}, ports: [{port: 80}]}
- apiVersion: v1
  kind: Service
  metadata: {name: s}
  spec: {selector: {app: a}, ports: [{port: 81}]}
`;
  const r = loadManifestsLenient([{ file: 'l.yaml', text }]);
  assert.equal(r.bundle.services.length, 2);
  assert.equal(r.errors.length, 1);
  assert.match(formatDiagnostic(r.errors[0]), /^l\.yaml:10:20: metadata\.name: duplicate Service "s" \(first defined at l\.yaml:4:3\)/);
});

test('cross references: scale target, services of a deployment, dangling references', () => {
  const text = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: api}}
    spec: {containers: [{name: web, command: [node, server.js], ports: [{containerPort: 8080, name: http}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: other}
spec: {selector: {app: web, tier: db}, ports: [{port: 80}]}
---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec: {scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3}
---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: ghost}
spec:
  scaleTargetRef: {kind: Deployment, name: ghost}
  maxReplicas: 3
`;
  const b = loadManifests([{ file: 'x.yaml', text }]);
  const [web, ghost] = b.autoscalers;
  assert.equal(b.scaleTargetOf(web).name, 'web');
  assert.deepEqual(b.servicesFor(b.deployments[0]).map((s) => s.name), ['web']);
  assert.equal(b.workloadForService(b.services[0]).name, 'web');
  assert.equal(resolveTargetPort(b.services[0].normalized.ports[0], b.deployments[0].normalized), 8080); // named port "http"
  assert.equal(resolveTargetPort({ targetPort: 'nope' }, b.deployments[0].normalized), undefined);
  assert.throws(() => b.workloadForService(b.services[1]), /x\.yaml:18:18: spec\.selector: selects no Deployment/);
  assert.throws(() => b.scaleTargetOf(ghost), (e: unknown) => e instanceof ManifestError && /x\.yaml:29:44: spec\.scaleTargetRef\.name: Deployment "ghost" not found \(Deployments in these files: web\)/.test(e.message));
  assert.throws(() => loadManifests([{ file: 'x.yaml', text }], { requireTargets: true }), /Deployment "ghost" not found/);
});

test('Deployment normalization: defaults, probes, env from secrets resolved locally with a warning', () => {
  const text = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: ghcr.io/x/web:1
        command: [python, -m, http.server]
        workingDir: /srv
        env:
        - {name: MODE, value: fast}
        - name: TOKEN
          valueFrom: {secretKeyRef: {name: creds, key: token}}
        - name: POD
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        resources:
          limits: {cpu: "1", memory: 512Mi}
          requests: {cpu: 250m}
        readinessProbe: {httpGet: {port: 8080}}
        livenessProbe: {tcpSocket: {port: http}, periodSeconds: 20, failureThreshold: 0}
`;
  const b = loadManifests([{ file: 'd.yaml', text }], { env: { TOKEN: 's3cret' } });
  const d = b.deployments[0].normalized;
  assert.equal(d.replicas, 1);
  assert.equal(d.terminationGracePeriodSeconds, 30);
  const c = d.containers[0];
  assert.deepEqual(c.requests, { cpu: 250, memory: 536870912000 }); // memory request defaulted from the limit
  assert.deepEqual(c.limits, { cpu: 1000, memory: 536870912000 });
  assert.deepEqual(c.env, [
    { name: 'MODE', value: 'fast' },
    { name: 'TOKEN', value: 's3cret', from: 'secretKeyRef creds/token' },
    { name: 'POD', from: 'fieldRef metadata.name', fieldPath: 'metadata.name' },
  ]);
  assert.deepEqual(c.readinessProbe, { handler: { type: 'httpGet', path: '/', port: 8080, host: undefined, scheme: 'HTTP', headers: [] }, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
  assert.equal(c.livenessProbe?.periodSeconds, 20);
  assert.equal(c.livenessProbe?.failureThreshold, 3);
  assert.equal(b.warnings.length, 3); // the secret resolved locally, failureThreshold 0 taking the default, no Service
  assert.ok(b.warnings.some((w) => /livenessProbe\.failureThreshold: 0 is replaced by the default 3/.test(formatDiagnostic(w))));
  assert.match(formatDiagnostic(b.warnings.find((w) => w.path.includes('secretKeyRef'))!), /^d\.yaml:17:37: warning: spec\.template\.spec\.containers\[0\]\.env\[1\]\.valueFrom\.secretKeyRef: Secret creds key token is not available locally: using Tide's environment variable TOKEN/);
});
