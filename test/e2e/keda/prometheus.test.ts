// End to end: a ScaledObject with a prometheus trigger against a real Prometheus that scrapes a test
// exporter. The backlog the exporter reports drives the worker Deployment from 0 to
// ceil(backlog/threshold) and back to 0 after cooldown; a Prometheus outage holds the replicas
// (invalid metric) and the fallback replicas apply after failureThreshold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startPrometheus } from '../../support/services.ts';
import { FIXTURE, tideUp } from '../runtime/helpers.ts';

test('prometheus trigger: 0 → ceil(backlog/10) → fallback during an outage → 0', { timeout: 150_000 }, async (t) => {
  let backlog = 0;
  const exporter = createServer((_req, res) => res.end(`# TYPE tide_test_backlog gauge\ntide_test_backlog ${backlog}\n`));
  await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
  const prom = await startPrometheus([`127.0.0.1:${(exporter.address() as { port: number }).port}`]);
  if (!prom) { exporter.close(); return t.skip('prometheus not installed'); }
  const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: tiny}
spec:
  replicas: 0
  selector: {matchLabels: {app: tiny}}
  template:
    metadata: {labels: {app: tiny}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: app
        image: example/tiny:latest
        command: ${JSON.stringify([process.execPath, FIXTURE])}
        ports: [{containerPort: 8080, name: http}]
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: tiny}
spec:
  scaleTargetRef: {name: tiny}
  pollingInterval: 1
  cooldownPeriod: 2
  maxReplicaCount: 6
  fallback: {failureThreshold: 2, replicas: 2}
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown: {stabilizationWindowSeconds: 0}
  triggers:
  - type: prometheus
    metadata: {serverAddress: "http://127.0.0.1:${prom.port}", query: "max(tide_test_backlog)", threshold: "10"}
`;
  const up = await tideUp(manifest, [], { waitReady: false });
  const replicas = async () => {
    const { json } = await up.api<{ name: string; replicas: number }[]>('GET', '/v1/deployments');
    return json.find((d) => d.name === 'tiny')!.replicas;
  };
  try {
    backlog = 35;
    await up.waitFor('scale to ceil(35/10) = 4', async () => (await replicas()) === 4, 30_000);
    await prom.stop();
    await up.waitFor('fallback to 2 replicas while Prometheus is down', async () => (await replicas()) === 2, 30_000);
    const desc = await up.cli(['describe', 'hpa', 'tiny']);
    assert.match(desc.stdout, /Fallback/);
    assert.match(desc.stdout, /unreachable/);
    backlog = 12;
    await prom.restart();
    await up.waitFor('recovered: ceil(12/10) = 2 from the live metric, fallback off', async () => {
      const { json } = await up.api<{ name: string; conditions: { type: string; status: string }[] }[]>('GET', '/v1/autoscalers');
      const a = json.find((x) => x.name === 'tiny');
      return a?.conditions.some((c) => c.type === 'Fallback' && c.status === 'False') && (await replicas()) === 2;
    }, 30_000);
    backlog = 0;
    await up.waitFor('back to zero after cooldown', async () => (await replicas()) === 0, 30_000);
  } finally {
    await up.stop();
    await prom.dispose();
    exporter.close();
  }
});
