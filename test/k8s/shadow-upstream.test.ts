// E2E (3): Tide in shadow mode next to the real upstream HPA controller (kube-controller-manager's
// HPA controller on, 5 s sync, metrics-server at 10 s resolution). CPU usage is driven per namespace
// through a kwok ClusterResourceUsage in steps (0.8 -> 1.6 -> 0.4 of the target, away from rounding
// edges). At each quiescent point (every pod shows the new value in metrics.k8s.io and the replicas
// held for two syncs) Tide's recommendation must equal upstream's status.desiredReplicas, and the
// replica sequence must be 1 -> 2 -> 4 -> 2 -> 1. Tide never writes that HPA or its target.
// A second HPA annotated tide.dev/mode: active next to the upstream controller shows that Tide stops
// acting (condition + event) instead of fighting it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { planeSkip, startPlane, type Plane } from '../support/k8s-plane.ts';
import { events, getJson, podCpu, setUsage, specReplicas, startController, until, type RunningController } from './helpers.ts';

const OPTS = { metrics: true, kwokCrds: true, upstreamHpa: true, hpaSync: '5s', metricResolution: '10s' };
const skip = planeSkip(OPTS);
let plane: Plane | null = null;
let ctl: RunningController | undefined;
const NS = 'shadow';
const FIGHT = 'fight';

const app = (name: string, annotations = '') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: main
        image: example.invalid/model-server:1
        resources: {requests: {cpu: 100m, memory: 64Mi}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: ${name}
${annotations}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: ${name}}
  minReplicas: 1
  maxReplicas: 4
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleUp: {stabilizationWindowSeconds: 0, policies: [{type: Percent, value: 900, periodSeconds: 5}]}
    scaleDown: {stabilizationWindowSeconds: 0, policies: [{type: Percent, value: 100, periodSeconds: 5}]}
`;

before(async () => {
  if (skip) return;
  plane = await startPlane(OPTS);
  if (!plane) return;
  for (const ns of [NS, FIGHT]) {
    await plane.kubectl(['create', 'namespace', ns]);
    await setUsage(plane, ns, '40m');
  }
  await plane.apply(app('app'), NS);
  ctl = await startController(plane, ['--mode', 'shadow', '--sync-period', '5s']);
}, { timeout: 300_000 });

after(async () => {
  await ctl?.stop();
  await plane?.stop();
}, { timeout: 120_000 });

/** Quiescent: every pod's metrics show `cpu` (±10 %) and spec.replicas held for 2 upstream syncs. */
async function quiescent(p: Plane, cpu: number): Promise<number> {
  let last = -1;
  let since = Date.now();
  return until(`quiescent at ${cpu}m`, async () => {
    const n = await specReplicas(p, NS, 'app');
    if (n !== last) { last = n; since = Date.now(); return undefined; }
    const m = await podCpu(p, NS, 'app=app');
    const pods = await getJson(p, ['-n', NS, 'get', 'pods', '-l', 'app=app']);
    const live = pods.items.filter((x: any) => !x.metadata.deletionTimestamp).map((x: any) => x.metadata.name);
    if (live.length !== n) { since = Date.now(); return undefined; }
    if (!live.every((name: string) => m.has(name) && Math.abs(m.get(name)! - cpu) <= cpu * 0.1)) { since = Date.now(); return undefined; }
    return Date.now() - since >= 10_000 ? n : undefined;
  }, 150_000, 1000);
}

/** Tide's recommendation from a sync after `t`, with upstream's desiredReplicas at that sync. */
async function tideAfter(t: number): Promise<{ tide: number; upstream: number | undefined }> {
  return until('a Tide shadow sync after the quiescent point', async () => {
    const h = await ctl!.hpa(NS, 'app');
    return h?.shadow && Date.parse(h.shadow.at) > t ? h.shadow : undefined;
  }, 30_000, 500);
}

test('shadow: Tide agrees with the upstream HPA controller at every quiescent point (1 -> 2 -> 4 -> 2 -> 1)', { skip, timeout: 540_000 }, async () => {
  const p = plane!;
  // the replica sequence, as `kubectl get deployment -w` streams it (own process group, ended below)
  const seen: number[] = [];
  const watch = spawn(join(p.bin, 'kubectl'), ['--kubeconfig', p.kubeconfig, '-n', NS, 'get', 'deployment', 'app', '-w', '-o', 'jsonpath={.spec.replicas}{"\\n"}'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  let buf = '';
  watch.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const n = Number(buf.slice(0, i));
      buf = buf.slice(i + 1);
      if (Number.isInteger(n) && n > 0 && seen[seen.length - 1] !== n) seen.push(n);
    }
  });
  try {
    const steps = [
      { cpu: 40, final: 1 },   // 0.8 of target: stays at 1
      { cpu: 80, final: 4 },   // 1.6: 1 -> 2 -> 4 (maxReplicas), the second step gated by the new pod's metrics
      { cpu: 20, final: 1 },   // 0.4: 4 -> 2 -> 1
    ];
    const results: { cpu: number; replicas: number; tide: number; upstream: number | undefined }[] = [];
    for (const step of steps) {
      if (step.cpu !== 40) await setUsage(p, NS, `${step.cpu}m`);
      for (;;) {
        const n = await quiescent(p, step.cpu);
        const q = Date.now();
        const hpa = await getJson(p, ['-n', NS, 'get', 'hpa', 'app']);
        const s = await tideAfter(q);
        results.push({ cpu: step.cpu, replicas: n, tide: s.tide, upstream: hpa.status.desiredReplicas });
        assert.equal(s.upstream, hpa.status.desiredReplicas, 'Tide compared against the status upstream wrote');
        assert.equal(s.tide, hpa.status.desiredReplicas, `at ${step.cpu}m with ${n} replicas: Tide ${s.tide}, upstream ${hpa.status.desiredReplicas}`);
        if (n === step.final) break;
      }
    }
    const h0 = await ctl!.hpa(NS, 'app');
    process.stdout.write(`# shadow agreement: quiescent points ${results.length}/${results.length}; all syncs ${h0.agreements}/${h0.agreements + h0.disagreements} = ${(100 * h0.agreements / (h0.agreements + h0.disagreements)).toFixed(1)} %\n# ${JSON.stringify(results)}\n`);
  } finally {
    try { process.kill(-watch.pid!, 'SIGTERM'); } catch { /* gone */ }
  }
  assert.deepEqual(seen, [1, 2, 4, 2, 1]);
  // Tide wrote nothing to the HPA: every status writer is kube-controller-manager
  const hpa = await getJson(p, ['-n', NS, 'get', 'hpa', 'app', '--show-managed-fields']);
  const statusWriters = hpa.metadata.managedFields.filter((m: any) => m.subresource === 'status').map((m: any) => m.manager);
  assert.deepEqual([...new Set(statusWriters)], ['kube-controller-manager']);
  const dep = await getJson(p, ['-n', NS, 'get', 'deployment', 'app', '--show-managed-fields']);
  assert.ok(!dep.metadata.managedFields.some((m: any) => m.manager === 'tide-controller'));
  // its recommendation is published as Events and as metrics
  const ev = await events(p, NS, 'app');
  assert.ok(ev.some((e) => e.reason === 'TideRecommendation' && /^Tide \(shadow\) recommends 4 replicas; upstream desired \d+: /.test(e.message)), JSON.stringify(ev.map((e) => e.message)));
  const metrics = await ctl!.metrics();
  assert.match(metrics, /tide_k8s_shadow_decisions_total\{namespace="shadow",hpa="app",result="agree"\} \d+/);
  const h = await ctl!.hpa(NS, 'app');
  const rate = h.agreements / (h.agreements + h.disagreements);
  assert.ok(rate > 0.5, `agreement over all syncs ${rate}`);
});

test('active next to the upstream HPA controller: Tide stops acting instead of fighting', { skip, timeout: 240_000 }, async () => {
  const p = plane!;
  await setUsage(p, FIGHT, '80m');
  await p.apply(app('web', '  annotations: {tide.dev/mode: active}'), FIGHT);
  const ev = await until('ConflictingController event', async () => (await events(p, FIGHT, 'web')).find((e) => e.reason === 'ConflictingController'), 180_000, 1000);
  assert.equal(ev.type, 'Warning');
  assert.match(ev.message, /^Tide stopped acting on this HPA: kube-controller-manager /);
  const h = await ctl!.hpa(FIGHT, 'web');
  assert.match(h.halted, /kube-controller-manager/);
  // once halted, Tide makes no further scale or status writes
  const writes = (await ctl!.api()).requests['update scale'] ?? 0;
  const statusWrites = (await ctl!.api()).requests['update hpa status'] ?? 0;
  const rounds = (await ctl!.api()).rounds;
  await until('3 more rounds', async () => (await ctl!.api()).rounds >= rounds + 3, 60_000, 500);
  assert.equal((await ctl!.api()).requests['update scale'] ?? 0, writes);
  assert.equal((await ctl!.api()).requests['update hpa status'] ?? 0, statusWrites);
});
