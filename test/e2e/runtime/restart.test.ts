// Restart safety: kill -9 of the daemon while an HPA holds a scale-down in its stabilization window.
// The watchdog kills the replicas soon after (they do not run on under PID 1), and the restarted
// daemon resumes: the Deployment at 3 (not the manifest's 1), the HPA's recommendation history (the
// scale-down stays held), and the HPA created at runtime with `tide autoscale`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deploymentYaml, httpGet, pidsWithEnv, serviceYaml, tideUp, type Up } from './helpers.ts';

const hpa = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: tiny}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: tiny}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Pods
    pods:
      metric: {name: inference_queue_depth}
      target: {type: AverageValue, averageValue: "1"}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 600}
`;

interface Decision { now: number; desiredReplicas: number; currentReplicas: number; limitedBy: string[]; proposals: { proposedReplicas: number | null }[] }
const deployment = async (up: Up, name: string) => (await up.api<{ name: string; desired: number }[]>('GET', '/v1/deployments')).json.find((d) => d.name === name)!;

test('a scale-down held by stabilization survives kill -9 + restart; replicas do not outlive the daemon', { timeout: 180_000 }, async () => {
  const manifest = [deploymentYaml(), serviceYaml(), hpa, deploymentYaml({ name: 'other', cpuRequest: '100m' })].join('---\n');
  const up1 = await tideUp(manifest);
  let up2: Up | undefined;
  const marker = `TIDE_REPLICA_OF=${up1.stateDir}`;
  try {
    assert.equal((await up1.api('POST', '/v1/autoscalers', { deployment: 'other', max: 2, cpuPercent: 70 })).status, 201);
    // queue depth ~4 per replica → the HPA scales to its max of 3
    const url = await up1.serviceUrl();
    let load = true;
    const loops = Array.from({ length: 6 }, async () => { while (load) await httpGet(`${url}/sleep?ms=300`); });
    await up1.waitFor('scaled to 3', async () => (await deployment(up1, 'tiny')).desired === 3, 60_000);
    load = false;
    await Promise.all(loops);
    // idle now: the HPA recommends 1 but its 600 s window holds 3
    await up1.waitFor('a held scale-down', async () => (await up1.api<Decision[]>('GET', '/v1/decisions?autoscaler=tiny&full=1')).json
      .some((d) => d.desiredReplicas === 3 && d.limitedBy.includes('stabilization') && d.proposals.every((p) => p.proposedReplicas !== null && p.proposedReplicas < 3)), 30_000);
    assert.ok(existsSync(join(up1.stateDir, 'state.json')));
    const saved = JSON.parse(readFileSync(join(up1.stateDir, 'state.json'), 'utf8'));
    assert.equal(saved.deployments.tiny.replicas, 3);
    assert.equal(pidsWithEnv(marker).length >= 4, true, 'tiny ×3 and other run');

    up1.proc.kill('SIGKILL');
    // the watchdog notices the daemon is gone and kills its replicas
    await up1.waitFor('replicas gone after the daemon died', async () => pidsWithEnv(marker).length === 0, 15_000);

    const t0 = Date.now();
    up2 = await tideUp(manifest, [], { dir: up1.dir });
    assert.match(up2.output(), /resumed from .*state\.json/);
    assert.equal((await deployment(up2, 'tiny')).desired, 3, 'the scale is restored, not the manifest\'s 1');
    const scalers = (await up2.api<{ name: string }[]>('GET', '/v1/autoscalers')).json.map((a) => a.name).sort();
    assert.deepEqual(scalers, ['other', 'tiny'], 'the HPA created at runtime is back');
    // several syncs later the scale-down is still held by the restored recommendation history
    // (until the new replicas are ready and scraped, the HPA has no metric and keeps the scale)
    const after = await up2.waitFor('3 decisions with metrics after the restart', async () => {
      const ds = (await up2!.api<Decision[]>('GET', '/v1/decisions?autoscaler=tiny&full=1')).json.filter((d) => d.now >= t0);
      return ds.filter((d) => !d.limitedBy.includes('invalid-metrics')).length >= 3 ? ds : undefined;
    }, 60_000);
    for (const d of after) assert.equal(d.desiredReplicas, 3, JSON.stringify(d));
    for (const d of after.filter((x) => !x.limitedBy.includes('invalid-metrics'))) {
      assert.ok(d.proposals.every((p) => p.proposedReplicas !== null && p.proposedReplicas < 3), JSON.stringify(d.proposals));
      assert.ok(d.limitedBy.includes('stabilization'), JSON.stringify(d.limitedBy));
    }
    assert.equal((await deployment(up2, 'tiny')).desired, 3);
  } finally {
    if (!up2) { up1.proc.kill('SIGKILL'); await up1.stop().catch(() => {}); }
    else await up2.stop();
  }
});
