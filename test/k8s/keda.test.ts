// e2e on a real control plane: `tide controller` as the operator for a keda.sh/v1alpha1 ScaledObject
// (Tide's CRDs from deploy/kubernetes/crds/), with a real Redis on loopback that requires a password.
// The password exists only in a Secret, referenced by the target's container env (valueFrom
// secretKeyRef); a TriggerAuthentication maps that variable to the trigger's password (env), and the
// address comes from the same container env through addressFromEnv ($(VAR) expansion included).
// The RabbitMQ test below covers secretTargetRef through a ClusterTriggerAuthentication. The controller runs with ONLY the
// tide-controller ServiceAccount token (deploy/kubernetes RBAC) plus the per-namespace RoleBinding of
// tide-controller-secrets that deploy/kubernetes/22-secrets-rbac.yaml documents.
//
// Asserted at quiescent states (never on timing):
//   empty list, 1 replica → 0 (initialCooldownPeriod 0): KEDAScaleTargetDeactivated, status as KEDA writes it
//   20 items, listLength 5 → 0 → 1 (KEDAScaleTargetActivated) → ceil(20/5) = 4 (the HPA phase), Active=True
//   Redis stopped → KEDAScalerFailed, after failureThreshold 2 → fallback 2 replicas, Fallback=True, health Failing
//   Redis back + 20 items → 4, Fallback=False, health Happy; list deleted → the HPA phase takes
//   4 → 1 (its min) while cooling down, KEDA 1 → 0 once cooldownPeriod has passed; records replay
//   the password appears in no decision record, log line, Event or status
//   without the Secrets RoleBinding (another namespace): "cannot get resource secrets", Ready=False TriggerError
//   RabbitMQ queue, the AMQP URL (with its password) only in a Secret of tide-system through a
//   ClusterTriggerAuthentication: 12 messages, value 4 → 0 → 1 → 3; paused-replicas 1 → 1, Paused=True;
//   annotation removed → Paused=False ScaledObjectUnpaused, 3 again; purged → 0
//   two Prometheus triggers combined by scalingModifiers (a + b, target 10), minReplicaCount 1,
//   idleReplicaCount 0: inactive → 0 (idle), a=20 + b=15 → ceil(35/10) = 4, composite-metric status
//   ConfigMaps: a TriggerAuthentication's configMapTargetRef (the Redis username) + secretTargetRef
//   (the password), the address from container env made of envFrom configMapRef + configMapKeyRef:
//   12 items → 0 → 1 → ceil(12/5) = 3; a wrong username in the ConfigMap → KEDAScalerFailed
//   each keda.sh rule of the ClusterRole removed in turn → the apiserver's "cannot VERB resource …"
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { Redis } from 'ioredis';
import amqp from 'amqplib';
import { planeSkip, startPlane, until, type Plane } from '../support/k8s-plane.ts';
import { startPrometheus, startRabbitMQ, startRedis, type Service } from '../support/services.ts';
import { clusterRoleRules, setClusterRoleRules } from '../support/k8s-rbac.ts';
import { decisionsOf, getJson, ROOT, startController, type RunningController } from './helpers.ts';

const NS = 'keda-demo';
const DENIED = 'keda-denied';
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-s3cret`;
const skip = planeSkip({});

let plane: Plane | null = null;
let redis: Service | null = null;
let rabbit: Service | null = null;
let prom: Service | null = null;
let exporter: Server | undefined;
const series = { a: 0, b: 0 };
let client: Redis | undefined;
let controller: RunningController | undefined;

function manifests(ns: string, port: number, fallback: boolean): string {
  return `apiVersion: v1
kind: Secret
metadata: {name: redis-auth, namespace: ${ns}}
stringData: {password: "${PASSWORD}"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: ${ns}}
spec:
  replicas: 1
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers:
      - name: worker
        image: example.com/worker:1
        env:
        - {name: REDIS_HOST, value: "127.0.0.1"}
        - {name: REDIS_ADDRESS, value: "$(REDIS_HOST):${port}"}
        - name: REDIS_PASSWORD
          valueFrom: {secretKeyRef: {name: redis-auth, key: password}}
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata: {name: redis-auth, namespace: ${ns}}
spec:
  env:
  - {parameter: password, name: REDIS_PASSWORD}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: worker, namespace: ${ns}}
spec:
  scaleTargetRef: {name: worker}
  pollingInterval: 1
  cooldownPeriod: 6
  minReplicaCount: 0
  maxReplicaCount: 10
${fallback ? '  fallback: {failureThreshold: 2, replicas: 2}\n' : ''}  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown: {stabilizationWindowSeconds: 0}
  triggers:
  - type: redis
    metadata: {listName: jobs, listLength: "5", addressFromEnv: REDIS_ADDRESS}
    authenticationRef: {name: redis-auth}
`;
}

async function replicas(ns = NS): Promise<number> {
  return Number(await plane!.kubectl(['-n', ns, 'get', 'deployment', 'worker', '-o', 'jsonpath={.spec.replicas}']));
}

async function so(ns = NS): Promise<any> {
  return getJson(plane!, ['-n', ns, 'get', 'scaledobject', 'worker']);
}

/** A Deployment `worker` (its container: `container` lines, default no env) and a ScaledObject `worker` with the given spec lines. */
function workload(ns: string, replicasN: number, soSpec: string, container = '      - {name: worker, image: example.com/worker:1}\n'): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: ${ns}}
spec:
  replicas: ${replicasN}
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers:
${container}---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: worker, namespace: ${ns}}
spec:
  scaleTargetRef: {name: worker}
${soSpec}`;
}

function cond(o: any, type: string): { status: string; reason?: string; message?: string } | undefined {
  return o.status?.conditions?.find((c: { type: string }) => c.type === type);
}

async function soEvents(ns = NS): Promise<{ reason: string; message: string; type: string; count?: number; source?: { component?: string } }[]> {
  return (await getJson(plane!, ['-n', ns, 'get', 'events', '--field-selector', 'involvedObject.kind=ScaledObject,involvedObject.name=worker'])).items;
}

async function waitEvent(reason: string, message: RegExp, ns = NS): Promise<{ reason: string; message: string }> {
  return until(`event ${reason} ${message}`, async () => (await soEvents(ns)).find((e) => e.reason === reason && message.test(e.message)), 90_000, 500);
}

/** The replicas settle at n (the same for 3 s of 1 s polls). */
async function settlesAt(n: number, what: string, ns = NS): Promise<void> {
  await until(what, async () => (await replicas(ns)) === n, 120_000, 300);
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await replicas(ns), n, `${what}: stays at ${n}`);
  }
}

before(async () => {
  if (skip) return;
  exporter = createServer((_req, res) => res.end(`# TYPE tide_keda_a gauge\ntide_keda_a ${series.a}\n# TYPE tide_keda_b gauge\ntide_keda_b ${series.b}\n`));
  await new Promise<void>((r) => exporter!.listen(0, '127.0.0.1', r));
  let planeP: Promise<Plane | null> | undefined;
  [redis, rabbit, prom] = await Promise.all([
    startRedis({ password: PASSWORD }), startRabbitMQ(), startPrometheus([`127.0.0.1:${(exporter.address() as { port: number }).port}`]),
    (planeP = startPlane({})).then(() => null),
  ]) as [Service | null, Service | null, Service | null, null];
  plane = await planeP;
  assert.ok(redis, 'redis-server is installed (sudo bash .ci/install-services.sh)');
  assert.ok(rabbit, 'rabbitmq-server is installed (sudo bash .ci/install-services.sh)');
  assert.ok(prom, 'prometheus is installed (sudo bash .ci/install-services.sh)');
  client = new Redis({ host: '127.0.0.1', port: redis.port, password: PASSWORD, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
  client.on('error', () => {});
  await client.connect();
  if (!plane) return;
  await plane.kubectl(['apply', '-f', join(ROOT, 'deploy/kubernetes/crds')]);
  await until('keda.sh CRDs established', async () => {
    const out = await plane!.kubectl(['get', 'crd', 'scaledobjects.keda.sh', 'triggerauthentications.keda.sh', 'clustertriggerauthentications.keda.sh', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Established")].status}{" "}{end}']);
    return out.trim() === 'True True True';
  }, 60_000, 500);
  for (const ns of [NS, DENIED, 'keda-rabbit', 'keda-prom', 'keda-config']) await plane.kubectl(['create', 'namespace', ns]);
  // what an admin does for a namespace whose ScaledObjects use Secrets (deploy/kubernetes/22-secrets-rbac.yaml)
  for (const ns of [NS, 'keda-config']) await plane.kubectl(['-n', ns, 'create', 'rolebinding', 'tide-controller-secrets', '--clusterrole=tide-controller-secrets', '--serviceaccount=tide-system:tide-controller']);
  // with only the tide-controller ServiceAccount token (helpers.ts applies deploy/kubernetes/)
  controller = await startController(plane, ['--mode', 'active', '--sync-period', '2s']);
}, { timeout: 400_000 });

after(async () => {
  await controller?.stop();
  client?.disconnect();
  await redis?.dispose();
  await rabbit?.dispose();
  await prom?.dispose();
  exporter?.close();
  await plane?.stop();
});

test('Redis list ScaledObject, password only in a Secret: 1 → 0, 0 → 1 → 4, fallback on an outage, recovery, 0 after cooldown', { skip, timeout: 600_000 }, async () => {
  if (!plane) return;
  await plane.apply(manifests(NS, redis!.port, true));

  // empty list: the initial cooldown (0) is over at once → 0
  await settlesAt(0, 'empty list: 1 -> 0');
  await waitEvent('KEDAScaleTargetDeactivated', /^Deactivated Deployment keda-demo\/worker from 1 to 0$/);
  let o = await until('status written', async () => { const x = await so(); return cond(x, 'Active')?.status === 'False' ? x : null; }, 60_000, 500);
  assert.equal(o.status.scaleTargetKind, 'apps/v1.Deployment');
  assert.deepEqual(o.status.scaleTargetGVKR, { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments' });
  assert.equal(o.status.originalReplicaCount, 1);
  assert.deepEqual(o.status.externalMetricNames, ['s0-redis-jobs']);
  assert.equal(o.status.triggersTypes, 'redis');
  assert.equal(o.status.authenticationsTypes, 'redis-auth');
  assert.deepEqual(o.status.conditions.map((c: { type: string }) => c.type), ['Ready', 'Active', 'Fallback', 'Paused']);
  assert.deepEqual(cond(o, 'Ready'), { type: 'Ready', status: 'True', reason: 'ScaledObjectReady', message: 'ScaledObject is defined correctly and is ready for scaling' });
  assert.equal(cond(o, 'Fallback')?.status, 'False');
  assert.equal(cond(o, 'Paused')?.status, 'False');
  assert.deepEqual(o.status.health, { 's0-redis-jobs': { numberOfFailures: 0, status: 'Happy' } });
  const started = await soEvents();
  assert.ok(started.some((e) => e.reason === 'KEDAScalersStarted' && e.message === 'Scaler redis is built'), JSON.stringify(started));
  assert.ok(started.some((e) => e.reason === 'ScaledObjectReady' && e.message === 'ScaledObject is ready for scaling'));
  assert.ok(started.every((e) => e.source?.component === 'tide-controller'));
  // kubectl's printer columns of the CRD
  const row = await plane.kubectl(['-n', NS, 'get', 'so', 'worker']);
  assert.match(row, /worker\s+apps\/v1\.Deployment\s+worker\s+0\s+10\s+True\s+False\s+False\s+False\s+redis\s+redis-auth\s+/);

  // 20 items, listLength 5: KEDA activates 0 → 1, its HPA takes 1 → ceil(20/5) = 4
  await client!.rpush('jobs', ...Array.from({ length: 20 }, (_, i) => `job-${i}`));
  await waitEvent('KEDAScaleTargetActivated', /^Scaled Deployment keda-demo\/worker from 0 to 1, triggered by s0-redis-jobs$/);
  await settlesAt(4, '20 items: -> 4');
  o = await so();
  assert.equal(cond(o, 'Active')?.status, 'True');
  assert.equal(cond(o, 'Active')?.reason, 'ScalerActive');
  assert.ok(Date.parse(o.status.lastActiveTime) > Date.now() - 60_000, o.status.lastActiveTime);
  assert.deepEqual(o.status.triggersActivity, { 's0-redis-jobs': { isActive: true } });
  const recs = decisionsOf(controller!.decisions).filter((r) => r.decider === 'keda');
  assert.ok(recs.some((r) => r.currentReplicas === 0 && r.desiredReplicas === 1 && r.details.phase === 'activation'), 'a 0 -> 1 activation record');
  assert.ok(recs.some((r) => r.currentReplicas === 1 && r.desiredReplicas === 4 && r.details.phase === 'hpa'), 'a 1 -> 4 HPA record');

  // outage: errors, then after failureThreshold (2) the fallback's 2 replicas
  await redis!.stop();
  await waitEvent('KEDAScalerFailed', new RegExp(`redis 127\\.0\\.0\\.1:${redis!.port}`));
  await settlesAt(2, 'redis down: fallback -> 2');
  o = await so();
  assert.equal(cond(o, 'Fallback')?.status, 'True');
  assert.equal(cond(o, 'Fallback')?.reason, 'FallbackExists');
  assert.equal(o.status.health['s0-redis-jobs'].status, 'Failing');
  assert.ok(o.status.health['s0-redis-jobs'].numberOfFailures > 2);
  await waitEvent('ScaledObjectFallbackActivated', /^Scaled object fallback activated$/);

  // recovery: Redis back (empty: no persistence) and 20 items again → 4, health Happy
  await redis!.restart();
  await until('client reconnected', async () => { try { return (await client!.rpush('jobs', ...Array.from({ length: 20 }, (_, i) => `job-${i}`))) > 0; } catch { return false; } }, 30_000, 200);
  await settlesAt(4, 'redis back, 20 items: -> 4');
  o = await until('fallback off', async () => { const x = await so(); return cond(x, 'Fallback')?.status === 'False' ? x : null; }, 60_000, 500);
  assert.deepEqual(o.status.health, { 's0-redis-jobs': { numberOfFailures: 0, status: 'Happy' } });
  await waitEvent('ScaledObjectFallbackDeactivated', /^Scaled object fallback deactivated$/);

  // drained → not active → 0 once cooldownPeriod (6 s) has passed since the last active poll
  await client!.del('jobs');
  await settlesAt(0, 'drained: -> 0 after cooldown');
  // while cooling down the generated HPA (min 1, scale-down window 0 here) takes 4 -> 1; KEDA then 1 -> 0
  await waitEvent('KEDAScaleTargetDeactivated', /^Deactivated Deployment keda-demo\/worker from 1 to 0$/);
  o = await so();
  assert.equal(cond(o, 'Active')?.status, 'False');
  const all = decisionsOf(controller!.decisions).filter((r) => r.decider === 'keda');
  const down = all.filter((r) => r.currentReplicas === 4 && r.desiredReplicas === 1);
  assert.ok(down.length >= 1 && down[0].details.phase === 'hpa' && down[0].limitedBy.includes('cooldown'), 'a 4 -> 1 HPA record during the cooldown');
  const off = all.filter((r) => r.currentReplicas === 1 && r.desiredReplicas === 0 && r.details.phase === 'deactivation');
  assert.ok(off.length >= 2, 'the 1 -> 0 deactivation records (initial and after the drain)');
  const afterDown = all.filter((r) => r.time > down[0].time && r.time < off[off.length - 1].time);
  assert.ok(afterDown.length >= 1 && afterDown.every((r) => r.details.cooldownUntil !== undefined && r.desiredReplicas === 1), 'held at 1 by the cooldown until it expired');

  // the records replay through the same decider
  const v = spawnSync(process.execPath, [join(ROOT, 'bin/tide.js'), 'decide', controller!.decisions, '--verify'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(v.status, 0, `${v.stdout}\n${v.stderr}`);

  // the password was used (Redis requires it) and is nowhere Tide writes
  const everything = [
    readFileSync(controller!.decisions, 'utf8'),
    controller!.output(),
    JSON.stringify(await soEvents()),
    JSON.stringify(await so()),
    JSON.stringify(await (await fetch(`${controller!.url}/api/scaledobjects`)).json()),
  ].join('\n');
  assert.ok(everything.length > 1000);
  assert.equal(everything.includes(PASSWORD), false, 'the Redis password leaked');
  assert.doesNotMatch(controller!.output(), /forbidden/i);
});

test('without the Secrets RoleBinding: the trigger fails naming the missing permission, Ready=False TriggerError, no scaling', { skip, timeout: 180_000 }, async () => {
  if (!plane) return;
  await plane.apply(manifests(DENIED, redis!.port, false));
  const e = await waitEvent('KEDAScalerFailed', /error resolving secret name redis-auth for env REDIS_PASSWORD in namespace keda-denied: .*cannot get resource "secrets" in API group "" in the namespace "keda-denied"/, DENIED);
  assert.equal(e.message.includes(PASSWORD), false);
  const o = await until('Ready=False', async () => { const x = await so(DENIED); return cond(x, 'Ready')?.status === 'False' ? x : null; }, 60_000, 500);
  assert.equal(cond(o, 'Ready')?.reason, 'TriggerError');
  assert.equal(cond(o, 'Ready')?.message, 'Triggers defined in ScaledObject are not working correctly');
  assert.equal(await replicas(DENIED), 1, 'an erroring trigger never scales down');
});

test('RabbitMQ queue through a ClusterTriggerAuthentication (AMQP URL only in a Secret of tide-system); paused-replicas and unpause', { skip, timeout: 300_000 }, async () => {
  if (!plane) return;
  const ns = 'keda-rabbit';
  const url = `amqp://guest:guest@127.0.0.1:${rabbit!.port}/`;
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  try {
    await ch.assertQueue('tasks', { durable: false });
    // the ClusterTriggerAuthentication's Secret lives in the cluster object namespace (tide-system),
    // readable through deploy/kubernetes/22-secrets-rbac.yaml's RoleBinding there
    await plane.apply(`apiVersion: v1
kind: Secret
metadata: {name: rabbit-conn, namespace: tide-system}
stringData: {host: "${url}"}
---
apiVersion: keda.sh/v1alpha1
kind: ClusterTriggerAuthentication
metadata: {name: rabbit-conn}
spec:
  secretTargetRef:
  - {parameter: host, name: rabbit-conn, key: host}
`);
    await plane.apply(workload(ns, 0, `  pollingInterval: 1
  cooldownPeriod: 4
  maxReplicaCount: 10
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown: {stabilizationWindowSeconds: 0}
  triggers:
  - type: rabbitmq
    metadata: {queueName: tasks, mode: QueueLength, value: "4"}
    authenticationRef: {name: rabbit-conn, kind: ClusterTriggerAuthentication}
`));
    await until('Ready', async () => cond(await so(ns), 'Ready')?.status === 'True', 60_000, 500);
    assert.equal(await replicas(ns), 0);
    for (let i = 0; i < 12; i++) ch.sendToQueue('tasks', Buffer.from(`task-${i}`));
    await waitEvent('KEDAScaleTargetActivated', /^Scaled Deployment keda-rabbit\/worker from 0 to 1, triggered by s0-rabbitmq-tasks$/, ns);
    await settlesAt(3, '12 messages, value 4: -> 3', ns);
    let o = await so(ns);
    assert.equal(o.status.authenticationsTypes, 'rabbit-conn');
    assert.deepEqual(o.status.externalMetricNames, ['s0-rabbitmq-tasks']);

    // paused-replicas: scale to 1 and stop polling
    await plane.kubectl(['-n', ns, 'annotate', 'scaledobject', 'worker', 'autoscaling.keda.sh/paused-replicas=1']);
    await settlesAt(1, 'paused-replicas 1', ns);
    o = await until('Paused=True', async () => { const x = await so(ns); return cond(x, 'Paused')?.status === 'True' ? x : null; }, 60_000, 500);
    assert.deepEqual(cond(o, 'Paused'), { type: 'Paused', status: 'True', reason: 'ScaledObjectPaused', message: 'ScaledObject is paused' });
    assert.equal(o.status.pausedReplicaCount, 1);
    await waitEvent('ScaledObjectPaused', /^ScaledObject is paused$/, ns);

    // unpaused: polling again, back to 3
    await plane.kubectl(['-n', ns, 'annotate', 'scaledobject', 'worker', 'autoscaling.keda.sh/paused-replicas-']);
    await settlesAt(3, 'unpaused: -> 3', ns);
    o = await until('Paused=False', async () => { const x = await so(ns); return cond(x, 'Paused')?.status === 'False' ? x : null; }, 60_000, 500);
    assert.deepEqual(cond(o, 'Paused'), { type: 'Paused', status: 'False', reason: 'ScaledObjectUnpaused', message: 'pause annotation removed for ScaledObject' });
    assert.equal(o.status.pausedReplicaCount, undefined);
    await waitEvent('ScaledObjectUnpaused', /^pause annotation removed for ScaledObject$/, ns);

    await ch.purgeQueue('tasks');
    await settlesAt(0, 'purged: -> 0 after cooldown', ns);
    const everything = [readFileSync(controller!.decisions, 'utf8'), controller!.output(), JSON.stringify(await soEvents(ns)), JSON.stringify(await so(ns))].join('\n');
    assert.equal(everything.includes('guest:guest'), false, 'the AMQP URL with its password leaked');
  } finally {
    await ch.close().catch(() => {});
    await conn.close().catch(() => {});
  }
});

test('Prometheus triggers combined by scalingModifiers; minReplicaCount 1 with idleReplicaCount 0', { skip, timeout: 300_000 }, async () => {
  if (!plane) return;
  const ns = 'keda-prom';
  const trig = (name: string) => `  - type: prometheus
    name: ${name}
    metadata: {serverAddress: "http://127.0.0.1:${prom!.port}", query: "sum(tide_keda_${name})", threshold: "10"}
`;
  await plane.apply(workload(ns, 1, `  pollingInterval: 1
  cooldownPeriod: 3
  minReplicaCount: 1
  idleReplicaCount: 0
  maxReplicaCount: 10
  advanced:
    scalingModifiers: {formula: "a + b", target: "10", activationTarget: "1"}
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown: {stabilizationWindowSeconds: 0}
  triggers:
${trig('a')}${trig('b')}`));
  // composite 0 is not above the activation target 1: idle (0) once the initial cooldown (0) is over
  await settlesAt(0, 'inactive: -> idleReplicaCount 0', ns);
  series.a = 20;
  series.b = 15;
  // activation goes to minReplicaCount (1), the HPA phase to ceil((20 + 15) / 10) = 4
  await waitEvent('KEDAScaleTargetActivated', /^Scaled Deployment keda-prom\/worker from 0 to 1, triggered by composite-metric$/, ns);
  await settlesAt(4, 'a + b = 35, target 10: -> 4', ns);
  const o = await so(ns);
  assert.deepEqual(o.status.externalMetricNames, ['composite-metric']);
  assert.equal(o.status.compositeScalerName, 'composite-metric');
  assert.equal(o.status.triggersTypes, 'prometheus');
  assert.equal(cond(o, 'Active')?.status, 'True');
  series.a = 0;
  series.b = 0;
  await settlesAt(0, 'inactive again: -> 0 after cooldown', ns);
});

test('ConfigMaps as KEDA reads them: configMapTargetRef, envFrom configMapRef, configMapKeyRef (with a Secret for the password): 0 → 1 → 3; a wrong value in the ConfigMap fails the trigger', { skip, timeout: 240_000 }, async () => {
  if (!plane) return;
  const ns = 'keda-config';
  await plane.apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: redis-conn, namespace: ${ns}}
data: {REDIS_HOST: "127.0.0.1", port: "${redis!.port}", username: default}
---
apiVersion: v1
kind: Secret
metadata: {name: redis-auth, namespace: ${ns}}
stringData: {password: "${PASSWORD}"}
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata: {name: redis-cfg, namespace: ${ns}}
spec:
  configMapTargetRef:
  - {parameter: username, name: redis-conn, key: username}
  secretTargetRef:
  - {parameter: password, name: redis-auth, key: password}
---
${workload(ns, 0, `  pollingInterval: 1
  cooldownPeriod: 300
  minReplicaCount: 0
  maxReplicaCount: 10
  triggers:
  - type: redis
    metadata: {listName: cfgjobs, listLength: "5", addressFromEnv: REDIS_ADDRESS}
    authenticationRef: {name: redis-cfg}
`, `      - name: worker
        image: example.com/worker:1
        envFrom: [{configMapRef: {name: redis-conn}}]
        env:
        - name: REDIS_PORT
          valueFrom: {configMapKeyRef: {name: redis-conn, key: port}}
        - {name: REDIS_ADDRESS, value: "$(REDIS_HOST):$(REDIS_PORT)"}
`)}`);
  await client!.del('cfgjobs');
  await client!.rpush('cfgjobs', ...Array.from({ length: 12 }, (_, i) => `j${i}`));
  await waitEvent('KEDAScaleTargetActivated', /^Scaled Deployment keda-config\/worker from 0 to 1, triggered by s0-redis-cfgjobs$/, ns);
  await settlesAt(3, '12 items, listLength 5 -> 3', ns);
  // the ConfigMap's username is what the scaler logs in with: a wrong one fails the trigger
  await plane.kubectl(['-n', ns, 'patch', 'configmap', 'redis-conn', '--type=merge', '-p', '{"data":{"username":"nobody"}}']);
  assert.equal((await soEvents(ns)).filter((e) => e.reason === 'KEDAScalerFailed').length, 0);
  // a changed spec rebuilds the scalers (re-reading TriggerAuthentication, ConfigMaps and Secrets)
  await plane.kubectl(['-n', ns, 'patch', 'scaledobject', 'worker', '--type=merge', '-p', '{"spec":{"pollingInterval":2}}']);
  const failed = await waitEvent('KEDAScalerFailed', /./, ns);
  assert.ok(!failed.message.includes(PASSWORD), failed.message);
  assert.equal(await replicas(ns), 3, 'a failing trigger without fallback keeps the replicas');
  await plane.kubectl(['-n', ns, 'delete', 'scaledobject', 'worker']);
});

test('without any one keda.sh rule of the ClusterRole, the controller says which permission is missing', { skip, timeout: 300_000 }, async () => {
  if (!plane) return;
  await controller!.stop(); // one active controller at a time
  const rules = clusterRoleRules();
  const checked: string[] = [];
  let n = 0;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    if (!r.apiGroups.includes('keda.sh')) continue;
    const ns = `keda-rbac-${n++}`;
    const res = r.resources.join(',');
    const expect = res === 'scaledobjects' ? /cannot list resource \\?"scaledobjects\\?" in API group \\?"keda\.sh\\?"/
      : res === 'scaledobjects/status' ? /cannot patch resource \\?"scaledobjects\/status\\?" in API group \\?"keda\.sh\\?"/
        : /cannot get resource \\?"triggerauthentications\\?" in API group \\?"keda\.sh\\?"/;
    await setClusterRoleRules(plane, rules.filter((_, j) => j !== i));
    let c: RunningController | undefined;
    try {
      await plane.kubectl(['create', 'namespace', ns]);
      await plane.apply(`apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata: {name: none, namespace: ${ns}}
spec: {}
`);
      await plane.apply(workload(ns, 0, `  pollingInterval: 1
  triggers:
  - type: prometheus
    metadata: {serverAddress: "http://127.0.0.1:${prom!.port}", query: "sum(tide_keda_a)", threshold: "10"}
    authenticationRef: {name: none}
`));
      c = await startController(plane, ['--mode', 'active', '--sync-period', '2s']);
      const text = await until(`the controller to name the missing permission (${expect})`, async () => {
        const ev = JSON.stringify(await soEvents(ns).catch(() => []));
        const t = `${c!.output()}\n${ev}`;
        return expect.test(t) ? t : null;
      }, 90_000, 500);
      checked.push(`${r.verbs.join(',')} ${res}: ${expect.exec(text)![0]}`);
    } finally {
      await c?.stop();
      await setClusterRoleRules(plane, rules);
    }
  }
  process.stderr.write(`keda rbac: ${checked.length} rules proven necessary:\n  ${checked.join('\n  ')}\n`);
  assert.equal(checked.length, 3, checked.join('\n'));
});
