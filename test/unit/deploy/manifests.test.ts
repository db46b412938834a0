// Static checks of deploy/kubernetes/: what a cluster admin is promised before applying it.
// (test/e2e/kubernetes/rbac.test.ts applies the same files to a real control plane.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const DIR = join(import.meta.dirname, '../../../deploy/kubernetes');
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();
const objects: Obj[] = files.flatMap((f) => parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => d.toJS() as Obj)).filter(Boolean);
const byKind = (k: string) => objects.filter((o) => o.kind === k);

test('deploy/kubernetes: the Namespace comes first (kubectl apply -f DIR applies files in name order)', () => {
  assert.equal(objects[0].kind, 'Namespace');
  const ns = objects[0].metadata.name;
  for (const o of objects.slice(1)) if (!['ClusterRole', 'ClusterRoleBinding'].includes(o.kind)) assert.equal(o.metadata.namespace, ns, `${o.kind}/${o.metadata.name}`);
});

test('deploy/kubernetes: the controller Deployment runs non-root, read-only, without privileges, with probes and resources', () => {
  const [d] = byKind('Deployment') as unknown as { spec: { template: { spec: { serviceAccountName: string; securityContext: Record<string, unknown>; containers: Record<string, any>[] } } } }[];
  const pod = d.spec.template.spec;
  assert.equal(pod.serviceAccountName, 'tide-controller');
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.ok(Number(pod.securityContext.runAsUser) > 0);
  for (const c of pod.containers) {
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
    assert.ok(c.livenessProbe?.httpGet?.path === '/healthz');
    assert.ok(c.readinessProbe?.httpGet?.path === '/readyz');
    assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory);
    assert.equal(c.args[0], 'controller');
  }
});

test('deploy/kubernetes: the ClusterRole grants no secrets, no wildcard verbs, no writes beyond status, /scale and events', () => {
  const [role] = byKind('ClusterRole') as unknown as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }[];
  const writes = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
  for (const r of role.rules) {
    assert.ok(!r.verbs.includes('*'), `wildcard verb in ${JSON.stringify(r)}`);
    assert.ok(!r.resources.some((x) => x === '*' && !r.apiGroups.every((g) => /metrics\.k8s\.io$/.test(g))), `wildcard resource outside the metrics APIs: ${JSON.stringify(r)}`);
    assert.ok(!r.resources.some((x) => /secrets|serviceaccounts\/token|roles|rolebindings/.test(x)), JSON.stringify(r));
    if (r.verbs.some((v) => writes.has(v))) {
      // horizontalpodautoscalers, scaledobjects: patch only (the tide.dev/memory annotation), never update
      const hpaMemory = ['horizontalpodautoscalers', 'scaledobjects'].includes(r.resources.join()) && r.verbs.every((v) => v === 'patch' || !writes.has(v));
      assert.ok(hpaMemory || r.resources.every((x) => x === 'horizontalpodautoscalers/status' || x === 'scaledobjects/status' || x.endsWith('/scale') || x === 'events' || x === 'leases'), `write on ${r.resources}`);
      assert.ok(!r.verbs.includes('delete'));
    }
  }
  const [binding] = byKind('ClusterRoleBinding') as unknown as { roleRef: { name: string }; subjects: { kind: string; name: string; namespace: string }[] }[];
  assert.equal(binding.roleRef.name, 'tide-controller');
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'tide-controller', namespace: 'tide-system' }]);
});

test('deploy/kubernetes: Secrets only through tide-controller-secrets: get, never list/watch, bound per namespace (RoleBindings), never cluster-wide', () => {
  const roles = byKind('ClusterRole') as unknown as { metadata: { name: string }; rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }[];
  const sec = roles.find((r) => r.metadata.name === 'tide-controller-secrets')!;
  assert.deepEqual(sec.rules, [{ apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['get'] }]);
  for (const b of byKind('ClusterRoleBinding') as unknown as { roleRef: { name: string } }[]) assert.notEqual(b.roleRef.name, 'tide-controller-secrets');
  const rbs = byKind('RoleBinding') as unknown as { metadata: { namespace: string }; roleRef: { kind: string; name: string }; subjects: unknown[] }[];
  assert.deepEqual(rbs.filter((b) => b.roleRef.name === 'tide-controller-secrets').map((b) => [b.metadata.namespace, b.roleRef.kind, b.roleRef.name]), [['tide-system', 'ClusterRole', 'tide-controller-secrets']]);
});

test('deploy/kubernetes/crds: keda.sh/v1alpha1 ScaledObject, TriggerAuthentication, ClusterTriggerAuthentication with KEDA\'s names, scope and status subresource', () => {
  const crdDir = join(DIR, 'crds');
  const crds = readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).map((f) => ({ f, o: parseAllDocuments(readFileSync(join(crdDir, f), 'utf8'))[0].toJS() as any }));
  const want: Record<string, { kind: string; scope: string; short: string[] }> = {
    'scaledobjects.keda.sh': { kind: 'ScaledObject', scope: 'Namespaced', short: ['so'] },
    'triggerauthentications.keda.sh': { kind: 'TriggerAuthentication', scope: 'Namespaced', short: ['ta', 'triggerauth'] },
    'clustertriggerauthentications.keda.sh': { kind: 'ClusterTriggerAuthentication', scope: 'Cluster', short: ['cta', 'clustertriggerauth'] },
  };
  assert.deepEqual(crds.map((c) => c.o.metadata.name).sort(), Object.keys(want).sort());
  for (const { f, o } of crds) {
    const w = want[o.metadata.name];
    assert.equal(f, `keda.sh_${o.spec.names.plural}.yaml`);
    assert.equal(o.kind, 'CustomResourceDefinition');
    assert.equal(o.spec.group, 'keda.sh');
    assert.equal(o.spec.names.kind, w.kind);
    assert.equal(o.spec.scope, w.scope);
    assert.deepEqual(o.spec.names.shortNames, w.short);
    assert.deepEqual(o.spec.versions.map((v: any) => [v.name, v.served, v.storage, !!v.subresources?.status]), [['v1alpha1', true, true, true]]);
    // KEDA's full field set is kept
    assert.equal(o.spec.versions[0].schema.openAPIV3Schema.properties.spec['x-kubernetes-preserve-unknown-fields'], true);
  }
});

test('deploy/kubernetes: leader election touches only its own Lease, in its own namespace', () => {
  const roles = byKind('Role') as unknown as { metadata: { namespace: string }; rules: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[] }[];
  const [role] = roles;
  assert.equal(role.metadata.namespace, 'tide-system');
  for (const r of role.rules) {
    assert.deepEqual([r.apiGroups, r.resources], [['coordination.k8s.io'], ['leases']]);
    // create cannot be limited to a name; everything else is
    if (r.verbs.join() !== 'create') assert.deepEqual(r.resourceNames, ['tide-controller']);
  }
  const [d] = byKind('Deployment') as unknown as { spec: { replicas: number; template: { spec: { containers: { args: string[] }[] } } } }[];
  assert.ok(d.spec.replicas >= 2 && d.spec.template.spec.containers[0].args.includes('--leader-elect'), 'several replicas only with leader election');
});

test('Dockerfile: non-root user matching the Deployment, no dev dependencies', () => {
  const df = readFileSync(join(DIR, '../../Dockerfile'), 'utf8');
  assert.match(df, /^USER 65532:65532$/m);
  assert.match(df, /npm ci --omit=dev/);
});

test('deploy/kubernetes: every controller arg is a flag of `tide controller`, and the mapping file is the mounted ConfigMap', async () => {
  const { Command } = await import('commander');
  const { register } = await import('../../../src/cli/commands/controller.ts');
  const { parseMetricMapping } = await import('../../../src/sources/metric-mapping.ts');
  const program = new Command();
  register(program);
  const cmd = program.commands.find((c) => c.name() === 'controller')!;
  const flags = new Set(cmd.options.map((o) => o.long));
  const [d] = byKind('Deployment') as unknown as { spec: { template: { spec: { containers: { args: string[]; volumeMounts: { name: string; mountPath: string }[] }[]; volumes: { name: string; configMap?: { name: string } }[] } } } }[];
  const c = d.spec.template.spec.containers[0];
  for (const a of c.args.slice(1)) assert.ok(flags.has(a.split('=')[0]), `${a} is not a flag of tide controller`);
  const mapping = c.args.find((a) => a.startsWith('--metrics-mapping='))!.split('=')[1];
  const mount = c.volumeMounts.find((m) => mapping.startsWith(m.mountPath + '/'))!;
  const vol = d.spec.template.spec.volumes.find((v) => v.name === mount.name)!;
  const cm = byKind('ConfigMap').find((x) => x.metadata.name === vol.configMap!.name) as unknown as { data: Record<string, string> };
  const key = mapping.slice(mount.mountPath.length + 1);
  assert.ok(cm.data[key] !== undefined, `ConfigMap ${vol.configMap!.name} has key ${key}`);
  assert.ok(parseMetricMapping(cm.data[key]));
  const listen = c.args.find((a) => a.startsWith('--listen='))!;
  assert.match(listen, /^--listen=0\.0\.0\.0:8080$/, 'probes reach the pod IP, not 127.0.0.1');
});
