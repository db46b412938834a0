// Checks across documents: namespaces of scale targets, Deployments no Service reaches, and
// HPAs that control the same pods (AmbiguousSelector, with upstream's message).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ambiguousAutoscalers, formatLabelSelector, loadManifestsLenient, formatDiagnostic } from '../../../src/manifests/index.ts';

const SEED = fileURLToPath(new URL('../../../examples/manifests/seed/', import.meta.url));
const load = (text: string) => loadManifestsLenient([{ file: 'm.yaml', text }]);
const warnings = (text: string) => load(text).bundle.warnings.map(formatDiagnostic);

const DEP = (ns = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: inference-server
${ns ? `  namespace: ${ns}\n` : ''}spec:
  selector: {matchLabels: {app: inference-server}}
  template:
    metadata: {labels: {app: inference-server}}
    spec: {containers: [{name: app, command: [node, s.js]}]}
---
apiVersion: v1
kind: Service
metadata: {name: inference-server${ns ? `, namespace: ${ns}` : ''}}
spec: {selector: {app: inference-server}, ports: [{port: 80}]}
`;

test('the guide\'s HPA in namespace ai-inference next to a Deployment in another namespace is flagged', () => {
  const hpa = loadManifestsLenient([join(SEED, 'inference-server-hpa.yaml'), { file: 'dep.yaml', text: DEP() }]);
  const w = hpa.bundle.warnings.map(formatDiagnostic);
  assert.equal(w.length, 1, w.join('\n'));
  assert.match(w[0], /inference-server-hpa\.yaml:10:11: warning: spec\.scaleTargetRef\.name: HorizontalPodAutoscaler inference-server-hpa is in namespace "ai-inference" but Deployment "inference-server" \(dep\.yaml:1\) has no namespace \(kubectl puts it in the current one, "default" unless -n\): an autoscaler only scales objects in its own namespace/);
  const other = loadManifestsLenient([join(SEED, 'inference-server-hpa.yaml'), { file: 'dep.yaml', text: DEP('prod') }]).bundle.warnings.map(formatDiagnostic);
  assert.match(other[0], /is in namespace "ai-inference" but Deployment "inference-server" \(dep\.yaml:1\) has namespace "prod"/);
  assert.deepEqual(loadManifestsLenient([join(SEED, 'inference-server-hpa.yaml'), { file: 'dep.yaml', text: DEP('ai-inference') }]).bundle.warnings, []);
});

test('a Deployment without a Service: a warning that says how it can be reached', () => {
  const text = DEP().split('---')[0];
  const w = warnings(text);
  assert.equal(w.length, 1);
  assert.equal(w[0], 'm.yaml:4:9: warning: metadata.name: no Service selects the pods of Deployment inference-server, so Tide starts no proxy for it: each replica is reachable only on its own port on 127.0.0.1 (the tide.dev/port annotation in `tide get pods -o yaml`), with no load balancing and no holding of requests while it scales (to reach it on one port, add a v1 Service with spec.selector {app: inference-server} and the port clients use (or give the file that has it))');
  assert.deepEqual(warnings(DEP()), []);
});

test('two HPAs on one Deployment: both get upstream\'s AmbiguousSelector message', () => {
  const hpa = (name: string) => `---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: ${name}}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: inference-server}\n  maxReplicas: 5\n`;
  const r = load(DEP() + hpa('b-hpa') + hpa('a-hpa'));
  const amb = ambiguousAutoscalers(r.bundle.documents);
  assert.deepEqual(amb.map((a) => a.doc.name), ['b-hpa', 'a-hpa']);
  for (const a of amb) {
    assert.equal(a.message, 'pods by selector app=inference-server are controlled by more than one HPA (e.g. [default/a-hpa default/b-hpa])');
    assert.deepEqual(a.selectingHpas, ['default/a-hpa', 'default/b-hpa']);
  }
  assert.equal(r.bundle.warnings.filter((w) => /AmbiguousSelector/.test(w.message)).length, 2);
  // one HPA, or HPAs in different namespaces: nothing
  assert.deepEqual(ambiguousAutoscalers(load(DEP() + hpa('a-hpa')).bundle.documents), []);
  // a KEDA ScaledObject creates an HPA too (keda-hpa-NAME)
  const so = '---\napiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: q}\nspec:\n  scaleTargetRef: {name: inference-server}\n  minReplicaCount: 1\n  triggers: [{type: cpu, metricType: Utilization, metadata: {value: "50"}}]\n';
  const withKeda = ambiguousAutoscalers(load(DEP() + hpa('a-hpa') + so).bundle.documents);
  assert.deepEqual(withKeda[0]?.selectingHpas, ['default/a-hpa', 'default/keda-hpa-q']);
});

test('selectors print as scale.status.selector does', () => {
  assert.equal(formatLabelSelector({ matchLabels: { tier: 'api', app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }, { key: 'canary', operator: 'DoesNotExist' }] }), 'app=web,!canary,env in (dev,prod),tier=api');
});
