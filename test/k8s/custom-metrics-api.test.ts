// e2e on a real control plane that SERVES custom.metrics.k8s.io and external.metrics.k8s.io: a real
// adapter (sigs.k8s.io/custom-metrics-apiserver with its in-memory test provider, built from the Go
// module proxy by test/k8s/plane/build.sh) registered as APIServices on the plane's aggregator. An
// HPA with a Pods metric (requests_per_pod, written per pod by this test through the adapter), an
// Object metric (queue_length of the Service, written by this test) and an External metric (the
// provider's fixed my-external-metric{foo=bar} = 42) is decided by the real
// upstream HPA controller (kube-controller-manager, 5 s sync) and, in shadow mode next to it, by
// Tide, which reads both metrics from those APIs (no Prometheus, no mapping). At every quiescent
// point (every pod has the step's value, replicas held for 10 s) Tide's recommendation must equal
// upstream's status.desiredReplicas. The controller runs with only the tide-controller
// ServiceAccount token, so this also proves its custom/external metrics RBAC rule.
//
// Expected (Pods target averageValue 10, Object target averageValue 10, External target averageValue
// 20 -> ceil(42 / 20) = 3), so each kind of metric drives one step:
//   requests 15 spread over the pods, queue 20 -> 1 -> 3 (External drives; Pods 2, Object 2)
//   requests 60 spread over the pods, queue 20 -> 6 (Pods drives: ceil(60 / 10))
//   requests 15, queue 45                      -> 5 (Object drives: ceil(45 / 10); scale-down window 0 s)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { planeSkip, startPlane, type Plane } from '../support/k8s-plane.ts';
import { clusterRoleRules, setClusterRoleRules } from '../support/k8s-rbac.ts';
import { getJson, specReplicas, startController, until, type RunningController } from './helpers.ts';

const OPTS = { customMetrics: true, upstreamHpa: true, hpaSync: '5s' };
const skip = planeSkip(OPTS);
const NS = 'cm';
let plane: Plane | null = null;
let ctl: RunningController | undefined;
let total = 15;
/** The Service's queue_length (an Object metric), whole units. */
let queue = 20;
let writer: NodeJS.Timeout | undefined;
/** Per-pod value last written (milli-units), by pod. */
const written = new Map<string, number>();

const MANIFEST = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: main
        image: example.invalid/api:1
        resources: {requests: {cpu: 100m, memory: 64Mi}}
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: 8000}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 1
  maxReplicas: 8
  metrics:
  - type: Pods
    pods:
      metric: {name: requests_per_pod}
      target: {type: AverageValue, averageValue: "10"}
  - type: Object
    object:
      describedObject: {apiVersion: v1, kind: Service, name: api}
      metric: {name: queue_length}
      target: {type: AverageValue, averageValue: "10"}
  - type: External
    external:
      metric: {name: my-external-metric, selector: {matchLabels: {foo: bar}}}
      target: {type: AverageValue, averageValue: "20"}
  behavior:
    scaleUp: {stabilizationWindowSeconds: 0, policies: [{type: Percent, value: 900, periodSeconds: 5}]}
    scaleDown: {stabilizationWindowSeconds: 0, policies: [{type: Percent, value: 100, periodSeconds: 5}]}
`;

async function livePods(): Promise<string[]> {
  const pods = await getJson(plane!, ['-n', NS, 'get', 'pods', '-l', 'app=api']);
  return pods.items.filter((x: any) => !x.metadata.deletionTimestamp).map((x: any) => x.metadata.name);
}

/** Spread the current total over the live pods, through the adapter's write endpoint. */
async function writeAll(): Promise<void> {
  await plane!.writeMetric(NS, 'services', 'api', 'queue_length', String(queue));
  const pods = await livePods();
  if (!pods.length) return;
  const per = Math.round((total * 1000) / pods.length);
  for (const p of pods) {
    await plane!.writeMetric(NS, 'pods', p, 'requests_per_pod', `${per}m`);
    written.set(p, per);
  }
}

before(async () => {
  if (skip) return;
  plane = await startPlane(OPTS);
  if (!plane) return;
  await plane.kubectl(['create', 'namespace', NS]);
  await plane.apply(MANIFEST, NS);
  await until('the first pod', async () => (await livePods()).length >= 1, 60_000, 500);
  await writeAll();
  // keep every pod's value current as pods come and go
  const loop = () => { writer = setTimeout(() => { writeAll().catch(() => {}).finally(() => { if (writer) loop(); }); }, 500); };
  loop();
  ctl = await startController(plane, ['--mode', 'shadow', '--sync-period', '5s']);
}, { timeout: 300_000 });

after(async () => {
  const w = writer;
  writer = undefined;
  clearTimeout(w);
  await ctl?.stop();
  await plane?.stop();
}, { timeout: 120_000 });

/** Quiescent: every live pod has the step's per-pod value and spec.replicas held for 10 s. */
async function quiescent(): Promise<number> {
  let last = -1;
  let since = Date.now();
  return until(`quiescent at total ${total}`, async () => {
    const n = await specReplicas(plane!, NS, 'api');
    if (n !== last) { last = n; since = Date.now(); return undefined; }
    const pods = await livePods();
    const per = Math.round((total * 1000) / Math.max(1, pods.length));
    if (pods.length !== n || !pods.every((p) => written.get(p) === per)) { since = Date.now(); return undefined; }
    return Date.now() - since >= 10_000 ? n : undefined;
  }, 150_000, 1000);
}

async function tideAfter(t: number): Promise<{ tide: number; upstream: number | undefined }> {
  return until('a Tide shadow sync after the quiescent point', async () => {
    const h = await ctl!.hpa(NS, 'api');
    return h?.shadow && Date.parse(h.shadow.at) > t ? h.shadow : undefined;
  }, 30_000, 500);
}

test('Pods, Object and External metrics from custom.metrics.k8s.io / external.metrics.k8s.io: Tide (shadow) equals the upstream HPA controller at every quiescent point (1 -> 3 -> 6 -> 5)', { skip, timeout: 540_000 }, async () => {
  const p = plane!;
  // the APIs are there, served by the adapter through the aggregator
  const ext = JSON.parse(await p.kubectl(['get', '--raw', `/apis/external.metrics.k8s.io/v1beta1/namespaces/${NS}/my-external-metric?labelSelector=foo%3Dbar`]));
  assert.equal(ext.items[0].value, '42');
  const steps = [{ total: 15, queue: 20, final: 3 }, { total: 60, queue: 20, final: 6 }, { total: 15, queue: 45, final: 5 }];
  const results: { total: number; replicas: number; tide: number; upstream: number }[] = [];
  for (const step of steps) {
    total = step.total;
    queue = step.queue;
    for (;;) {
      const n = await quiescent();
      const q = Date.now();
      const s = await tideAfter(q);
      const hpa = await getJson(p, ['-n', NS, 'get', 'hpa', 'api']);
      results.push({ total: step.total, replicas: n, tide: s.tide, upstream: hpa.status.desiredReplicas });
      assert.equal(s.tide, hpa.status.desiredReplicas, `at total ${step.total} on ${n} replicas: Tide ${s.tide}, upstream ${hpa.status.desiredReplicas}`);
      if (n === step.final) break;
    }
  }
  const h = await ctl!.hpa(NS, 'api');
  process.stdout.write(`# custom/external metrics shadow agreement: quiescent points ${results.length}/${results.length}; all syncs ${h.agreements}/${h.agreements + h.disagreements}\n# ${JSON.stringify(results)}\n`);
  // upstream's status shows both metrics as the adapter serves them; Tide's decision used the same APIs
  const hpa = await getJson(p, ['-n', NS, 'get', 'hpa', 'api']);
  assert.equal(hpa.status.currentMetrics[1].object.current.averageValue, '9'); // 45 / 5
  assert.equal(hpa.status.currentMetrics[2].external.current.averageValue, '8400m'); // 42 / 5
  const api = await ctl!.api();
  assert.ok((api.requests['get custom metrics'] ?? 0) > 0, JSON.stringify(api.requests));
  const last = h.last;
  assert.equal(last.proposals.length, 3);
  assert.deepEqual(last.proposals.map((x: { proposedReplicas: number | null }) => x.proposedReplicas), [2, 5, 3], JSON.stringify(last.proposals));
  assert.ok(last.proposals.every((x: { error?: string }) => !x.error), JSON.stringify(last.proposals));
  // Tide wrote nothing: every status writer is kube-controller-manager
  const mf = await getJson(p, ['-n', NS, 'get', 'hpa', 'api', '--show-managed-fields']);
  assert.deepEqual([...new Set(mf.metadata.managedFields.filter((m: any) => m.subresource === 'status').map((m: any) => m.manager))], ['kube-controller-manager']);
});

test('without the ClusterRole rule for custom.metrics.k8s.io / external.metrics.k8s.io, every such metric fails with the apiserver naming the missing permission', { skip, timeout: 180_000 }, async () => {
  const p = plane!;
  const rules = clusterRoleRules();
  const isMetricsApis = (r: { apiGroups: string[] }) => r.apiGroups.includes('custom.metrics.k8s.io');
  assert.equal(rules.filter(isMetricsApis).length, 1);
  await setClusterRoleRules(p, rules.filter((r) => !isMetricsApis(r)));
  try {
    const since = Date.now();
    const last = await until('a Tide sync whose three custom/external metrics all fail on RBAC', async () => {
      const h = await ctl!.hpa(NS, 'api');
      const l = h?.last;
      if (!l || Date.parse(h.shadow?.at ?? '') <= since) return undefined;
      return l.proposals.length === 3 && l.proposals.every((x: { error?: string }) => /forbidden/.test(x.error ?? '')) ? l : undefined;
    }, 60_000, 500);
    const errors = last.proposals.map((x: { error: string }) => x.error).join('\n');
    assert.match(errors, /cannot get resource "pods\/requests_per_pod" in API group "custom\.metrics\.k8s\.io" in the namespace "cm"/);
    assert.match(errors, /cannot get resource "services\/queue_length" in API group "custom\.metrics\.k8s\.io" in the namespace "cm"/);
    assert.match(errors, /cannot (get|list) resource "my-external-metric" in API group "external\.metrics\.k8s\.io" in the namespace "cm"/);
  } finally {
    await setClusterRoleRules(p, rules);
  }
  // the rule back: the metrics are read again
  const since = Date.now();
  await until('a Tide sync with all three metrics read again', async () => {
    const h = await ctl!.hpa(NS, 'api');
    return h?.last && Date.parse(h.shadow?.at ?? '') > since && h.last.proposals.every((x: { error?: string }) => !x.error) ? true : undefined;
  }, 60_000, 500);
});
