// e2e on a real control plane that SERVES custom.metrics.k8s.io and external.metrics.k8s.io: a real
// adapter (sigs.k8s.io/custom-metrics-apiserver with its in-memory test provider, built from the Go
// module proxy by test/k8s/plane/build.sh) registered as APIServices on the plane's aggregator. An
// HPA with a Pods metric (requests_per_pod, written per pod by this test through the adapter) and an
// External metric (the provider's fixed my-external-metric{foo=bar} = 42) is decided by the real
// upstream HPA controller (kube-controller-manager, 5 s sync) and, in shadow mode next to it, by
// Tide, which reads both metrics from those APIs (no Prometheus, no mapping). At every quiescent
// point (every pod has the step's value, replicas held for 10 s) Tide's recommendation must equal
// upstream's status.desiredReplicas. The controller runs with only the tide-controller
// ServiceAccount token, so this also proves its custom/external metrics RBAC rule.
//
// Expected (Pods target averageValue 10, External target averageValue 20 -> ceil(42 / 20) = 3):
//   requests 15 spread over the pods (5 per pod on 3)  -> 1 -> 3 (External drives)
//   requests 60 spread over the pods (20/pod on 3)     -> 6 (Pods drives: ceil(60 / 10))
//   requests 15 again                                  -> 3 (External's floor; scale-down window 0 s)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { planeSkip, startPlane, type Plane } from '../support/k8s-plane.ts';
import { getJson, specReplicas, startController, until, type RunningController } from './helpers.ts';

const OPTS = { customMetrics: true, upstreamHpa: true, hpaSync: '5s' };
const skip = planeSkip(OPTS);
const NS = 'cm';
let plane: Plane | null = null;
let ctl: RunningController | undefined;
let total = 15;
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
  await until('the first pod', async () => (await livePods()).length === 1, 60_000, 500);
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

test('Pods + External metrics from custom.metrics.k8s.io / external.metrics.k8s.io: Tide (shadow) equals the upstream HPA controller at every quiescent point (1 -> 3 -> 6 -> 3)', { skip, timeout: 540_000 }, async () => {
  const p = plane!;
  // the APIs are there, served by the adapter through the aggregator
  const ext = JSON.parse(await p.kubectl(['get', '--raw', `/apis/external.metrics.k8s.io/v1beta1/namespaces/${NS}/my-external-metric?labelSelector=foo%3Dbar`]));
  assert.equal(ext.items[0].value, '42');
  const steps = [{ total: 15, final: 3 }, { total: 60, final: 6 }, { total: 15, final: 3 }];
  const results: { total: number; replicas: number; tide: number; upstream: number }[] = [];
  for (const step of steps) {
    total = step.total;
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
  assert.equal(hpa.status.currentMetrics[1].external.current.averageValue, '14'); // 42 / 3
  const api = await ctl!.api();
  assert.ok((api.requests['get custom metrics'] ?? 0) > 0, JSON.stringify(api.requests));
  const last = h.last;
  assert.equal(last.proposals.length, 2);
  assert.ok(last.proposals.every((x: { error?: string }) => !x.error), JSON.stringify(last.proposals));
  // Tide wrote nothing: every status writer is kube-controller-manager
  const mf = await getJson(p, ['-n', NS, 'get', 'hpa', 'api', '--show-managed-fields']);
  assert.deepEqual([...new Set(mf.metadata.managedFields.filter((m: any) => m.subresource === 'status').map((m: any) => m.manager))], ['kube-controller-manager']);
});
