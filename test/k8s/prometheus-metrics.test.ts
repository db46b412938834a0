// e2e on a real control plane: the seed's Pods + External metrics HPA
// (examples/manifests/seed/inference-server-hpa-custom-metrics.yaml, applied unchanged) decided by
// `tide controller` in active mode from a real Prometheus, with the series controlled by this test:
// inference_queue_depth per pod (a total spread over the target's current pods) and
// gpu_utilization_avg{deployment="inference-server"}. No custom/external metrics API is served on the
// plane, so Tide reads both through the PromQL mapping. The controller runs with ONLY the
// tide-controller ServiceAccount token (deploy/kubernetes RBAC, test/k8s/helpers.ts).
//
// Expected (targets: queue 50 per pod, gpu 70 average):
//   queue total 240 on the 3 minReplicas pods = 80/pod -> ceil(3 * 80/50) = 5 (queue drives; gpu 90 -> 2)
//   on 5 pods the same total is 48/pod (ratio 0.96, inside the tolerance): stays 5
//   gpu 500 -> ceil(500/70) = 8 (gpu drives); queue 240/8 = 30/pod -> 5: stays 8
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { planeSkip, startPlane, until, type Plane } from '../support/k8s-plane.ts';
import { startPrometheus, type Service } from '../support/services.ts';
import { startController, type RunningController } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SEED = join(ROOT, 'examples/manifests/seed/inference-server-hpa-custom-metrics.yaml');
const NS = 'ai-inference';
const skip = planeSkip({});

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: inference-server, namespace: ${NS}}
spec:
  replicas: 3
  selector: {matchLabels: {app: inference-server}}
  template:
    metadata: {labels: {app: inference-server}}
    spec:
      containers:
      - name: server
        image: example.com/inference-server:1
        resources: {requests: {cpu: 100m, memory: 64Mi}}
`;

let plane: Plane | null = null;
let prom: Service | null = null;
let exporter: Server | undefined;
let controller: RunningController | undefined;
const load = { queueTotal: 240, gpu: 90 };
let pods: string[] = [];

async function podNames(): Promise<string[]> {
  const out = await plane!.kubectl(['-n', NS, 'get', 'pods', '-l', 'app=inference-server', '-o', 'jsonpath={range .items[*]}{.metadata.name}{" "}{.metadata.deletionTimestamp}{"\\n"}{end}']);
  return out.split('\n').map((l) => l.trim().split(' ')).filter((p) => p[0] && !p[1]).map((p) => p[0]);
}

async function replicas(): Promise<number> {
  return Number(await plane!.kubectl(['-n', NS, 'get', 'deployment', 'inference-server', '-o', 'jsonpath={.spec.replicas}']));
}

before(async () => {
  if (skip) return;
  plane = await startPlane({});
  if (!plane) return;
  // the test's exporter: series Prometheus scrapes every second
  exporter = createServer((req, res) => {
    const per = pods.length ? load.queueTotal / pods.length : 0;
    const lines = ['# TYPE inference_queue_depth gauge', ...pods.map((p) => `inference_queue_depth{namespace="${NS}",pod="${p}"} ${per}`),
      '# TYPE gpu_utilization_avg gauge', `gpu_utilization_avg{deployment="inference-server"} ${load.gpu}`, `gpu_utilization_avg{deployment="other"} 1000`];
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(lines.join('\n') + '\n');
  });
  await new Promise<void>((r) => exporter!.listen(0, '127.0.0.1', () => r()));
  const port = (exporter.address() as { port: number }).port;
  prom = await startPrometheus([`127.0.0.1:${port}`]);
  assert.ok(prom, 'prometheus is installed (sudo bash .ci/install-services.sh)');
  await plane.kubectl(['create', 'namespace', NS]);
  await plane.apply(DEPLOYMENT);
  await plane.kubectl(['apply', '-f', SEED]);
  // keep the exporter's pod list current (the HPA only counts its target's pods)
  const refresh = setInterval(() => { podNames().then((p) => { pods = p; }, () => {}); }, 500);
  refresh.unref();
  await until('3 pods', async () => (pods = await podNames()).length === 3, 60_000);
  const dir = mkdtempSync(join(tmpdir(), 'tide-prom-'));
  const mapping = join(dir, 'tide-metrics.yaml');
  writeFileSync(mapping, [
    `prometheus: http://127.0.0.1:${prom!.port}`,
    'metrics:',
    // per-pod series, restricted to the HPA's namespace; Tide keeps the target's pods
    `  inference_queue_depth: inference_queue_depth{namespace="${NS}"}`,
    '  gpu_utilization_avg:',
    '    query: sum(gpu_utilization_avg{<<.LabelMatchers>>})',
    '',
  ].join('\n'));
  // with only the tide-controller ServiceAccount token (helpers.ts applies deploy/kubernetes/)
  controller = await startController(plane, ['--mode', 'active', '--metrics-mapping', mapping, '--sync-period', '2s']);
}, { timeout: 400_000 });

after(async () => {
  await controller?.stop();
  await prom?.dispose();
  exporter?.close();
  await plane?.stop();
});

test('seed Pods + External metrics HPA from Prometheus: 3 -> 5 (queue depth drives) -> 8 (GPU drives), status as upstream writes it', { skip, timeout: 300_000 }, async () => {
  if (!plane) return;
  assert.equal(readFileSync(SEED, 'utf8').includes('inference_queue_depth'), true);
  await until('scale 3 -> 5 on queue depth 80/pod', async () => (await replicas()) === 5, 90_000, 500);
  // stays at 5: 240 over 5 pods = 48/pod, inside the 10% tolerance
  await until('5 pods', async () => (pods = await podNames()).length === 5, 60_000);
  await until('status shows 48 per pod on 5 replicas', async () => {
    const h = JSON.parse(await plane!.kubectl(['-n', NS, 'get', 'hpa', 'inference-server-hpa', '-o', 'json']));
    return h.status?.currentReplicas === 5 && h.status?.currentMetrics?.[0]?.pods?.current?.averageValue === '48' ? h : null;
  }, 60_000, 500);
  assert.equal(await replicas(), 5);

  load.gpu = 500;
  await until('scale 5 -> 8 on gpu 500', async () => (await replicas()) === 8, 90_000, 500);
  const hpa = await until('status on 8 replicas', async () => {
    const h = JSON.parse(await plane!.kubectl(['-n', NS, 'get', 'hpa', 'inference-server-hpa', '-o', 'json']));
    return h.status?.currentReplicas === 8 && h.status?.currentMetrics?.[0]?.pods?.current?.averageValue === '30' ? h : null;
  }, 90_000, 500);
  assert.equal(hpa.status.desiredReplicas, 8);
  assert.equal(hpa.status.currentMetrics[1].type, 'External');
  assert.equal(hpa.status.currentMetrics[1].external.current.averageValue, '62500m'); // 500 / 8
  const active = hpa.status.conditions.find((c: { type: string }) => c.type === 'ScalingActive');
  assert.equal(active.status, 'True');
  // the real kubectl computes TARGETS from the status Tide wrote
  const table = await plane.kubectl(['-n', NS, 'get', 'hpa', 'inference-server-hpa']);
  assert.match(table, / 30\/50, 62500m\/70 \(avg\) /);
  assert.equal(await replicas(), 8);
});
