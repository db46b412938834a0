// End to end: an autoscaling/v2 HPA with an External metric, read by `tide up` straight from a real
// Prometheus through tide-metrics.yaml (no adapter): the backlog the exporter reports scales the
// Deployment to ceil(backlog / averageValue), and back down when it falls.
import { test } from 'node:test';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPrometheus } from '../../support/services.ts';
import { FIXTURE, tideUp } from '../runtime/helpers.ts';

test('HPA External metric from Prometheus via tide-metrics.yaml scales 1 → 3 → 1', { timeout: 120_000 }, async (t) => {
  let backlog = 0;
  const exporter = createServer((_req, res) => res.end(`tide_e2e_backlog{queue="jobs"} ${backlog}\ntide_e2e_backlog{queue="other"} 1000\n`));
  await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
  const prom = await startPrometheus([`127.0.0.1:${(exporter.address() as { port: number }).port}`]);
  if (!prom) { exporter.close(); return t.skip('prometheus not installed'); }
  const dir = mkdtempSync(join(tmpdir(), 'tide-map-e2e-'));
  const mapping = join(dir, 'tide-metrics.yaml');
  writeFileSync(mapping, `prometheus: http://127.0.0.1:${prom.port}\nmetrics:\n  queue_backlog:\n    query: sum(tide_e2e_backlog{<<.LabelMatchers>>})\n`);
  process.env.TIDE_METRICS_FILE = mapping;
  const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: tiny}
spec:
  replicas: 1
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
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: tiny}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: tiny}
  minReplicas: 1
  maxReplicas: 5
  metrics:
  - type: External
    external:
      metric: {name: queue_backlog, selector: {matchLabels: {queue: jobs}}}
      target: {type: AverageValue, averageValue: "10"}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 0}
`;
  const up = await tideUp(manifest, [], { waitReady: false });
  delete process.env.TIDE_METRICS_FILE;
  const replicas = async () => {
    const { json } = await up.api<{ name: string; replicas: number }[]>('GET', '/v1/deployments');
    return json.find((d) => d.name === 'tiny')!.replicas;
  };
  try {
    backlog = 25; // the selector keeps queue="other" (1000) out
    await up.waitFor('scale to ceil(25/10) = 3', async () => (await replicas()) === 3, 40_000);
    backlog = 4;
    await up.waitFor('scale back to 1', async () => (await replicas()) === 1, 40_000);
  } finally {
    await up.stop();
    await prom.dispose();
    exporter.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
