// Names and numeric ranges as Kubernetes validates them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadManifestsLenient, formatDiagnostic } from '../../../src/manifests/index.ts';
import { isValidName, nameProblems } from '../../../src/manifests/k8s/names.ts';
import { LOCAL_MAX_SECONDS } from '../../../src/manifests/k8s/common.ts';

const load = (text: string) => loadManifestsLenient([{ file: 'm.yaml', text }]);
const errors = (text: string) => load(text).errors.map(formatDiagnostic);

const deployment = (name: string, extra = '', podExtra = '', probe = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
${extra}spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
${podExtra}      containers:
      - name: web
        command: [node, server.js]
${probe}---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
`;

test('Deployment names: DNS-1123 subdomain (spaces, uppercase, 300 characters, ../ are refused)', () => {
  assert.deepEqual(errors(deployment('"my app"')), [
    'm.yaml:4:9: metadata.name: "my app" is not a valid Deployment name: must be a lowercase RFC 1123 subdomain: lowercase letters, digits, \'-\' and \'.\', starting and ending with a letter or digit (e.g. "app-fastapi")',
  ]);
  assert.match(errors(deployment('App'))[0], /^m\.yaml:4:9: metadata\.name: "App" is not a valid Deployment name: must be a lowercase RFC 1123 subdomain/);
  const long = errors(deployment('a'.repeat(300)));
  assert.equal(long.length, 1, long.join('\n'));
  assert.match(long[0], /^m\.yaml:4:9: metadata\.name: "a{57}\.\.\." is not a valid Deployment name: must be no more than 253 characters \(got 300\)$/);
  assert.match(errors(deployment('../../x'))[0], /"\.\.\/\.\.\/x" is not a valid Deployment name/);
  assert.deepEqual(errors(deployment('web.v2')), []); // dots are fine in a subdomain
  const bad = load(deployment('Bad'));
  assert.equal(bad.bundle.deployments.length, 0, 'an invalid name never reaches the runtime');
});

test('namespaces are DNS-1123 labels; Services, Knative Services and InferenceServices DNS-1035 labels', () => {
  assert.match(errors(deployment('web', '  namespace: AI_inference\n'))[0], /^m\.yaml:5:14: metadata\.namespace: "AI_inference" is not a valid namespace: must be a lowercase RFC 1123 label/);
  const svc = (n: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${n}}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n`;
  assert.deepEqual(errors(svc('web')), []);
  assert.match(errors(svc('1web'))[0], /^m\.yaml:3:18: metadata\.name: "1web" is not a valid Service name: must be a DNS-1035 label: lowercase letters, digits and '-', starting with a letter/);
  assert.match(errors(svc('web.v2'))[0], /is not a valid Service name/);
  const isvc = `apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: 2model}\nspec:\n  predictor:\n    containers: [{name: kserve-container, command: [node, s.js]}]\n`;
  assert.match(errors(isvc)[0], /"2model" is not a valid InferenceService name: must be a DNS-1035 label/);
  assert.ok(nameProblems('a'.repeat(64), 'dns1123-label').some((p) => /no more than 63/.test(p)));
  assert.ok(isValidName('app-fastapi', 'dns1035-label'));
  assert.ok(!isValidName('', 'dns1123-subdomain'));
});

test('numbers beyond int32 are refused (replicas: 1e12), container names at most 63 characters', () => {
  const text = deployment('web').replace('spec:\n  selector', 'spec:\n  replicas: 1e12\n  selector');
  assert.match(errors(text)[0], /^m\.yaml:6:13: spec\.replicas: must fit in an int32 \(-2147483648 to 2147483647\)/);
  const long = deployment('web').replace('- name: web', `- name: ${'c'.repeat(64)}`);
  assert.match(errors(long)[0], /containers\[0\]\.name: must be no more than 63 characters \(got 64\)/);
});

test('terminationGracePeriodSeconds: int64 >= 0; 1e12 is valid for Kubernetes, warned and held to what local timers can wait', () => {
  assert.match(errors(deployment('web', '', '      terminationGracePeriodSeconds: -1\n'))[0], /spec\.template\.spec\.terminationGracePeriodSeconds: must be greater than or equal to 0/);
  assert.match(errors(deployment('web', '', '      terminationGracePeriodSeconds: 1e30\n'))[0], /terminationGracePeriodSeconds: must be an int64 \(got 1e\+30, too large to be exact\)/);
  const r = load(deployment('web', '', '      terminationGracePeriodSeconds: 1e12\n'));
  assert.deepEqual(r.errors, []);
  assert.equal(r.bundle.deployments[0].normalized.terminationGracePeriodSeconds, LOCAL_MAX_SECONDS);
  assert.equal(LOCAL_MAX_SECONDS, 2_147_483);
  assert.deepEqual(r.bundle.warnings.map(formatDiagnostic), [
    'm.yaml:10:38: warning: spec.template.spec.terminationGracePeriodSeconds: 1000000000000 seconds is 3.17e+4 years; Tide\'s local runtime waits at most 2147483 s (24.8 days) (write a realistic duration; locally 2147483 is used)',
  ]);
});

test('probes: negative values are errors; 0 takes Kubernetes\' default with a warning; liveness successThreshold 1; probe grace > 0', () => {
  const probe = (p: string) => `        livenessProbe: {httpGet: {port: 8080}, ${p}}\n`;
  const neg = errors(deployment('web', '', '', probe('periodSeconds: -1, timeoutSeconds: -2, initialDelaySeconds: -3, failureThreshold: -4, successThreshold: -5')));
  for (const f of ['periodSeconds', 'timeoutSeconds', 'initialDelaySeconds', 'failureThreshold', 'successThreshold']) {
    assert.ok(neg.some((e) => e.includes(`livenessProbe.${f}: must be greater than or equal to 0`)), `${f}\n${neg.join('\n')}`);
  }
  assert.match(errors(deployment('web', '', '', probe('successThreshold: 2')))[0], /livenessProbe\.successThreshold: must be 1/);
  assert.match(errors(deployment('web', '', '', probe('terminationGracePeriodSeconds: 0')))[0], /livenessProbe\.terminationGracePeriodSeconds: must be greater than 0/);
  const zero = load(deployment('web', '', '', probe('periodSeconds: 0, timeoutSeconds: 0, failureThreshold: 0, successThreshold: 0')));
  assert.deepEqual(zero.errors, []);
  const w = zero.bundle.warnings.map(formatDiagnostic);
  assert.equal(w.length, 4, w.join('\n'));
  assert.match(w[0], /livenessProbe\.periodSeconds: 0 is replaced by the default 10s, as Kubernetes does \(the minimum value is 1; write 10 or omit the field\)/);
  const p = zero.bundle.deployments[0].normalized.containers[0].livenessProbe!;
  assert.deepEqual([p.periodSeconds, p.timeoutSeconds, p.failureThreshold, p.successThreshold], [10, 1, 3, 1]);
  // a period local timers cannot hold is held to their limit
  const huge = load(deployment('web', '', '', probe('periodSeconds: 2000000000')));
  assert.equal(huge.bundle.deployments[0].normalized.containers[0].livenessProbe!.periodSeconds, LOCAL_MAX_SECONDS);
  assert.equal(huge.bundle.warnings.length, 1);
});

test('HPA behavior ranges are upstream\'s: stabilizationWindowSeconds 0..3600, policy periodSeconds 1..1800, value > 0', () => {
  const hpa = (rules: string) => `apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  maxReplicas: 3\n  behavior:\n    scaleUp: ${rules}\n`;
  assert.deepEqual(errors(hpa('{stabilizationWindowSeconds: 3600, policies: [{type: Pods, value: 1, periodSeconds: 1800}]}')), []);
  const bad = errors(hpa('{stabilizationWindowSeconds: -1, policies: [{type: Pods, value: 0, periodSeconds: 0}]}'));
  assert.ok(bad.some((e) => /stabilizationWindowSeconds: must be greater than or equal to zero/.test(e)), bad.join('\n'));
  assert.ok(bad.some((e) => /policies\[0\]\.value: must be greater than zero/.test(e)), bad.join('\n'));
  assert.ok(bad.some((e) => /policies\[0\]\.periodSeconds: must be greater than zero/.test(e)), bad.join('\n'));
  assert.ok(errors(hpa('{stabilizationWindowSeconds: 3601}')).some((e) => /must be less than or equal to 3600/.test(e)));
});
