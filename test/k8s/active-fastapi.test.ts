// E2E (1): the seed's app-fastapi Deployment + Service with its autoscaling/v1 HPA, and the v2 HPA
// with behavior (each in its own namespace, manifests applied unchanged), on a real control plane
// whose own HPA controller is off. Tide runs in active mode: kwok usage rises -> Tide scales through
// /scale -> kube-controller-manager creates pods -> kwok makes them Ready -> usage falls -> scale-down
// after the stabilization window. The real kubectl shows the status Tide wrote.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { planeSkip, startPlane, type Plane } from '../support/k8s-plane.ts';
import { decisionsOf, events, getJson, podCpu, readyPods, seed, setUsage, specReplicas, startController, until, type RunningController } from './helpers.ts';

const OPTS = { metrics: true, kwokCrds: true, metricResolution: '10s' };
const skip = planeSkip(OPTS);
let plane: Plane | null = null;
let ctl: RunningController | undefined;
const V1 = 'fastapi-v1';
const V2 = 'fastapi-v2';
const SEL = 'app=app-fastapi';

before(async () => {
  if (skip) return;
  plane = await startPlane(OPTS);
  if (!plane) return;
  for (const ns of [V1, V2]) {
    await plane.kubectl(['create', 'namespace', ns]);
    await setUsage(plane, ns, '300m'); // 150% of the 200m request: above both HPAs' targets
    await plane.kubectl(['-n', ns, 'create', 'secret', 'generic', 'wandb', '--from-literal=WANDB_API_KEY=test']);
    await plane.apply(seed('app-fastapi-resources.yaml'), ns);
  }
  await plane.apply(seed('app-fastapi-hpa.yaml'), V1);
  await plane.apply(seed('app-fastapi-hpa-v2.yaml'), V2);
  ctl = await startController(plane, ['--mode', 'active', '--sync-period', '2s', '--downscale-stabilization', '15s']);
}, { timeout: 300_000 });

after(async () => {
  const code = await ctl?.stop();
  if (ctl && code !== 0 && code !== null) process.stderr.write(ctl.output().slice(-4000));
  await plane?.stop();
}, { timeout: 120_000 });

test('v1 HPA: usage up -> scale up through /scale -> pods Ready -> usage down -> scale down after the window; kubectl shows it', { skip, timeout: 420_000 }, async () => {
  const p = plane!;
  // rising: 150%/50% -> 2 -> 3 -> 6 -> 10 (maxReplicas), each step capped by the legacy max(2n, 4)
  await until('v1 scaled to maxReplicas 10', async () => (await specReplicas(p, V1, 'app-fastapi')) === 10, 180_000, 1000);
  await until('10 Ready pods', async () => (await readyPods(p, V1, SEL)) === 10, 60_000, 1000);
  // status.currentReplicas is the scale Tide read at its last sync (one sync behind a rescale, as upstream)
  const hpaUp = await until('status currentReplicas 10', async () => { const h = await getJson(p, ['-n', V1, 'get', 'hpa', 'app-fastapi']); return h.status.currentReplicas === 10 ? h : undefined; }, 30_000, 1000);
  assert.equal(hpaUp.status.desiredReplicas, 10);
  const limited = hpaUp.status.conditions.find((c: any) => c.type === 'ScalingLimited');
  assert.equal(limited?.reason, 'TooManyReplicas', JSON.stringify(hpaUp.status.conditions));
  const evUp = await events(p, V1, 'app-fastapi');
  const rescales = evUp.filter((e) => e.reason === 'SuccessfulRescale');
  assert.ok(rescales.some((e) => /^New size: 10; reason: cpu resource utilization \(percentage of request\) above target$/.test(e.message)), JSON.stringify(rescales));
  assert.ok(rescales.every((e) => e.source?.component === 'tide-controller'));

  // falling: 15% of request; the 15 s downscale stabilization holds the count first
  const dropAt = Date.now();
  await setUsage(p, V1, '30m');
  await until('every pod at the new usage in metrics.k8s.io', async () => {
    const m = await podCpu(p, V1, SEL);
    return m.size > 0 && [...m.values()].every((v) => v < 40);
  }, 90_000, 1000);
  await until('v1 scaled down to minReplicas 1', async () => (await specReplicas(p, V1, 'app-fastapi')) === 1, 180_000, 1000);
  await until('1 pod left', async () => (await readyPods(p, V1, SEL)) === 1, 60_000, 1000);
  const recs = decisionsOf(ctl!.decisions).filter((r) => r.inputs.policy.namespace === V1 && r.now >= dropAt);
  const firstDown = recs.find((r) => r.desiredReplicas < r.currentReplicas);
  assert.ok(firstDown, 'a scale-down decision was recorded');
  assert.ok(recs.some((r) => r.now < firstDown.now && r.limitedBy.includes('stabilization') && r.desiredReplicas === r.currentReplicas),
    'before the scale-down, decisions were held by the stabilization window');
  const firstLow = recs.find((r) => r.proposals[0]?.proposedReplicas !== null && r.proposals[0].proposedReplicas < r.currentReplicas);
  assert.ok(firstDown.now - firstLow.now >= 15_000 - 2_500, `scale-down ${firstDown.now - firstLow.now} ms after the first lower proposal (window 15 s)`);

  // what Tide wrote, through the real kubectl
  await until('status shows 1 replica', async () => (await getJson(p, ['-n', V1, 'get', 'hpa', 'app-fastapi'])).status.currentReplicas === 1, 30_000, 1000);
  const table = await p.kubectl(['-n', V1, 'get', 'hpa']);
  const row = table.split('\n').find((l) => l.startsWith('app-fastapi '))!;
  assert.match(row, /^app-fastapi\s+Deployment\/app-fastapi\s+cpu: 15%\/50%\s+1\s+10\s+1\s+/, table);
  const desc = await p.kubectl(['-n', V1, 'describe', 'hpa', 'app-fastapi']);
  assert.match(desc, /resource cpu on pods\s+\(as a percentage of request\):\s+15% \(\d+m\) \/ 50%/, desc);
  assert.match(desc, /AbleToScale\s+True\s+\w+/, desc);
  assert.match(desc, /ScalingActive\s+True\s+ValidMetricFound\s+the HPA was able to successfully calculate a replica count from cpu resource utilization \(percentage of request\)/, desc);
  assert.match(desc, /ScalingLimited\s+False\s+DesiredWithinRange/, desc);
  assert.match(desc, /Normal\s+SuccessfulRescale\s+.*tide-controller\s+New size: 1; reason: All metrics below target/, desc);
  // the decisions replay exactly
  const { replayRecords } = await import('../../src/replay/run.ts');
  const all = decisionsOf(ctl!.decisions).filter((r) => r.inputs.policy.namespace === V1);
  assert.equal(replayRecords(all).mismatches.length, 0);
});

test('v2 HPA with behavior: scale-up limited by its policies; memory without requests blocks scale-down as upstream', { skip, timeout: 420_000 }, async () => {
  const p = plane!;
  // cpu 150%/70% on 2 pods -> 5 (ceil 4.29); scaleUp policies allow max(2+100%, 2+4) = 6
  await until('v2 scaled 2 -> 5', async () => (await specReplicas(p, V2, 'app-fastapi')) >= 5, 180_000, 1000);
  const recs = decisionsOf(ctl!.decisions).filter((r) => r.inputs.policy.namespace === V2);
  const up = recs.find((r) => r.rescale);
  assert.equal(up.currentReplicas, 2);
  assert.equal(up.desiredReplicas, 5);
  assert.equal(up.proposals[1].proposedReplicas, null, 'memory has no request: that metric fails');
  await until('5 Ready pods', async () => (await readyPods(p, V2, SEL)) >= 5, 60_000, 1000);
  const hpa = await getJson(p, ['-n', V2, 'get', 'hpa', 'app-fastapi-advanced']);
  assert.ok(hpa.status.currentReplicas >= 5);
  assert.equal(hpa.status.observedGeneration, hpa.metadata.generation);

  await setUsage(p, V2, '30m');
  const st = await until('ScalingActive=False (memory metric invalid while cpu would scale down)', async () => {
    const h = await getJson(p, ['-n', V2, 'get', 'hpa', 'app-fastapi-advanced']);
    const c = h.status.conditions.find((x: any) => x.type === 'ScalingActive');
    return c?.status === 'False' ? c : undefined;
  }, 120_000, 1000);
  assert.equal(st.reason, 'FailedGetResourceMetric');
  assert.match(st.message, /^the HPA was unable to compute the replica count: failed to get memory utilization: missing request for memory in container app-fastapi of Pod app-fastapi-/);
  const evs = await events(p, V2, 'app-fastapi-advanced');
  assert.ok(evs.some((e) => e.type === 'Warning' && e.reason === 'FailedGetResourceMetric'), JSON.stringify(evs.map((e) => e.reason)));
  assert.ok(evs.some((e) => e.type === 'Warning' && e.reason === 'FailedComputeMetricsReplicas'));
  // held for several syncs: no scale-down
  const before = await specReplicas(p, V2, 'app-fastapi');
  const rounds = (await ctl!.api()).rounds;
  await until('3 more sync rounds', async () => (await ctl!.api()).rounds >= rounds + 3, 30_000, 500);
  assert.equal(await specReplicas(p, V2, 'app-fastapi'), before);
  const table = await p.kubectl(['-n', V2, 'get', 'hpa']);
  assert.match(table, /app-fastapi-advanced\s+Deployment\/app-fastapi\s+cpu: \d+%\/70%, memory: <unknown>\/80%\s+2\s+20\s+\d+/, table);
});
