// End to end: `tide up` runs the tiny fixture server behind its proxy with an HPA on CPU; CPU-bound
// load scales it up, light load afterwards lets it scale down after the (short) stabilization window,
// and not one request fails throughout, scale-down included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deploymentYaml, hpaYaml, httpGet, serviceYaml, sleep, tideUp } from './helpers.ts';

test('CPU load scales up, scale-down follows the stabilization window, zero failed requests', { timeout: 60_000 }, async () => {
  const up = await tideUp([deploymentYaml(), serviceYaml(), hpaYaml({ max: 3, downWindow: 2 })].join('---\n'),
    ['--cpu-init-period', '1s', '--readiness-delay', '1s']);
  const failures: string[] = [];
  let ok = 0;
  let mode: 'heavy' | 'light' | 'stop' = 'heavy';
  try {
    const url = await up.serviceUrl();
    const client = async () => {
      while (mode !== 'stop') {
        const r = await httpGet(mode === 'heavy' ? `${url}/work?ms=40` : `${url}/sleep?ms=30`);
        if (r.status === 200) ok++; else failures.push(`${r.status} ${r.body.slice(0, 120)}`);
        // light: a few requests per second in all, far below the 50 % target even on a fast machine
        if (mode === 'light') await sleep(300);
      }
    };
    const clients = [client(), client(), client()];
    const scaledUp = await up.waitFor('scale-up to >= 2 replicas', async () => {
      const { json } = await up.api<{ name: string; replicas: number; ready: number }[]>('GET', '/v1/deployments');
      return json[0].ready >= 2 ? json[0] : undefined;
    }, 30_000);
    assert.ok(scaledUp.replicas >= 2);
    const hpa = await up.cli(['get', 'hpa']);
    assert.equal(hpa.code, 0, hpa.stderr);
    assert.match(hpa.stdout, /^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE\n/);
    assert.match(hpa.stdout, /tiny\s+Deployment\/tiny\s+cpu: \d+%\/50%\s+1\s+3\s+[23]\s+\d+s/);
    mode = 'light';
    await up.waitFor('scale-down to 1 replica with nothing terminating', async () => {
      const { json } = await up.api<{ replicas: number; terminating: number }[]>('GET', '/v1/deployments');
      return json[0].replicas === 1 && json[0].terminating === 0;
    }, 30_000);
    mode = 'stop';
    await Promise.all(clients);
    const pods = await up.cli(['get', 'pods']);
    assert.match(pods.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\ntiny-\w+-\w{5}\s+1\/1\s+Running\s+0\s+\d+s\n$/);
    const desc = await up.cli(['describe', 'hpa', 'tiny']);
    assert.match(desc.stdout, /Reference:\s+Deployment\/tiny/);
    assert.match(desc.stdout, /SuccessfulRescale/);
    assert.match(desc.stdout, /Limited by:/);
    // every decision is in decisions.jsonl, with the inputs needed to replay it
    const lines = readFileSync(join(up.stateDir, 'decisions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.some((d) => d.rescale && d.desiredReplicas > d.currentReplicas));
    assert.ok(lines.some((d) => d.rescale && d.desiredReplicas < d.currentReplicas));
    assert.ok(lines.every((d) => d.decider === 'hpa' && d.inputs?.observation && d.inputs?.policy));
    const metrics = await httpGet(`http://127.0.0.1:${JSON.parse(readFileSync(join(up.stateDir, 'daemon.json'), 'utf8')).port}/metrics`, 10_000, { authorization: `Bearer ${up.token()}` });
    assert.match(metrics.body, /tide_replicas\{deployment="tiny"\} 1/);
    assert.match(metrics.body, /tide_proxy_request_duration_seconds_bucket/);
    assert.match(metrics.body, /tide_decisions_total\{/);
  } finally {
    // a failed assertion above must not leave the clients looping against a stopped daemon (a hang)
    mode = 'stop';
    await up.stop();
  }
  assert.ok(ok > 20, `only ${ok} requests succeeded`);
  assert.deepEqual(failures, []);
});
