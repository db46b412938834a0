// End to end: a Knative Service run by `tide up` (real processes, loopback, ephemeral ports) with the
// tiny fixture server: idle → scale to zero after the (short) windows; 200 concurrent requests against
// zero replicas all succeed through the activator; sustained concurrency → ceil(c / target) replicas;
// a sudden 3× step → panic mode scales up from the panic window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, httpGet, sleep, tideUp, type Up } from '../runtime/helpers.ts';

function ksvc(annotations: Record<string, string>, containerConcurrency = 0): string {
  const ann = Object.entries(annotations).map(([k, v]) => `        autoscaling.knative.dev/${k}: ${JSON.stringify(v)}`).join('\n');
  return `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: tiny}
spec:
  template:
    metadata:
      annotations:
${ann}
    spec:
      containerConcurrency: ${containerConcurrency}
      containers:
      - command: ${JSON.stringify([process.execPath, FIXTURE])}
`;
}

async function deployment(up: Up): Promise<{ replicas: number; ready: number; terminating: number }> {
  const { json } = await up.api<{ name: string; replicas: number; ready: number; terminating: number }[]>('GET', '/v1/deployments');
  return json.find((d) => d.name === 'tiny')!;
}

function decisions(up: Up): any[] {
  return readFileSync(join(up.stateDir, 'decisions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

test('idle → zero after the windows; 200 concurrent requests against zero all succeed', { timeout: 90_000 }, async () => {
  const up = await tideUp(ksvc({ window: '6s', 'max-scale': '4' }), ['--kpa-config', 'scale-to-zero-grace-period=2s']);
  try {
    const url = await up.serviceUrl('tiny');
    const t0 = Date.now();
    await up.waitFor('scale to zero', async () => { const d = await deployment(up); return d.replicas === 0 && d.terminating === 0; }, 40_000);
    const idleMs = Date.now() - t0;
    // stable window (6 s) of zero demand, active for ≥ one window, then the next ticks: not before ~6 s
    assert.ok(idleMs >= 5_000, `scaled to zero too early (${idleMs} ms)`);
    const toZero = decisions(up).find((d) => d.rescale && d.desiredReplicas === 0);
    assert.ok(toZero, 'a scale-to-zero decision was recorded');
    assert.equal(toZero.decider, 'kpa');
    assert.equal(toZero.details.stableAverage, 0);
    assert.equal(toZero.details.activatorInPath, true);

    const start = Date.now();
    const results = await Promise.all(Array.from({ length: 200 }, () => httpGet(`${url}/sleep?ms=200`, 30_000)));
    const firstMs = Date.now() - start;
    const bad = results.filter((r) => r.status !== 200);
    assert.equal(bad.length, 0, `failed: ${bad.slice(0, 5).map((r) => `${r.status} ${r.body}`).join(' | ')}`);
    const d = await deployment(up);
    assert.ok(d.replicas >= 1, 'scaled from zero');
    const poke = decisions(up).find((x) => x.inputs.observation.poke && x.rescale);
    assert.ok(poke, 'the cold request poked the decider (no wait for a tick)');
    assert.equal(poke.currentReplicas, 0);
    assert.ok(poke.desiredReplicas >= 1);
    assert.ok(firstMs < 20_000, `burst took ${firstMs} ms`);
  } finally {
    await up.stop();
  }
});

test('sustained concurrency → ceil(c / target) replicas; a 3× step panics and scales at once', { timeout: 120_000 }, async () => {
  // target 5 per pod at 100% utilization; min 1 so the load test starts warm
  const up = await tideUp(ksvc({ target: '5', 'target-utilization-percentage': '100', window: '6s', 'min-scale': '1', 'max-scale': '8' }));
  let level = 10;
  let stop = false;
  let failures = 0;
  const clients: Promise<void>[] = [];
  try {
    const url = await up.serviceUrl('tiny');
    const client = async (i: number) => {
      while (!stop) {
        if (i >= level) { await sleep(50); continue; }
        const r = await httpGet(`${url}/sleep?ms=200`, 30_000);
        if (r.status !== 200) failures++;
      }
    };
    for (let i = 0; i < 30; i++) clients.push(client(i));
    // 10 concurrent / 5 per pod → 2 replicas
    await up.waitFor('2 ready replicas at concurrency 10', async () => { const d = await deployment(up); return d.ready === 2; }, 30_000);
    await sleep(8_000);
    const steady = await deployment(up);
    assert.equal(steady.replicas, 2, 'stays at ceil(10 / 5) = 2');
    // 3× step: 30 concurrent → the panic window sees it first
    const stepAt = Date.now();
    level = 30;
    const panicked = await up.waitFor('a panic decision', async () => decisions(up).find((x) => x.now >= stepAt && x.details.panicking && x.rescale), 20_000);
    assert.ok(panicked.limitedBy.includes('panic') || panicked.desiredReplicas >= 4, JSON.stringify(panicked.limitedBy));
    assert.ok(panicked.events.some((e: { reason: string }) => e.reason === 'Panicking') || decisions(up).some((x) => x.events.some((e: { reason: string }) => e.reason === 'Panicking')));
    await up.waitFor('6 replicas (ceil(30 / 5))', async () => { const d = await deployment(up); return d.replicas === 6; }, 30_000);
    // panic never scales down while the load holds
    const during = decisions(up).filter((x) => x.now >= panicked.now && x.details.panicking);
    for (let i = 1; i < during.length; i++) assert.ok(during[i].desiredReplicas >= during[i - 1].desiredReplicas);
  } finally {
    stop = true;
    await Promise.all(clients);
    await up.stop();
  }
  assert.equal(failures, 0);
});
