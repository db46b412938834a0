// deploy/kubernetes/ on a real control plane: the manifests apply (the controller's pod passes the
// namespace's `restricted` Pod Security admission), the tide-controller ServiceAccount's token (from
// the TokenRequest API) is all `tide controller` needs to run an HPA end to end, it cannot do what it
// was not granted, and without any one of its ClusterRole's rules it fails with an error naming the
// missing permission (the apiserver's "cannot VERB resource R in API group G").
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { planeSkip, startPlane, until, type Plane } from '../support/k8s-plane.ts';
import { clusterRoleRules, setClusterRoleRules, TIDE_NAMESPACE, TIDE_USER, type PolicyRule, type TideCredentials } from '../support/k8s-rbac.ts';
import { controllerCredentials, startController, type RunningController } from './helpers.ts';

const NS = 'rbac-demo';
const opts = { metrics: true };
const skip = planeSkip(opts);
let plane: Plane | null = null;
let creds: TideCredentials;
const running = new Set<RunningController>();

// every pod of the Deployment uses 80m of its 100m request (kwok's usage-from-annotation): 80% vs 50%
const APP = `apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: app}}
  template:
    metadata:
      labels: {app: app}
      annotations: {kwok.x-k8s.io/usage-cpu: 80m}
    spec:
      containers:
      - name: app
        image: example.com/app:1
        resources: {requests: {cpu: 100m}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: app, namespace: ${NS}}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: app}
  minReplicas: 1
  maxReplicas: 4
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
`;

async function controller(args: string[] = [], waitListening = true): Promise<RunningController> {
  const c = await startController(plane!, ['--mode', 'active', '--sync-period', '2s', ...args], { kubeconfig: creds.kubeconfig, waitListening });
  running.add(c);
  return c;
}

/** The controller's log plus what it wrote on the cluster (events, HPA conditions): where a denial must show. */
async function said(c: RunningController): Promise<string> {
  const ev = await plane!.kubectl(['-n', NS, 'get', 'events', '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}']).catch(() => '');
  const cond = await plane!.kubectl(['-n', NS, 'get', 'hpa', '-o', 'jsonpath={range .items[*].status.conditions[*]}{.message}{"\\n"}{end}']).catch(() => '');
  return `${c.output()}\n${ev}\n${cond}`;
}

async function specReplicas(): Promise<number> {
  return Number(await plane!.kubectl(['-n', NS, 'get', 'deployment', 'app', '-o', 'jsonpath={.spec.replicas}']));
}

before(async () => {
  if (skip) return;
  plane = await startPlane(opts);
  if (!plane) return;
  creds = await controllerCredentials(plane); // applies deploy/kubernetes/, mints the token
  await plane.kubectl(['create', 'namespace', NS]);
}, { timeout: 300_000 });

after(async () => {
  for (const c of running) await c.stop();
  await plane?.stop();
});

test('deploy/kubernetes applies; the controller pod is admitted under Pod Security "restricted"', { skip, timeout: 120_000 }, async () => {
  if (!plane) return;
  const pod = await until('the tide-controller pod', async () => {
    const out = await plane!.kubectl(['-n', TIDE_NAMESPACE, 'get', 'pods', '-l', 'app.kubernetes.io/name=tide', '-o', 'jsonpath={.items[*].metadata.name}']);
    return out.trim() || null;
  }, 60_000);
  assert.match(pod, /^tide-controller-/);
  const ev = await plane.kubectl(['-n', TIDE_NAMESPACE, 'get', 'events', '-o', 'jsonpath={.items[*].reason}']);
  assert.doesNotMatch(ev, /FailedCreate/);
  // a pod violating "restricted" is refused in that namespace (the label is enforced)
  await assert.rejects(plane.kubectl(['-n', TIDE_NAMESPACE, 'run', 'root-pod', '--image=x', '--restart=Never']), /violates PodSecurity "restricted/);
});

test('the ServiceAccount token is who the controller is, and it cannot do what it was not granted', { skip, timeout: 60_000 }, async () => {
  if (!plane) return;
  const k = (args: string[]) => plane!.kubectl(['--kubeconfig', creds.kubeconfig, ...args]).then((s) => s.trim(), (e: Error) => e.message);
  assert.match(await k(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']), new RegExp(TIDE_USER.replace(/[.:]/g, '\\$&')));
  const can = async (verb: string, res: string, ns = NS) => {
    const [type, sub] = res.split('/');
    return /^yes$/.test(await k(['auth', 'can-i', verb, type, ...(sub ? [`--subresource=${sub}`] : []), '-n', ns]));
  };
  assert.equal(await can('update', 'deployments.apps/scale'), true);
  assert.equal(await can('list', 'horizontalpodautoscalers.autoscaling'), true);
  assert.equal(await can('patch', 'horizontalpodautoscalers.autoscaling/status'), true);
  for (const [verb, res] of [['get', 'secrets'], ['list', 'configmaps'], ['update', 'deployments.apps'], ['patch', 'deployments.apps'], ['delete', 'pods'],
    ['update', 'horizontalpodautoscalers.autoscaling'], ['create', 'pods'], ['create', 'serviceaccounts/token'], ['list', 'nodes']] as const) {
    assert.equal(await can(verb, res), false, `${verb} ${res} must be denied`);
  }
});

test('with only the ServiceAccount token the controller scales an HPA end to end (status, events, /scale)', { skip, timeout: 240_000 }, async () => {
  if (!plane) return;
  await plane.apply(APP);
  const c = await controller();
  // 80% of request vs 50% target: 1 -> 2 -> 4 (maxReplicas)
  await until('1 -> 2 -> 4 replicas', async () => (await specReplicas()) === 4, 180_000, 1000);
  const hpa = await until('HPA status written by Tide', async () => {
    const h = JSON.parse(await plane!.kubectl(['-n', NS, 'get', 'hpa', 'app', '-o', 'json']));
    return h.status?.desiredReplicas === 4 && h.status?.currentMetrics?.length ? h : null;
  }, 60_000, 500);
  assert.equal(hpa.status.currentMetrics[0].resource.name, 'cpu');
  const events = await plane.kubectl(['-n', NS, 'get', 'events', '--field-selector', 'involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=app', '-o', 'jsonpath={range .items[*]}{.reason}:{.source.component}{"\\n"}{end}']);
  assert.match(events, /SuccessfulRescale:tide-controller/);
  assert.doesNotMatch(c.output(), /forbidden/i);
  await c.stop();
  running.delete(c);
});

/** How each rule of the ClusterRole is exercised when it is missing, and what the apiserver then says. */
function provoke(rule: PolicyRule): { setup?: () => Promise<void>; expect: RegExp } | null {
  const res = rule.resources.join(' ');
  if (res === 'deployments statefulsets replicasets') return null; // only names a conflicting writer (tested in shadow-upstream)
  if (res === 'deployments statefulsets') return { expect: /cannot (list|watch) resource \\?"deployments\\?" in API group \\?"apps\\?"/ }; // the workload informers (Tide falls back to GET /scale)
  const group = rule.apiGroups[0];
  if (res === 'horizontalpodautoscalers') return { expect: /cannot (list|watch) resource \\?"horizontalpodautoscalers\\?" in API group \\?"autoscaling\\?"/ };
  if (res === 'pods' && group === '') return { expect: /cannot (list|watch) resource \\?"pods\\?" in API group \\?"\\?"/ };
  if (res === 'pods' && group === 'metrics.k8s.io') return { expect: /cannot list resource \\?"pods\\?" in API group \\?"metrics\.k8s\.io\\?"/ };
  if (res === 'horizontalpodautoscalers/status') {
    // an HPA whose target is missing: Tide writes AbleToScale=False (upstream's FailedGetScale)
    return { setup: () => plane!.apply(brokenHpa(`broken-status-${Date.now()}`)).then(() => {}), expect: /cannot patch resource \\?"horizontalpodautoscalers\/status\\?" in API group \\?"autoscaling\\?"/ };
  }
  if (res === '*/scale') {
    // above maxReplicas: Tide must read the scale and write it back to 4
    return { setup: () => plane!.kubectl(['-n', NS, 'scale', 'deployment', 'app', '--replicas=6']).then(() => {}), expect: /cannot (get|update) resource \\?"deployments\/scale\\?" in API group \\?"apps\\?"/ };
  }
  if (res === 'events') return { setup: () => plane!.apply(brokenHpa(`broken-events-${Date.now()}`)).then(() => {}), expect: /cannot (create|patch) resource \\?"events\\?" in API group \\?"\\?"/ };
  return null; // custom/external metrics APIs: not served on the test plane (Tide uses Prometheus then)
}

function brokenHpa(name: string): string {
  return `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: ${name}, namespace: ${NS}}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: missing-${name}}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
`;
}

test('without any one rule of the ClusterRole, the controller says which permission is missing', { skip, timeout: 600_000 }, async () => {
  if (!plane) return;
  const rules = clusterRoleRules();
  const checked: string[] = [];
  for (let i = 0; i < rules.length; i++) {
    const p = provoke(rules[i]);
    if (!p) continue;
    await setClusterRoleRules(plane, rules.filter((_, j) => j !== i));
    try {
      const c = await controller([], false);
      await p.setup?.();
      const text = await until(`the controller to name the missing permission (${p.expect})`, async () => {
        const t = await said(c);
        return p.expect.test(t) ? t : null;
      }, 90_000, 500);
      const line = p.expect.exec(text)![0];
      checked.push(`${rules[i].verbs.join(',')} ${rules[i].resources.join(',')}: ${line}`);
      await c.stop();
      running.delete(c);
    } finally {
      await setClusterRoleRules(plane, rules);
    }
  }
  process.stderr.write(`rbac: ${checked.length} rules proven necessary:\n  ${checked.join('\n  ')}\n`);
  assert.ok(checked.length >= 6, checked.join('\n'));
});
