// End to end: `tide up` with a KEDA rabbitmq trigger (QueueLength over AMQP, host from env) on a real
// RabbitMQ. N messages → the worker activates from zero, scales to ceil(N/value), drains the queue
// and returns to zero after cooldown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as amqp from 'amqplib';
import { startRabbitMQ } from '../../support/services.ts';
import { tideUp } from '../runtime/helpers.ts';

const WORKER = new URL('./rabbit-worker.mjs', import.meta.url).pathname;

test('rabbitmq queue: 0 → ceil(N/5) → drained → 0', { timeout: 180_000 }, async (t) => {
  const rabbit = await startRabbitMQ();
  if (!rabbit) return t.skip('rabbitmq-server not installed');
  const url = `amqp://guest:guest@127.0.0.1:${rabbit.port}`;
  const tmp = mkdtempSync(join(tmpdir(), 'tide-rabbit-e2e-'));
  const doneFile = join(tmp, 'done.txt');
  process.env.TIDE_E2E_AMQP_URL = url; // the ScaledObject reads it via hostFromEnv (never in the YAML)
  const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: consumer}
spec:
  replicas: 0
  selector: {matchLabels: {app: consumer}}
  template:
    metadata: {labels: {app: consumer}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: consumer
        image: example/consumer:latest
        command: ${JSON.stringify([process.execPath, WORKER])}
        env:
        - {name: AMQP_URL, value: "${url}"}
        - {name: QUEUE, value: work}
        - {name: WORK_MS, value: "1000"}
        - {name: DONE_FILE, value: "${doneFile}"}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: consumer}
spec:
  scaleTargetRef: {name: consumer}
  pollingInterval: 1
  cooldownPeriod: 3
  maxReplicaCount: 10
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown: {stabilizationWindowSeconds: 0}
  triggers:
  - type: rabbitmq
    metadata: {hostFromEnv: TIDE_E2E_AMQP_URL, queueName: work, mode: QueueLength, value: "5"}
`;
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.assertQueue('work', { durable: true });
  const up = await tideUp(manifest, [], { waitReady: false });
  try {
    const replicas = async () => {
      const { json } = await up.api<{ name: string; replicas: number }[]>('GET', '/v1/deployments');
      return json.find((d) => d.name === 'consumer')!.replicas;
    };
    const N = 20;
    for (let i = 0; i < N; i++) ch.sendToQueue('work', Buffer.from(`m${i}`), { persistent: true });
    let max = 0;
    const watch = setInterval(() => { void replicas().then((r) => { max = Math.max(max, r); }).catch(() => {}); }, 100);
    try {
      await up.waitFor('scale to ceil(20/5) = 4', async () => (await replicas()) === 4, 30_000);
      await up.waitFor('queue drained', async () => existsSync(doneFile) && readFileSync(doneFile, 'utf8').trim().split('\n').length === N, 60_000);
      await up.waitFor('back to zero after cooldown', async () => (await replicas()) === 0, 30_000);
    } finally {
      clearInterval(watch);
    }
    assert.equal(max, 4);
    const decisions = readFileSync(join(up.stateDir, 'decisions.jsonl'), 'utf8');
    assert.ok(!decisions.includes('guest:guest'), 'the AMQP URL (with its password) never reaches the records');
  } finally {
    await up.stop();
    await ch.close().catch(() => {});
    await conn.close().catch(() => {});
    delete process.env.TIDE_E2E_AMQP_URL;
    await rabbit.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
});
