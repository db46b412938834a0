// End to end: `tide up` with a KEDA ScaledObject on a Redis list (real redis-server). N items pushed →
// the worker Deployment activates from zero, the HPA scales it to ceil(N/listLength), the workers
// drain the queue, and after cooldownPeriod the Deployment returns to zero. Every decision is a
// replayable KEDA record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedis } from '../../support/services.ts';
import { tideUp } from '../runtime/helpers.ts';
import { decideKeda } from '../../../src/deciders/keda/decide.ts';

const WORKER = new URL('./redis-worker.mjs', import.meta.url).pathname;

function manifest(redisAddr: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: worker}
spec:
  replicas: 0
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: worker
        image: example/worker:latest
        command: ${JSON.stringify([process.execPath, WORKER])}
        env:
        - {name: REDIS_ADDR, value: "${redisAddr}"}
        - {name: LIST, value: jobs}
        - {name: WORK_MS, value: "1000"}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: worker}
spec:
  scaleTargetRef: {name: worker}
  pollingInterval: 1
  cooldownPeriod: 3
  maxReplicaCount: 10
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown: {stabilizationWindowSeconds: 0}
  triggers:
  - type: redis
    metadata: {address: "${redisAddr}", listName: jobs, listLength: "5"}
`;
}

test('redis list: 0 → 1 → ceil(N/5) → drained → 0 after cooldown', { timeout: 120_000 }, async (t) => {
  const redis = await startRedis();
  if (!redis) return t.skip('redis-server not installed');
  const addr = `127.0.0.1:${redis.port}`;
  const client = new Redis({ host: '127.0.0.1', port: redis.port });
  client.on('error', () => {});
  const up = await tideUp(manifest(addr), [], { waitReady: false });
  try {
    const replicas = async () => {
      const { json } = await up.api<{ name: string; replicas: number; ready: number }[]>('GET', '/v1/deployments');
      return json.find((d) => d.name === 'worker')!;
    };
    // idle: nothing in the list → stays at zero
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await replicas()).replicas, 0);

    const N = 20;
    await client.rpush('jobs', ...Array.from({ length: N }, (_, i) => `job-${i}`));
    let max = 0;
    const watch = setInterval(() => { void replicas().then((d) => { max = Math.max(max, d.replicas); }).catch(() => {}); }, 100);
    try {
      await up.waitFor('activation from zero', async () => (await replicas()).replicas >= 1, 15_000);
      await up.waitFor(`scale to ceil(${N}/5) = 4`, async () => (await replicas()).replicas === 4, 15_000);
      await up.waitFor('queue drained', async () => Number(await client.get('jobs:done')) === N && (await client.llen('jobs')) === 0, 40_000);
      await up.waitFor('back to zero after cooldown', async () => (await replicas()).replicas === 0, 30_000);
    } finally {
      clearInterval(watch);
    }
    assert.equal(max, 4, 'never more than ceil(N/listLength) replicas');

    const records = readFileSync(join(up.stateDir, 'decisions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.decider === 'keda');
    const activation = records.find((r) => r.currentReplicas === 0 && r.desiredReplicas === 1);
    assert.ok(activation, 'an activation record');
    assert.deepEqual(activation.limitedBy, ['activation']);
    const deactivation = records.find((r) => r.currentReplicas > 0 && r.desiredReplicas === 0);
    assert.ok(deactivation && deactivation.details.phase === 'deactivation', 'a deactivation after cooldown');
    // replay: the recorded inputs reproduce each record
    for (const r of records.slice(0, 15)) {
      const again = decideKeda(r.inputs.policy, r.inputs.observation, r.inputs.state, r.inputs.now, r.inputs.config);
      assert.deepEqual(JSON.parse(JSON.stringify(again.record)), r);
    }
    const desc = await up.cli(['describe', 'hpa', 'worker']);
    assert.equal(desc.code, 0, desc.stderr);
    assert.match(desc.stdout, /Deployment\/worker/);
    assert.match(desc.stdout, /Active/);
    assert.match(desc.stdout, /KEDAScaleTargetDeactivated|KEDAScaleTargetActivated/);
  } finally {
    await up.stop();
    client.disconnect();
    await redis.dispose();
  }
});
