// Several `tide controller` replicas on one real control plane (kube-controller-manager's own HPA
// controller off): a Lease elects one leader, only it writes; kill -9 of the leader while the load
// changes → a standby takes over, resumes each HPA from the memory the old leader left in the
// tide.dev/memory annotation, and the scale writes form one chain (none lost, none doubled, no
// flapping). The scale-down a stabilization window holds survives a second kill -9: the new leader
// scales down when the old window ends, not a whole window after taking over (which is what
// kube-controller-manager, forgetting its recommendations, would do). A KEDA ScaledObject (cpu
// trigger, the same behavior) goes through the same two kills side by side: its HPA part's memory
// is in the ScaledObject's own tide.dev/memory annotation.
// Conflicts on the same plane: two HPAs over the same pods → AmbiguousSelector as upstream; two
// autoscalers naming the same target without pods → ConflictingAutoscaler naming the other; neither
// scales. Assertions are on quiescent states and on the decision records' own times, not on speed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { planeSkip, startPlane, type Plane } from '../support/k8s-plane.ts';
import { join } from 'node:path';
import { decisionsOf, events, getJson, podCpu, ROOT, setUsage, specReplicas, startController, until, type RunningController } from './helpers.ts';

const OPTS = { metrics: true, kwokCrds: true, metricResolution: '10s' };
const skip = planeSkip(OPTS);
let plane: Plane | null = null;
const running: RunningController[] = [];
const NS = 'ha';
const CNS = 'conflict';
const KNS = 'ha-keda';
const LEASE = { duration: 8_000, renew: 6_000, retry: 1_000 };
const WINDOW_S = 60;
const UP_PERIOD_S = 15;
const HA_ARGS = ['--mode', 'active', '--sync-period', '2s', '--leader-elect', '--leader-elect-lease-duration', `${LEASE.duration / 1000}s`,
  '--leader-elect-renew-deadline', `${LEASE.renew / 1000}s`, '--leader-elect-retry-period', `${LEASE.retry / 1000}s`, '--leader-elect-resource-namespace', 'tide-system'];

const app = (ns: string, name: string, labels: Record<string, string>, selector: Record<string, string>, replicas = 1) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: ${JSON.stringify(selector)}}
  template:
    metadata: {labels: ${JSON.stringify(labels)}}
    spec:
      containers:
      - {name: app, image: example.com/app:1, resources: {requests: {cpu: 100m}}}
`;
const hpa = (ns: string, name: string, target: string, behavior = '') => `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: ${name}, namespace: ${ns}}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: ${target}}
  minReplicas: 1
  maxReplicas: 6
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 20}}
${behavior}`;

before(async () => {
  if (skip) return;
  plane = await startPlane(OPTS);
  if (!plane) return;
  for (const ns of [NS, CNS, KNS]) await plane.kubectl(['create', 'namespace', ns]);
  await plane.kubectl(['apply', '-f', join(ROOT, 'deploy/kubernetes/crds')]);
  await setUsage(plane, NS, '80m'); // 80 % of request vs a 20 % target: scale up to maxReplicas, one pod per period
  await setUsage(plane, KNS, '80m');
  await setUsage(plane, CNS, '20m'); // at the target: nothing to do before the conflicts are known (upstream learns a selector at an HPA's first sync, too)
}, { timeout: 300_000 });

after(async () => {
  for (const c of running) await c.stop();
  await plane?.stop();
}, { timeout: 120_000 });

async function controller(args: string[]): Promise<RunningController> {
  const c = await startController(plane!, args);
  running.push(c);
  return c;
}

async function leading(c: RunningController): Promise<boolean> {
  try { return (await c.api()).leader?.leading === true; } catch { return false; }
}

/** kill -9 the controller's process group; resolves when it is gone. */
async function kill9(c: RunningController): Promise<void> {
  try { process.kill(-c.proc.pid!, 'SIGKILL'); } catch { /* gone */ }
  await until('the killed controller to exit', () => c.proc.exitCode !== null || c.proc.signalCode !== null, 10_000, 50);
}

/** From a kill, how long until `c` leads (polled every 100 ms). */
async function takeover(c: RunningController, killedAt: number): Promise<number> {
  await until('a standby to take over', () => leading(c), LEASE.duration * 4, 100);
  return Date.now() - killedAt;
}

test('conflicts: two HPAs over the same pods -> AmbiguousSelector as upstream; the same target without pods -> ConflictingAutoscaler naming the other; nothing scales', { skip, timeout: 240_000 }, async () => {
  const p = plane!;
  await p.apply(app(CNS, 'stable', { app: 'web' }, { app: 'web' }, 2));
  await p.apply(app(CNS, 'canary', { app: 'web', track: 'canary' }, { app: 'web', track: 'canary' }, 1));
  await p.apply(app(CNS, 'idle', { app: 'idle' }, { app: 'idle' }, 0));
  await p.apply(hpa(CNS, 'stable', 'stable') + '---\n' + hpa(CNS, 'canary', 'canary') + '---\n' + hpa(CNS, 'idle-a', 'idle') + '---\n' + hpa(CNS, 'idle-b', 'idle'));
  await until('pods of stable and canary exist', async () => (await getJson(p, ['-n', CNS, 'get', 'pods'])).items.length >= 3, 60_000, 500);
  const c = await controller(['--mode', 'active', '--sync-period', '2s']);
  const cond = async (name: string) => (await getJson(p, ['-n', CNS, 'get', 'hpa', name])).status?.conditions?.find((x: any) => x.type === 'ScalingActive');
  for (const name of ['stable', 'canary']) {
    const sa = await until(`${name}: ScalingActive=False AmbiguousSelector`, async () => { const x = await cond(name); return x?.reason === 'AmbiguousSelector' ? x : undefined; }, 60_000, 500);
    assert.equal(sa.status, 'False');
    const sel = name === 'stable' ? 'app=web' : 'app=web,track=canary';
    assert.equal(sa.message, `pods by selector ${sel} are controlled by more than one HPA (e.g. [${CNS}/canary ${CNS}/stable])`);
    const ev = await events(p, CNS, name);
    assert.ok(ev.some((e) => e.type === 'Warning' && e.reason === 'AmbiguousSelector' && e.message === sa.message), JSON.stringify(ev.map((e) => `${e.reason}: ${e.message}`)));
  }
  for (const [name, other] of [['idle-a', 'idle-b'], ['idle-b', 'idle-a']]) {
    const sa = await until(`${name}: ScalingActive=False ConflictingAutoscaler`, async () => { const x = await cond(name); return x?.reason === 'ConflictingAutoscaler' ? x : undefined; }, 60_000, 500);
    assert.equal(sa.message, `Deployment/idle is also the scale target of HorizontalPodAutoscaler ${CNS}/${other}: Tide does not act on a target claimed by more than one autoscaler`);
    const ev = await events(p, CNS, name);
    assert.ok(ev.some((e) => e.type === 'Warning' && e.reason === 'ConflictingAutoscaler' && e.message.includes(`${CNS}/${other}`)));
  }
  // quiescent: usage 4x the target, several more rounds, and nothing was scaled
  await setUsage(p, CNS, '80m');
  await until('every pod at 80m in metrics.k8s.io', async () => {
    const m = await podCpu(p, CNS, 'app');
    return m.size >= 3 && [...m.values()].every((v) => v > 70);
  }, 90_000, 1000);
  const r0 = (await c.api()).rounds;
  await until('3 more rounds', async () => (await c.api()).rounds >= r0 + 3, 30_000, 500);
  assert.equal(await specReplicas(p, CNS, 'stable'), 2);
  assert.equal(await specReplicas(p, CNS, 'canary'), 1);
  assert.equal(await specReplicas(p, CNS, 'idle'), 0);
  assert.equal(decisionsOf(c.decisions).filter((r) => r.inputs.policy.namespace === CNS && r.rescale).length, 0);
  // deleting one of the pair frees the other: it scales again
  await p.kubectl(['-n', CNS, 'delete', 'hpa', 'canary']);
  await until('stable scales once it is alone', async () => (await specReplicas(p, CNS, 'stable')) > 2, 90_000, 1000);
  await c.stop();
  running.splice(running.indexOf(c), 1);
});

const BEHAVIOR = `scaleUp:
  stabilizationWindowSeconds: 0
  policies: [{type: Pods, value: 1, periodSeconds: ${UP_PERIOD_S}}]
scaleDown:
  stabilizationWindowSeconds: ${WINDOW_S}
  policies: [{type: Percent, value: 100, periodSeconds: 15}]
`;
const indent = (text: string, n: number) => text.split('\n').map((l) => (l ? ' '.repeat(n) + l : l)).join('\n');
const scaledObject = `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: worker, namespace: ${KNS}}
spec:
  scaleTargetRef: {name: worker}
  minReplicaCount: 1
  maxReplicaCount: 6
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
${indent(BEHAVIOR, 8)}
  triggers:
  - type: cpu
    metricType: Utilization
    metadata: {value: "20"}
`;

/** A KEDA record's HPA-part metric proposal (null when the HPA part did not decide). */
const kedaMetricDesired = (r: any): number | null => r.details.hpa?.details?.metricDesiredReplicas ?? null;

test('failover: kill -9 the leader while it scales up, then while a 60 s window holds a scale-down; one chain of writes, the window survives (an HPA and a ScaledObject)', { skip, timeout: 600_000 }, async () => {
  const p = plane!;
  await p.apply(app(NS, 'web', { app: 'web' }, { app: 'web' }, 1));
  await p.apply(app(KNS, 'worker', { app: 'worker' }, { app: 'worker' }, 1));
  const gen0 = (await getJson(p, ['-n', NS, 'get', 'deployment', 'web'])).metadata.generation;
  const kgen0 = (await getJson(p, ['-n', KNS, 'get', 'deployment', 'worker'])).metadata.generation;
  const a = await controller(HA_ARGS);
  await until('a leads', () => leading(a), 60_000, 200);
  const b = await controller(HA_ARGS);
  await until('b is synced and a standby', async () => { const v = await b.api(); return v.ready && v.leader?.leading === false && v.leader?.leader === (await a.api()).leader?.identity; }, 60_000, 200);
  await p.apply(hpa(NS, 'web', 'web', `  behavior:\n${indent(BEHAVIOR, 4)}`));
  await p.apply(scaledObject);
  // only the leader decides and writes
  await until('a scaled 1 -> 2 -> 3', async () => (await specReplicas(p, NS, 'web')) >= 3, 120_000, 500);
  assert.equal(decisionsOf(b.decisions).length, 0, 'the standby decided nothing');
  const metrics = await b.metrics();
  assert.match(metrics, /^tide_k8s_leader 0$/m);

  // 1. kill -9 the leader in the middle of the scale-up
  let t = Date.now();
  await kill9(a);
  const took1 = await takeover(b, t);
  const c = await controller(HA_ARGS); // a new standby
  await until('b reaches maxReplicas 6', async () => (await specReplicas(p, NS, 'web')) === 6, 180_000, 500);
  await until('b reaches maxReplicaCount 6 for the ScaledObject', async () => (await specReplicas(p, KNS, 'worker')) === 6, 180_000, 500);
  assert.match(b.output(), /memory restored from the tide\.dev\/memory annotation/);
  const ann = (await getJson(p, ['-n', NS, 'get', 'hpa', 'web'])).metadata.annotations['tide.dev/memory'];
  assert.ok(ann && ann.length < 8192, ann);

  // 2. load falls; the 60 s window holds 6; kill -9 b while it holds
  await setUsage(p, NS, '2m');
  await setUsage(p, KNS, '2m');
  await until('b holds the scale-down with the window', () => decisionsOf(b.decisions).some((r) => r.inputs.policy.namespace === NS && r.currentReplicas === 6 && r.details.metricDesiredReplicas !== null && r.details.metricDesiredReplicas < 6 && r.desiredReplicas === 6 && r.limitedBy.includes('stabilization')), 120_000, 500);
  await until('b holds the ScaledObject\'s scale-down with the window', () => decisionsOf(b.decisions).some((r) => r.inputs.policy.namespace === KNS && r.currentReplicas === 6 && (kedaMetricDesired(r) ?? 6) < 6 && r.desiredReplicas === 6), 120_000, 500);
  await until('c is a synced standby', async () => { const v = await c.api(); return v.ready && v.leader?.leading === false; }, 60_000, 200);
  t = Date.now();
  await kill9(b);
  const took2 = await takeover(c, t);
  const cLeadsAt = Date.now();
  await until('c scales down to 1', async () => (await specReplicas(p, NS, 'web')) === 1, 180_000, 500);
  await until('c scales the ScaledObject\'s target down to 1', async () => (await specReplicas(p, KNS, 'worker')) === 1, 180_000, 500);
  assert.match(c.output(), /memory restored from the tide\.dev\/memory annotation/);

  // the scale writes, from every leader's decision records, in time order
  const recs = [a, b, c].flatMap((x, i) => decisionsOf(x.decisions).map((r) => ({ ...r, by: 'abc'[i] }))).filter((r) => r.inputs.policy.namespace === NS).sort((x, y) => x.now - y.now);
  const writes = recs.filter((r) => r.rescale);
  const chain = writes.map((r) => `${r.currentReplicas}->${r.desiredReplicas}(${r.by})`);
  assert.deepEqual(writes.map((r) => `${r.currentReplicas}->${r.desiredReplicas}`), ['1->2', '2->3', '3->4', '4->5', '5->6', '6->1'], chain.join(' '));
  const gen = (await getJson(p, ['-n', NS, 'get', 'deployment', 'web'])).metadata.generation;
  assert.equal(gen - gen0, writes.length, `every write recorded once: deployment generation +${gen - gen0}, ${writes.length} rescale records`);
  assert.ok(writes.some((r) => r.by === 'a') && writes.some((r) => r.by === 'b') && writes.at(-1)!.by === 'c', chain.join(' '));
  // the scale-up rate limit (1 pod per 15 s) held across the first failover: the scale events survived
  const ups = writes.slice(0, 5);
  for (let i = 1; i < ups.length; i++) assert.ok(ups[i]!.now - ups[i - 1]!.now >= UP_PERIOD_S * 1000 - 1, `scale-ups ${i} and ${i + 1} are ${ups[i]!.now - ups[i - 1]!.now} ms apart: ${chain.join(' ')}`);
  // the window survived the second failover: not before the last high recommendation + 60 s ...
  const lastHigh = recs.filter((r) => r.details.metricDesiredReplicas !== null && r.details.metricDesiredReplicas >= 6 && r.now < writes[5]!.now).at(-1)!;
  const down = writes[5]!;
  assert.ok(down.now >= lastHigh.now + WINDOW_S * 1000, `scale-down ${down.now - lastHigh.now} ms after the last high recommendation (window ${WINDOW_S} s)`);
  // ... and not a whole new window after the takeover (kube-controller-manager forgets, and starts one)
  assert.ok(down.now < cLeadsAt + WINDOW_S * 1000, `scale-down ${down.now - cLeadsAt} ms after c took over: it resumed the old window`);
  // the ScaledObject: the same chain, the same rate limit, the same surviving window
  const krecs = [a, b, c].flatMap((x, i) => decisionsOf(x.decisions).map((r) => ({ ...r, by: 'abc'[i] }))).filter((r) => r.inputs.policy.namespace === KNS).sort((x, y) => x.now - y.now);
  const kwrites = krecs.filter((r) => r.rescale);
  const kchain = kwrites.map((r) => `${r.currentReplicas}->${r.desiredReplicas}(${r.by})`);
  assert.deepEqual(kwrites.map((r) => `${r.currentReplicas}->${r.desiredReplicas}`), ['1->2', '2->3', '3->4', '4->5', '5->6', '6->1'], kchain.join(' '));
  const kgen = (await getJson(p, ['-n', KNS, 'get', 'deployment', 'worker'])).metadata.generation;
  assert.equal(kgen - kgen0, kwrites.length, `ScaledObject: deployment generation +${kgen - kgen0}, ${kwrites.length} rescale records`);
  assert.equal(kwrites.at(-1)!.by, 'c', kchain.join(' '));
  for (let i = 1; i < 5; i++) assert.ok(kwrites[i]!.now - kwrites[i - 1]!.now >= UP_PERIOD_S * 1000 - 1, `ScaledObject scale-ups ${i} and ${i + 1}: ${kchain.join(' ')}`);
  const klastHigh = krecs.filter((r) => (kedaMetricDesired(r) ?? 0) >= 6 && r.now < kwrites[5]!.now).at(-1)!;
  assert.ok(kwrites[5]!.now >= klastHigh.now + WINDOW_S * 1000, `ScaledObject scale-down ${kwrites[5]!.now - klastHigh.now} ms after its last high recommendation`);
  assert.ok(kwrites[5]!.now < cLeadsAt + WINDOW_S * 1000, `ScaledObject scale-down ${kwrites[5]!.now - cLeadsAt} ms after c took over: it resumed the old window`);
  assert.match(c.output(), /memory restored from the tide\.dev\/memory annotation.*ha-keda\/worker|ha-keda\/worker.*memory restored from the tide\.dev\/memory annotation/);
  const soAnn = (await getJson(p, ['-n', KNS, 'get', 'scaledobject', 'worker'])).metadata.annotations?.['tide.dev/memory'];
  assert.ok(soAnn && JSON.parse(soAnn).uid, soAnn);
  process.stderr.write(`failover (ScaledObject): writes ${kchain.join(' ')}; scale-down ${kwrites[5]!.now - klastHigh.now} ms after the last high recommendation, ${kwrites[5]!.now - cLeadsAt} ms after the takeover\n`);
  process.stderr.write(`failover: takeover ${took1} ms and ${took2} ms after kill -9 (lease ${LEASE.duration} ms, retry ${LEASE.retry} ms); writes ${chain.join(' ')}; scale-down ${down.now - lastHigh.now} ms after the last high recommendation, ${down.now - cLeadsAt} ms after the takeover; memory writes ${JSON.stringify((await c.metrics()).match(/^tide_k8s_memory_writes_total\{[^}]*\} \d+$/gm))}\n`);
  assert.ok(took1 <= LEASE.duration + 4 * LEASE.retry && took2 <= LEASE.duration + 4 * LEASE.retry, `takeovers ${took1} / ${took2} ms`);
});
