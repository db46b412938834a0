// E2E (4): faults on a real control plane, Tide active (upstream HPA controller off):
// invalid HPA objects and a deleted target (clear condition + event), an HPA deleted while Tide
// syncs it, kube-apiserver stopped and restarted mid-run (reconnect, re-list, no crash, no spurious
// scaling), metrics-server down (no scale-down, ScalingActive=False as upstream) and back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { planeSkip, startPlane, type Plane } from '../support/k8s-plane.ts';
import { decisionsOf, events, getJson, setUsage, specReplicas, startController, until, type RunningController } from './helpers.ts';

const OPTS = { metrics: true, kwokCrds: true, metricResolution: '10s' };
const skip = planeSkip(OPTS);
let plane: Plane | null = null;
let ctl: RunningController | undefined;
const NS = 'faults';

const deployment = (name: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: main
        image: example.invalid/model-server:1
        resources: {requests: {cpu: 100m}}
`;
const hpa = (name: string, target: string, metrics: string, ref = 'apiVersion: apps/v1, kind: Deployment') => `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: ${name}}
spec:
  scaleTargetRef: {${ref}, name: ${target}}
  minReplicas: 1
  maxReplicas: 10
  metrics:
${metrics}
`;
const CPU50 = '  - {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}';

async function condition(p: Plane, name: string, type: string): Promise<any> {
  const h = await getJson(p, ['-n', NS, 'get', 'hpa', name]);
  return h.status?.conditions?.find((c: any) => c.type === type);
}

before(async () => {
  if (skip) return;
  plane = await startPlane(OPTS);
  if (!plane) return;
  await plane.kubectl(['create', 'namespace', NS]);
  await setUsage(plane, NS, '50m'); // 50 % of request = the target: 3 replicas stay 3
  await plane.apply(deployment('web', 3) + '---\n' + hpa('web', 'web', CPU50), NS);
  await plane.apply(deployment('tmp', 1) + '---\n' + hpa('tmp', 'tmp', CPU50), NS);
  await plane.apply(hpa('badkind', 'x', CPU50, 'apiVersion: example.com/v1, kind: NoSuchKind'), NS);
  await plane.apply(deployment('custom', 1) + '---\n' + hpa('nomap', 'custom', '  - {type: Pods, pods: {metric: {name: queue_depth}, target: {type: AverageValue, averageValue: "10"}}}'), NS);
  ctl = await startController(plane, ['--mode', 'active', '--sync-period', '2s', '--downscale-stabilization', '5s']);
}, { timeout: 300_000 });

after(async () => {
  const code = await ctl?.stop();
  if (ctl && code !== 0 && code !== null) process.stderr.write(ctl.output().slice(-4000));
  await plane?.stop();
}, { timeout: 120_000 });

test('invalid objects: unknown target kind, unmapped Pods metric, deleted target -> condition + event', { skip, timeout: 180_000 }, async () => {
  const p = plane!;
  const bad = await until('badkind: AbleToScale=False', async () => { const c = await condition(p, 'badkind', 'AbleToScale'); return c?.status === 'False' ? c : undefined; }, 60_000, 1000);
  assert.equal(bad.reason, 'FailedGetScale');
  assert.match(bad.message, /^the HPA controller was unable to get the target's current scale: unable to determine resource for scale target reference: no matches for kind "NoSuchKind" in group "example.com"/);
  assert.ok((await events(p, NS, 'badkind')).some((e) => e.type === 'Warning' && e.reason === 'FailedGetScale'));

  const nomap = await until('nomap: ScalingActive=False', async () => { const c = await condition(p, 'nomap', 'ScalingActive'); return c?.status === 'False' ? c : undefined; }, 60_000, 1000);
  assert.equal(nomap.reason, 'FailedGetPodsMetric');
  assert.match(nomap.message, /^the HPA was unable to compute the replica count: unable to get metric queue_depth: no PromQL for metric "queue_depth"/);
  const ev = await events(p, NS, 'nomap');
  assert.ok(ev.some((e) => e.reason === 'FailedGetPodsMetric'), JSON.stringify(ev));
  assert.equal(await specReplicas(p, NS, 'custom'), 1, 'no scaling without a valid metric');

  await until('tmp: status written', async () => (await condition(p, 'tmp', 'AbleToScale'))?.status === 'True', 60_000, 1000);
  await p.kubectl(['-n', NS, 'delete', 'deployment', 'tmp', '--wait=true']);
  const gone = await until('tmp: FailedGetScale', async () => { const c = await condition(p, 'tmp', 'AbleToScale'); return c?.status === 'False' ? c : undefined; }, 60_000, 1000);
  assert.equal(gone.reason, 'FailedGetScale');
  assert.equal(gone.message, `the HPA controller was unable to get the target's current scale: deployments.apps "tmp" not found`);
  const tev = await events(p, NS, 'tmp');
  assert.ok(tev.some((e) => e.type === 'Warning' && e.reason === 'FailedGetScale' && e.message === 'deployments.apps "tmp" not found'), JSON.stringify(tev));
  // repeated failures aggregate into one Event with a count, as client-go's correlator does
  await until('FailedGetScale counted', async () => ((await events(p, NS, 'tmp')).find((e) => e.reason === 'FailedGetScale')?.count ?? 0) >= 2, 30_000, 1000);
});

test('an HPA deleted while Tide syncs it is forgotten; the controller keeps going', { skip, timeout: 120_000 }, async () => {
  const p = plane!;
  await p.apply(deployment('brief', 2) + '---\n' + hpa('brief', 'brief', CPU50), NS);
  await until('brief synced', async () => ((await ctl!.hpa(NS, 'brief'))?.syncs ?? 0) >= 2, 30_000, 300);
  await p.kubectl(['-n', NS, 'delete', 'hpa', 'brief']);
  await until('brief forgotten', async () => (await ctl!.hpa(NS, 'brief')) === undefined, 30_000, 300);
  const rounds = (await ctl!.api()).rounds;
  await until('2 more rounds', async () => (await ctl!.api()).rounds >= rounds + 2, 30_000, 300);
  assert.equal(ctl!.proc.exitCode, null);
  assert.equal(await specReplicas(p, NS, 'brief'), 2, 'the target is left as it was');
  assert.doesNotMatch(ctl!.output(), /sync failed|sync round failed/);
});

test('kube-apiserver stopped and restarted: reconnect, re-list, no crash, no spurious scaling', { skip, timeout: 240_000 }, async () => {
  const p = plane!;
  await until('web: ScalingActive=True (metrics for every pod)', async () => (await condition(p, 'web', 'ScalingActive'))?.status === 'True', 120_000, 1000);
  assert.equal(await specReplicas(p, NS, 'web'), 3);
  const before = await ctl!.api();
  const rescalesBefore = (await events(p, NS, 'web')).filter((e) => e.reason === 'SuccessfulRescale').length;
  await p.stopComponent('kube-apiserver');
  const down = await until('controller notices (not ready)', async () => { const a = await ctl!.api(); return a.ready ? undefined : a; }, 60_000, 300);
  assert.equal(down.ready, false);
  await new Promise((r) => setTimeout(r, 3000));
  await p.startComponent('kube-apiserver');
  const up = await until('controller ready again', async () => { const a = await ctl!.api(); return a.ready ? a : undefined; }, 120_000, 500);
  assert.ok(up.informers.hpa.lists > before.informers.hpa.lists, 'HPA informer re-listed');
  assert.ok(up.informers.pods.lists > before.informers.pods.lists, 'pod informer re-listed');
  await until('3 rounds after the restart', async () => (await ctl!.api()).rounds >= up.rounds + 3, 60_000, 500);
  assert.equal(ctl!.proc.exitCode, null, 'no crash');
  assert.equal(await specReplicas(p, NS, 'web'), 3, 'no spurious scaling');
  assert.equal((await events(p, NS, 'web')).filter((e) => e.reason === 'SuccessfulRescale').length, rescalesBefore);
  const recs = decisionsOf(ctl!.decisions).filter((r) => r.autoscaler === 'web');
  assert.ok(recs.every((r) => !r.rescale), 'no decision to rescale web at any point');
});

test('metrics-server down: no scale-down, ScalingActive=False as upstream; back: scales down', { skip, timeout: 240_000 }, async () => {
  const p = plane!;
  await p.stopComponent('metrics-server');
  await setUsage(p, NS, '10m'); // would be 10 %: a scale-down to 1 once metrics are back
  const c = await until('ScalingActive=False', async () => { const x = await condition(p, 'web', 'ScalingActive'); return x?.status === 'False' ? x : undefined; }, 90_000, 1000);
  assert.equal(c.reason, 'FailedGetResourceMetric');
  assert.match(c.message, /^the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: /);
  assert.ok((await events(p, NS, 'web')).some((e) => e.type === 'Warning' && e.reason === 'FailedGetResourceMetric'));
  const rounds = (await ctl!.api()).rounds;
  await until('3 more rounds', async () => (await ctl!.api()).rounds >= rounds + 3, 60_000, 500);
  assert.equal(await specReplicas(p, NS, 'web'), 3, 'no scale-down without metrics');
  const table = await p.kubectl(['-n', NS, 'get', 'hpa', 'web']);
  assert.match(table, /web\s+Deployment\/web\s+cpu: <unknown>\/50%\s+1\s+10\s+3/, table);

  await p.startComponent('metrics-server');
  await until('scaled down to 1 once metrics are back', async () => (await specReplicas(p, NS, 'web')) === 1, 150_000, 1000);
  assert.equal((await condition(p, 'web', 'ScalingActive'))?.status, 'True');
});
