// Golden comparison, simulated vs real: the same Knative Service (KPA, containerConcurrency 1) and
// the same open-loop arrivals, once through `tide up` (real processes and sockets on 127.0.0.1) and
// once through the simulator with the same decider. Stated tolerance: at every second from 4 s to
// the end, the real replica count is within ±1 of the simulated count at some instant within ±3 s
// (decider ticks and probe periods are not phase-aligned), and the mean absolute difference over
// the run is at most 1 replica.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE, httpGet, sleep, tideUp } from '../runtime/helpers.ts';
import { simulate, defaultService } from '../../../src/sim/engine.ts';
import { kpaController } from '../../../src/sim/controllers.ts';
import { ArrivalStream, generate, type RequestsTrace } from '../../../src/sim/workload.ts';
import { loadManifests } from '../../../src/manifests/index.ts';
import type { KpaPolicy } from '../../../src/deciders/kpa/types.ts';

const SERVICE_MS = 250;
const manifest = `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: tiny}
spec:
  template:
    metadata:
      annotations:
        autoscaling.knative.dev/window: "6s"
        autoscaling.knative.dev/min-scale: "1"
        autoscaling.knative.dev/max-scale: "6"
    spec:
      containerConcurrency: 1
      containers:
      - command: ${JSON.stringify([process.execPath, FIXTURE])}
`;

/** Open-loop arrivals (ms offsets): 4 req/s for 8 s, 14 req/s for 16 s, 2 req/s for 16 s. */
function arrivals(): number[] {
  const rate = (s: number) => (s < 8 ? 4 : s < 24 ? 14 : 2);
  const counts = generate({ kind: 'poisson', rps: 1 }, 40_000, 7);
  for (let s = 0; s < counts.counts.length; s++) counts.counts[s] = rate(s);
  const a = new ArrivalStream(counts, { dist: { kind: 'fixed', ms: SERVICE_MS } }, 11);
  const out: number[] = [];
  while (a.next()) out.push(a.t);
  return out;
}

test('simulated and real replica curves agree (KPA, step load)', { timeout: 150_000 }, async (t) => {
  const times = arrivals();
  const up = await tideUp(manifest);
  const real: { t: number; n: number }[] = [];
  let failed = 0;
  try {
    const url = await up.serviceUrl('tiny');
    await up.waitFor('one ready replica', async () => {
      const { json } = await up.api<{ name: string; replicas: number; ready: number }[]>('GET', '/v1/deployments');
      return json.find((d) => d.name === 'tiny')?.ready === 1;
    }, 20_000);
    const t0 = Date.now();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const { json } = await up.api<{ name: string; replicas: number }[]>('GET', '/v1/deployments');
        real.push({ t: Date.now() - t0, n: json.find((d) => d.name === 'tiny')!.replicas });
        await sleep(200);
      }
    })();
    const inflight: Promise<void>[] = [];
    for (const at of times) {
      const wait = at - (Date.now() - t0);
      if (wait > 0) await sleep(wait);
      inflight.push(httpGet(`${url}/sleep?ms=${SERVICE_MS}`, 30_000).then((r) => { if (r.status !== 200) failed++; }));
    }
    await Promise.all(inflight);
    const end = Date.now() - t0;
    if (end < 42_000) await sleep(42_000 - end);
    polling = false;
    await poller;
  } finally {
    await up.stop();
  }
  assert.equal(failed, 0);

  // the simulator: same manifest, same decider, same arrivals; cold start ~ a process start + probe
  const policy = loadManifests({ file: 'golden.yaml', text: manifest }).autoscalers[0].autoscaler!.policy as KpaPolicy;
  const trace: RequestsTrace = { kind: 'requests', name: 'golden', startMs: 0, times: Float64Array.from(times), serviceMs: new Float64Array(times.length).fill(SERVICE_MS + 2) };
  const sim = simulate({
    seed: 1, trace, endMs: 42_000, sloMs: 1000, initialReplicas: 1, sampleMs: 1000,
    service: { ...defaultService, concurrency: 1, coldStart: { kind: 'fixed', ms: 600 } },
  }, kpaController(policy));
  const simAt = (sec: number) => sim.series.replicas[Math.max(0, Math.min(sim.series.t.length - 1, Math.round(sec) - 1))];
  const realAt = (ms: number) => {
    let best = real[0];
    for (const r of real) if (r.t <= ms) best = r;
    return best.n;
  };
  let sumDiff = 0;
  let n = 0;
  const off: string[] = [];
  for (let s = 4; s <= 41; s++) {
    const r = realAt(s * 1000);
    let close = Infinity;
    for (let d = -3; d <= 3; d++) close = Math.min(close, Math.abs(r - simAt(s + d)));
    if (close > 1) off.push(`${s}s real ${r} sim ${simAt(s)}`);
    sumDiff += Math.abs(r - simAt(s));
    n++;
  }
  const realCurve = Array.from({ length: 38 }, (_, i) => realAt((i + 4) * 1000)).join(' ');
  const simCurve = Array.from({ length: 38 }, (_, i) => simAt(i + 4)).join(' ');
  t.diagnostic(`real: ${realCurve}`);
  t.diagnostic(`sim:  ${simCurve}`);
  t.diagnostic(`mean |real - sim| = ${(sumDiff / n).toFixed(2)} replicas`);
  assert.deepEqual(off, [], `real: ${realCurve}\nsim:  ${simCurve}`);
  assert.ok(sumDiff / n <= 1, `mean |real - sim| = ${(sumDiff / n).toFixed(2)}\nreal: ${realCurve}\nsim:  ${simCurve}`);
  // and the curves did move: up under the step, down after it
  assert.ok(Math.max(...real.map((r) => r.n)) >= 4, `real: ${realCurve}`);
  assert.ok(Math.max(...sim.series.replicas) >= 4, `sim: ${simCurve}`);
});
