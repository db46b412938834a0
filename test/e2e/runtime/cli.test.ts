// The kubectl-like CLI against a live `tide up`: autoscale, scale, get, describe, logs -f, and the
// dry-run (shadow) mode with a Pods metric scraped from the replicas' /metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { deploymentYaml, httpGet, serviceYaml, TIDE, tideUp } from './helpers.ts';

test('autoscale, scale, get, describe and logs against a running daemon', { timeout: 60_000 }, async () => {
  const up = await tideUp(deploymentYaml({ cpuRequest: null }) + '---\n' + serviceYaml());
  try {
    const twice = await up.cli(['up', 'app.yaml', '--ephemeral-ports']);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /a Tide daemon is already running for .* \(pid \d+/);
    const none = await up.cli(['get', 'hpa']);
    assert.match(none.stderr, /No resources found/);
    const a = await up.cli(['autoscale', 'deployment', 'tiny', '--cpu-percent=50', '--min=1', '--max=3']);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, 'horizontalpodautoscaler.autoscaling/tiny autoscaled\n');
    const again = await up.cli(['autoscale', 'deployment', 'tiny', '--max=3']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /"tiny" already exists/);
    const missing = await up.cli(['autoscale', 'deployment', 'nope', '--max=3']);
    assert.match(missing.stderr, /deployments.apps "nope" not found/);
    // no cpu request: TARGETS <unknown>/50% and upstream's reason in describe
    await up.waitFor('a decision', async () => (await up.api<unknown[]>('GET', '/v1/decisions?autoscaler=tiny')).json.length > 0);
    const get = await up.cli(['get', 'hpa', 'tiny']);
    assert.match(get.stdout, /tiny\s+Deployment\/tiny\s+cpu: <unknown>\/50%\s+1\s+3\s+1\s+\d+s/);
    const desc = await up.cli(['describe', 'hpa', 'tiny']);
    assert.match(desc.stdout, /missing request for cpu/);
    assert.match(desc.stdout, /ScalingActive\s+False/);
    const w = spawn(process.execPath, [TIDE, 'get', 'hpa', '-w'], { cwd: up.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let watched = '';
    w.stdout.on('data', (d) => { watched += d; });
    try {
      await up.waitFor('watch header', async () => /^NAME\s+REFERENCE/.test(watched));
      const s = await up.cli(['scale', 'deployment', 'tiny', '--replicas=2']);
      assert.equal(s.stdout, 'deployment.apps/tiny scaled\n');
      await up.waitFor('2 ready pods', async () => (await up.api<{ ready: boolean }[]>('GET', '/v1/pods')).json.filter((p) => p.ready).length === 2);
      await up.waitFor('a watch line with 2 replicas', async () => /\n(tiny\s+Deployment\/tiny\s+cpu: \S+\s+1\s+3\s+2\s+\d+s)\n/.test(watched));
      assert.equal(watched.split('\n').filter((l) => l.startsWith('NAME')).length, 1, 'header printed once');
    } finally { w.kill(); }
    const pods = await up.cli(['get', 'pods']);
    assert.equal(pods.stdout.trim().split('\n').length, 3);
    // -o json: a v1 List of Pods; one named HPA: the autoscaling/v2 object with an upstream-like status
    const asJson = JSON.parse((await up.cli(['get', 'pods', '-o', 'json'])).stdout) as { kind: string; items: { kind: string; metadata: { annotations: Record<string, string> }; status: { containerStatuses: { ready: boolean; restartCount: number }[] } }[] };
    assert.equal(asJson.kind, 'List');
    assert.equal(asJson.items.length, 2);
    assert.ok(asJson.items.every((p) => p.kind === 'Pod' && p.status.containerStatuses[0].ready && Number(p.metadata.annotations['tide.dev/port']) > 0 && p.status.containerStatuses[0].restartCount === 0));
    const hpaJson = JSON.parse((await up.cli(['get', 'hpa', 'tiny', '-o', 'json'])).stdout) as { apiVersion: string; spec: { scaleTargetRef: { name: string } }; status: { currentReplicas: number; conditions: { type: string; status: string; reason: string }[] } };
    assert.equal(hpaJson.apiVersion, 'autoscaling/v2');
    assert.equal(hpaJson.spec.scaleTargetRef.name, 'tiny');
    assert.ok(hpaJson.status.conditions.some((c) => c.type === 'ScalingActive' && c.status === 'False' && c.reason === 'FailedGetResourceMetric'));
    const yaml = (await up.cli(['get', 'hpa', 'tiny', '-o', 'yaml'])).stdout;
    assert.match(yaml, /\nstatus:\n {2}conditions:\n {2}- lastTransitionTime: /);
    assert.match(yaml, /\n {2}currentReplicas: 2\n {2}desiredReplicas: \d+\n/);
    // several kinds at once (names prefixed with the kind), label selectors, AGE on deployments, top, logs -l
    const both = await up.cli(['get', 'hpa,pods']);
    assert.match(both.stdout, /^NAME\s+REFERENCE\s+TARGETS.*\nhorizontalpodautoscaler\.autoscaling\/tiny\s+Deployment\/tiny\s/);
    assert.match(both.stdout, /\n\nNAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\npod\/tiny-\w+-\w+\s+1\/1\s+Running\s/);
    assert.equal((await up.cli(['get', 'pods', '-l', 'app=tiny'])).stdout.trim().split('\n').length, 3);
    assert.match((await up.cli(['get', 'pods', '-l', 'app=other'])).stderr, /No resources found in default namespace/);
    assert.match((await up.cli(['get', 'pods', '-n', 'elsewhere'])).stderr, /No resources found in elsewhere namespace/);
    assert.match((await up.cli(['get', 'pods', '-A'])).stdout, /^NAMESPACE\s+NAME\s+READY/);
    assert.match((await up.cli(['get', 'deploy'])).stdout, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\ntiny\s+2\/2\s+2\s+2\s+\d+s/);
    assert.match((await up.cli(['get', 'pods', '-o', 'wide'])).stdout, /IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\n.*127\.0\.0\.1\s+localhost/);
    await up.waitFor('metrics for both pods', async () => (await up.cli(['top', 'pods'])).stdout.trim().split('\n').length === 3);
    assert.match((await up.cli(['top', 'pods'])).stdout, /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\ntiny-\S+\s+\d+m\s+\d+Mi/);
    const logsL = await up.cli(['logs', '-l', 'app=tiny']);
    assert.match(logsL.stdout, /^\[pod\/tiny-\w+-\w+\/app\] fixture tiny-/m);
    assert.match((await up.cli(['get', 'hpa', 'nope'])).stderr, /Error from server \(NotFound\): horizontalpodautoscalers\.autoscaling "nope" not found/);
    const logs = await up.cli(['logs', 'deploy/tiny']);
    assert.match(logs.stdout, /fixture tiny-\w+-\w+ listening on \d+/);
    // logs -f streams lines written after it started
    const podName = (await up.api<{ name: string }[]>('GET', '/v1/pods')).json[0].name;
    const f = spawn(process.execPath, [TIDE, 'logs', podName, '-f', '--tail', '1'], { cwd: up.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let streamed = '';
    f.stdout.on('data', (d) => { streamed += d; });
    await up.waitFor('the follower connected (it printed the last line)', async () => streamed.length > 0);
    assert.doesNotMatch(streamed, /SIGTERM/);
    const pod = (await up.api<{ name: string; pid: number }[]>('GET', '/v1/pods')).json.find((p) => p.name === podName)!;
    process.kill(-pod.pid, 'SIGTERM'); // the fixture logs its SIGTERM, then the replica restarts
    try {
      await up.waitFor('followed line', async () => /SIGTERM with 0 in flight/.test(streamed));
    } finally { f.kill(); }
    const bad = await up.cli(['scale', 'deployment', 'tiny', '--replicas=-1']);
    assert.equal(bad.code, 1);
  } finally { await up.stop(); }
});

test('dry-run with a Pods metric scraped from /metrics: decisions recorded, replicas untouched', { timeout: 60_000 }, async () => {
  const hpa = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: tiny}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: tiny}
  minReplicas: 1
  maxReplicas: 5
  metrics:
  - type: Pods
    pods:
      metric: {name: inference_queue_depth}
      target: {type: AverageValue, averageValue: "1"}
`;
  const up = await tideUp([deploymentYaml(), serviceYaml(), hpa].join('---\n'), ['--dry-run']);
  try {
    const url = await up.serviceUrl();
    let stop = false;
    const loops = Array.from({ length: 4 }, async () => { while (!stop) await httpGet(`${url}/sleep?ms=400`); });
    const rec = await up.waitFor('a dry-run scale-up decision', async () => {
      const { json } = await up.api<{ rescale: boolean; desiredReplicas: number; currentReplicas: number; proposals: { metric: string; current: string }[] }[]>('GET', '/v1/decisions?autoscaler=tiny');
      return json.find((d) => d.rescale && d.desiredReplicas > 1);
    });
    stop = true;
    await Promise.all(loops);
    assert.match(rec.proposals[0].metric, /inference_queue_depth/);
    assert.equal(rec.currentReplicas, 1);
    const deps = (await up.api<{ desired: number; replicas: number }[]>('GET', '/v1/deployments')).json;
    assert.deepEqual([deps[0].desired, deps[0].replicas], [1, 1]);
    const desc = await up.cli(['describe', 'hpa', 'tiny']);
    assert.match(desc.stdout, /dry run: not applied/);
    assert.match(up.output(), /\[dry-run, not applied\]/);
    assert.ok(existsSync(join(up.stateDir, 'decisions.jsonl')));
    assert.ok(readFileSync(join(up.stateDir, 'decisions.jsonl'), 'utf8').includes('"rescale":true'));
  } finally { await up.stop(); }
});
