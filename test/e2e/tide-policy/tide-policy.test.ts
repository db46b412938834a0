// End to end: an HPA annotated `tide.dev/policy: predictive` (short windows) is driven by Tide's own
// policy under `tide up` (real processes, loopback, ephemeral ports, the tiny fixture server):
// 6 closed-loop clients of 2 s requests keep ~6 slots busy → ceil(6 / (2 slots x 80 %)) = 4
// (long requests, so the clients' own overhead between requests — large on a loaded machine —
// leaves the busy slots near 6: with 200 ms requests a busy box measured 3.8 and sized 3)
// replicas; when the load stops the replicas come back to minReplicas after the scale-down window;
// every decision is a 'tide' record that `tide decide --verify` reproduces. With --dry-run the same
// decisions are recorded but nothing is scaled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deploymentYaml, httpGet, serviceYaml, sleep, tideUp, type Up } from '../runtime/helpers.ts';

const MANIFEST = `${deploymentYaml()}---
${serviceYaml()}---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: tiny
  annotations:
    tide.dev/policy: predictive
    tide.dev/cold-start: 1s
    tide.dev/scale-down-window: 5s
    tide.dev/season: none
    tide.dev/slots-per-replica: "2"
    tide.dev/target-utilization: "80%"
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: tiny}
  minReplicas: 1
  maxReplicas: 6
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
`;

async function deployment(up: Up): Promise<{ replicas: number; ready: number; desired: number }> {
  const { json } = await up.api<{ name: string; replicas: number; ready: number; desired: number }[]>('GET', '/v1/deployments');
  return json.find((d) => d.name === 'tiny')!;
}

function decisions(up: Up): any[] {
  const f = join(up.stateDir, 'decisions.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const SERVICE_MS = 2000;

/**
 * `n` closed-loop clients of SERVICE_MS requests until stop() (returns the failures). `offered(t)`:
 * the busy slots the clients really offered in the 10 s before t (their request rate x the service
 * time, Little's law) — on a loaded machine closed-loop clients fall behind their nominal n.
 */
function load(url: string, n: number): { stop(): Promise<number>; offered(t: number): number } {
  let stopped = false;
  let failures = 0;
  const starts: number[] = [];
  const clients = Array.from({ length: n }, async () => {
    while (!stopped) {
      starts.push(Date.now());
      const r = await httpGet(`${url}/sleep?ms=${SERVICE_MS}`, 30_000);
      if (r.status !== 200) failures++;
    }
  });
  return {
    async stop() { stopped = true; await Promise.all(clients); return failures; },
    offered(t) { return (starts.filter((s) => s > t - 10_000 && s <= t).length / 10) * (SERVICE_MS / 1000); },
  };
}

test('predictive policy under tide up: sized scale-up, scale-down after the window, records replay', { timeout: 120_000 }, async () => {
  const up = await tideUp(MANIFEST);
  let l: ReturnType<typeof load> | undefined;
  try {
    const url = await up.serviceUrl('tiny');
    l = load(url, 6);
    const d4 = await up.waitFor('4 ready replicas', async () => { const d = await deployment(up); return d.ready === 4 ? d : undefined; }, 25_000);
    assert.equal(d4.replicas, 4);
    const readyAt = Date.now();
    // the sized demand is what the clients keep busy (Little's law): once the rate window has filled,
    // a decision's level is within 20 % of the busy slots the clients really offered (measured on the
    // client side, as a loaded machine slows closed-loop clients down)
    const steady = await up.waitFor('a decision whose level tracks the offered load', async () => decisions(up).find((x) => {
      const offered = l!.offered(x.now);
      return x.now >= readyAt && offered >= 5 && Math.abs(x.details.level / offered - 1) <= 0.2;
    }), 30_000);
    assert.equal(steady.decider, 'tide');
    assert.ok(steady.details.level <= 6.4, `level ${steady.details.level} above what 6 clients can keep busy`);
    assert.ok(Math.abs(steady.details.serviceMs - SERVICE_MS) < 300, `service ${steady.details.serviceMs} ms`);
    // ceil(level / (2 slots x 80 %)) replicas, or the 4 already there while the scale-down window holds them
    const sized = Math.ceil(steady.details.level / 1.6 - 1e-9);
    assert.ok(steady.desiredReplicas === sized || (steady.desiredReplicas === 4 && steady.details.terms.held === 4), `${steady.desiredReplicas} replicas for level ${steady.details.level}: ${steady.explanation}`);
    const get = await up.cli(['get', 'hpa']);
    assert.equal(get.code, 0, get.stderr);
    // kubectl 1.37 names only Resource metrics in TARGETS; the predicted concurrency is an External-shaped metric
    assert.match(get.stdout, /tiny\s+Deployment\/tiny\s+[\d.]+\/1\.6\s+1\s+6\s+[1-6]\s/);
    const describe = await up.cli(['describe', 'hpa', 'tiny']);
    assert.equal(describe.code, 0, describe.stderr);
    assert.match(describe.stdout, /tide\/predicted-concurrency/);

    assert.equal(await l.stop(), 0);
    l = undefined;
    const stopAt = Date.now();
    await up.waitFor('back to 1 replica', async () => (await deployment(up)).replicas === 1, 25_000);
    const down = decisions(up).find((x) => x.now >= stopAt && x.rescale && x.desiredReplicas === 1);
    assert.ok(down, 'a scale-down decision was recorded');
    // cold-start-aware: nothing is removed before the 5 s scale-down window has passed
    assert.ok(down.now - stopAt >= 4_000, `scaled down ${down.now - stopAt} ms after the load stopped`);
    assert.ok(down.limitedBy.includes('min') || down.limitedBy.includes('none'), JSON.stringify(down.limitedBy));

    const all = decisions(up);
    assert.ok(all.length >= 3);
    assert.ok(all.every((x) => x.decider === 'tide' && x.autoscaler === 'tiny'));
    const verify = await up.cli(['decide', join(up.stateDir, 'decisions.jsonl'), '--verify']);
    assert.equal(verify.code, 0, `tide decide --verify:\n${verify.stdout}\n${verify.stderr}`);
  } finally {
    await l?.stop();
    await up.stop();
  }
});

test('predictive policy with --dry-run: decisions recorded, nothing scaled', { timeout: 40_000 }, async () => {
  const up = await tideUp(MANIFEST, ['--dry-run']);
  let l: ReturnType<typeof load> | undefined;
  try {
    const url = await up.serviceUrl('tiny');
    l = load(url, 6);
    const want = await up.waitFor('a decision to scale up', async () => decisions(up).find((x) => x.desiredReplicas >= 3), 20_000);
    assert.equal(want.decider, 'tide');
    assert.equal(want.currentReplicas, 1);
    await sleep(2_500);
    assert.equal((await deployment(up)).replicas, 1, 'dry run never scales');
    assert.ok(decisions(up).filter((x) => x.desiredReplicas > 1).every((x) => x.currentReplicas === 1));
  } finally {
    await l?.stop();
    await up.stop();
  }
});
