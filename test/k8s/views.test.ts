// `tide get` / `tide describe` against a real control plane, compared with the real kubectl built
// with the plane: same columns, same alignment, same describe sections — plus Tide's TIDE column and
// "Tide:" section read from the Events `tide controller` publishes. HPA statuses and events are
// written here as the admin (the controller is not needed to test the views).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { planeSkip, startPlane, until, type Plane } from '../support/k8s-plane.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SEED = join(ROOT, 'examples/manifests/seed');
const NS = 'views-demo';
const skip = planeSkip({});
let plane: Plane | null = null;

function tide(args: string[], opts: { timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const c = spawn(process.execPath, [join(ROOT, 'bin/tide.js'), ...args], { cwd: ROOT, env: { ...process.env, KUBECONFIG: plane!.kubeconfig, TIDE_STATE_DIR: join(plane!.state, 'no-daemon') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => { stdout += d; });
    c.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => c.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    c.on('error', rej);
    c.on('close', (code) => { clearTimeout(t); res({ code: code ?? 1, stdout, stderr }); });
  });
}

const STATUS = {
  status: {
    currentReplicas: 3, desiredReplicas: 4, lastScaleTime: new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    currentMetrics: [
      { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 93, averageValue: '186m' } } },
      { type: 'Resource', resource: { name: 'memory', current: { averageUtilization: 41, averageValue: '110Mi' } } },
    ],
    conditions: [
      { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: 'the HPA controller was able to update the target scale to 4', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
      { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
      { type: 'ScalingLimited', status: 'False', reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
    ],
  },
};

function event(name: string, hpa: string, uid: string, reason: string, message: string, component: string, count = 1): string {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: NS },
    involvedObject: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: hpa, namespace: NS, uid },
    reason, message, type: 'Normal', count, firstTimestamp: now, lastTimestamp: now, source: { component },
  });
}

before(async () => {
  if (skip) return;
  plane = await startPlane({});
  if (!plane) return;
  await plane.kubectl(['create', 'namespace', NS]);
  for (const f of ['app-fastapi-resources.yaml', 'app-fastapi-hpa-v2.yaml']) await plane.kubectl(['-n', NS, 'apply', '-f', join(SEED, f)]);
  // a second HPA in this namespace (the custom-metrics seed names its own namespace: apply a copy here)
  const custom = (await import('node:fs')).readFileSync(join(SEED, 'inference-server-hpa-custom-metrics.yaml'), 'utf8').replace('namespace: ai-inference', `namespace: ${NS}`);
  await plane.kubectl(['apply', '-f', '-'], custom);
  await plane.kubectl(['-n', NS, 'patch', 'hpa', 'app-fastapi-advanced', '--subresource=status', '--type=merge', '-p', JSON.stringify(STATUS)]);
  const uid = (await plane.kubectl(['-n', NS, 'get', 'hpa', 'app-fastapi-advanced', '-o', 'jsonpath={.metadata.uid}'])).trim();
  await plane.kubectl(['create', '-f', '-'], event('app-fastapi-advanced.tide1', 'app-fastapi-advanced', uid, 'TideRecommendation', 'Tide (shadow) recommends 4 replicas; upstream desired 4: cpu resource utilization 93% of 70% on 3 pods -> 4', 'tide-controller', 3));
  await plane.kubectl(['create', '-f', '-'], event('app-fastapi-advanced.up1', 'app-fastapi-advanced', uid, 'SuccessfulRescale', 'New size: 4; reason: cpu resource utilization (percentage of request) above target', 'horizontal-pod-autoscaler'));
}, { timeout: 300_000 });

after(async () => { await plane?.stop(); });

/** The part of each line before column `col` (by the header's column start), for comparing tables. */
function upToColumn(table: string, col: string): string[] {
  const lines = table.trimEnd().split('\n');
  const at = lines[0].indexOf(col);
  assert.ok(at > 0, `no ${col} column in:\n${table}`);
  return lines.map((l) => l.slice(0, at));
}

test('tide get hpa -n NS: kubectl\'s columns and alignment, plus TIDE (Tide\'s recommendation vs upstream)', { skip, timeout: 120_000 }, async () => {
  if (!plane) return;
  const [k, t] = await Promise.all([plane.kubectl(['-n', NS, 'get', 'hpa']), tide(['get', 'hpa', '-n', NS])]);
  assert.equal(t.code, 0, t.stderr);
  assert.deepEqual(upToColumn(t.stdout, 'AGE'), upToColumn(k, 'AGE'), `tide:\n${t.stdout}\nkubectl:\n${k}`);
  const lines = t.stdout.trimEnd().split('\n');
  assert.match(lines[0], /AGE +TIDE$/);
  assert.match(lines.find((l) => l.startsWith('app-fastapi-advanced '))!, /cpu: 93%\/70%, memory: 41%\/80% .* 4 \(agrees\)$/);
  assert.match(lines.find((l) => l.startsWith('inference-server-hpa '))!, /<none>$/);
});

test('tide get hpa -A and --context select the cluster; NAMESPACE column as kubectl', { skip, timeout: 120_000 }, async () => {
  if (!plane) return;
  const [k, t] = await Promise.all([plane.kubectl(['get', 'hpa', '-A']), tide(['get', 'hpa', '-A', '--context', 'testbed-token'])]);
  assert.equal(t.code, 0, t.stderr);
  assert.deepEqual(upToColumn(t.stdout, 'AGE'), upToColumn(k, 'AGE'));
  const bad = await tide(['get', 'hpa', '--context', 'nope']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /context was not found for specified context: nope/);
});

test('tide describe hpa: kubectl describe\'s text, then the Tide section', { skip, timeout: 120_000 }, async () => {
  if (!plane) return;
  for (const name of ['app-fastapi-advanced', 'inference-server-hpa']) {
    let k = '';
    let t = { code: 0, stdout: '', stderr: '' };
    for (let attempt = 0; attempt < 3; attempt++) { // ages can tick between the two runs
      [k, t] = await Promise.all([plane.kubectl(['-n', NS, 'describe', 'hpa', name]), tide(['describe', 'hpa', name, '-n', NS])]);
      assert.equal(t.code, 0, t.stderr);
      if (t.stdout.startsWith(k.trimEnd())) break;
    }
    const [kubectlPart] = t.stdout.split('\nTide:');
    assert.equal(kubectlPart.trimEnd(), k.trimEnd(), `tide:\n${t.stdout}\nkubectl:\n${k}`);
    if (name === 'app-fastapi-advanced') {
      assert.match(t.stdout, /\nTide:\n  Mode: +shadow\n  Recommendation: +4 replicas\n  Upstream: +4 desired \(agrees\)\n  Last decision: +TideRecommendation/);
      assert.match(t.stdout, /Normal +TideRecommendation +\S+ \(x3 over \S+\) +tide-controller +Tide \(shadow\) recommends 4/);
    } else assert.match(t.stdout, /\nTide: +<no decision yet/);
  }
});

test('tide get pods / deploy: as kubectl; NotFound and Forbidden as kubectl words them', { skip, timeout: 120_000 }, async () => {
  if (!plane) return;
  await until('pods of app-fastapi', async () => (await plane!.kubectl(['-n', NS, 'get', 'pods', '-o', 'name'])).trim().length > 0, 60_000);
  for (const kind of ['pods', 'deployments']) {
    const [k, t]: [string, Awaited<ReturnType<typeof tide>>] = await Promise.all([plane.kubectl(['-n', NS, 'get', kind]), tide(['get', kind, '-n', NS])]);
    assert.equal(t.code, 0, t.stderr);
    assert.deepEqual(upToColumn(t.stdout, 'AGE'), upToColumn(k, 'AGE'), `tide:\n${t.stdout}\nkubectl:\n${k}`);
  }
  const nf = await tide(['get', 'hpa', 'nope', '-n', NS]);
  assert.notEqual(nf.code, 0);
  assert.match(nf.stderr, /Error from server \(NotFound\): horizontalpodautoscalers\.autoscaling "nope" not found/);
  const empty = await tide(['get', 'hpa', '-n', 'default']);
  assert.match(empty.stderr, /No resources found in default namespace\./);
});

test('tide get hpa -w prints a row when the status changes', { skip, timeout: 120_000 }, async () => {
  if (!plane) return;
  const c = spawn(process.execPath, [join(ROOT, 'bin/tide.js'), 'get', 'hpa', 'app-fastapi-advanced', '-n', NS, '-w'], { cwd: ROOT, env: { ...process.env, KUBECONFIG: plane.kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  c.stdout.on('data', (d) => { out += d; });
  c.stderr.on('data', (d) => { out += d; });
  try {
    await until('the first listing', () => /app-fastapi-advanced/.test(out), 60_000, 200);
    await new Promise((r) => setTimeout(r, 1000)); // the watch is open
    const st = structuredClone(STATUS);
    st.status.currentMetrics[0].resource.current.averageUtilization = 120;
    st.status.currentReplicas = 4;
    await plane.kubectl(['-n', NS, 'patch', 'hpa', 'app-fastapi-advanced', '--subresource=status', '--type=merge', '-p', JSON.stringify(st)]);
    await until('a watch row with the new status', () => /cpu: 120%\/70%/.test(out), 60_000, 200);
    const rows = out.trimEnd().split('\n');
    assert.match(rows[0], /^NAME +REFERENCE +TARGETS/);
    assert.match(rows.at(-1)!, /^app-fastapi-advanced +Deployment\/app-fastapi +cpu: 120%\/70%, memory: 41%\/80% +2 +20 +4 /);
  } finally {
    c.kill('SIGINT');
  }
});
