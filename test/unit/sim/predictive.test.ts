// Tide's predictive policy as a pure decider, and its manifest annotations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decidePredictive, defaultPredictivePolicy, emptyPredictiveState, predictiveFromAnnotations, replicasFor, wantsPredictive,
  type DemandSample, type PredictivePolicy, type PredictiveState,
} from '../../../src/policies/predictive.ts';

function feed(p: PredictivePolicy, perSecond: (t: number) => { arrivals: number; serviceMs: number }, seconds: number, start = 0, st0?: PredictiveState) {
  let st = st0 ?? emptyPredictiveState();
  let replicas = 2;
  const out: { t: number; n: number; rec: ReturnType<typeof decidePredictive>['record'] }[] = [];
  let pending: DemandSample[] = [];
  for (let k = 0; k < seconds; k++) {
    const t = start + k * 1000;
    const { arrivals, serviceMs } = perSecond(t);
    pending.push({ t, arrivals, busyMs: arrivals * serviceMs, queuedMs: 0, started: arrivals, startedServiceMs: arrivals * serviceMs });
    if (k % 2 === 1) {
      const { record, state } = decidePredictive(p, { now: t + 1000, currentReplicas: replicas, readyReplicas: replicas, samples: pending, queued: 0 }, st);
      pending = [];
      st = state;
      replicas = record.desiredReplicas;
      out.push({ t: t + 1000, n: replicas, rec: record });
    }
  }
  return { out, st };
}

test('replicasFor: utilization sizing without an SLO, Erlang C with one', () => {
  const p = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 4, targetUtilization: 0.5 });
  assert.equal(replicasFor(p, 0, 100), 0);
  assert.equal(replicasFor(p, 8, 100), 4); // 8 busy slots at 50% of 4 slots
  const q = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 4, sloLatencyMs: 1000 });
  const n = replicasFor(q, 8, 200);
  assert.ok(n >= 3 && n <= 4, `n=${n}`); // > 8/(4*0.95), and not much more: the SLO allows 800 ms of wait
  // a tight SLO needs more
  const tight = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 4, sloLatencyMs: 210 });
  assert.ok(replicasFor(tight, 8, 200) > n);
});

test('steady load: a stable count, sized to the load', () => {
  const p = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 4, sloLatencyMs: 1000, coldStartMs: 20_000, seasonMs: 0 });
  const { out } = feed(p, () => ({ arrivals: 40, serviceMs: 200 }), 600);
  const tail = out.slice(-100).map((o) => o.n);
  assert.ok(tail.every((n) => n === tail[0]), 'no flapping');
  assert.ok(tail[0] >= 3 && tail[0] <= 4, `replicas ${tail[0]} for 8 busy slots`);
  assert.equal(out.at(-1)!.rec.decider, 'tide');
  assert.ok(out.at(-1)!.rec.explanation.length > 10);
});

test('scale-down waits one scale-down window after the load drops', () => {
  const p = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 4, sloLatencyMs: 1000, coldStartMs: 20_000, seasonMs: 0, scaleDownWindowMs: 60_000 });
  const { out } = feed(p, (t) => ({ arrivals: t < 300_000 ? 80 : 8, serviceMs: 200 }), 600);
  const high = out.find((o) => o.t === 300_000)!.n;
  const at = (s: number) => out.find((o) => o.t === s * 1000)!.n;
  assert.equal(at(330), high, 'held inside the window');
  assert.ok(at(400) < high, 'released after it');
  assert.ok(out.find((o) => o.t === 330_000)!.rec.limitedBy.includes('stabilization'));
});

test('seasonality: capacity is pre-warmed before a recurring peak', () => {
  const season = 600_000;
  // a 60 s spike every 10 minutes, starting at 300 s into each cycle
  const load = (t: number) => ({ arrivals: (t % season) >= 300_000 && (t % season) < 360_000 ? 100 : 10, serviceMs: 200 });
  const withSeason = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 4, sloLatencyMs: 1000, coldStartMs: 20_000, seasonMs: season });
  const without = { ...withSeason, seasonMs: 0 };
  const a = feed(withSeason, load, 1800).out;
  const b = feed(without, load, 1800).out;
  // in the third cycle, 10 s before the spike
  const t = 2 * season + 290_000;
  const na = a.find((o) => o.t === t)!;
  const nb = b.find((o) => o.t === t)!;
  assert.ok(na.n > nb.n + 2, `with season ${na.n}, without ${nb.n}`);
  assert.ok(na.rec.details.seasonalDelta! > 10);
});

test('reactive mode: with a generous SLO, no spare capacity and scale to zero when idle', () => {
  const p = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 1, minReplicas: 0, sloLatencyMs: 120_000, coldStartMs: 20_000, seasonMs: 0 });
  // one 30 s job every 5 minutes
  const { out } = feed(p, (t) => ({ arrivals: t % 300_000 === 0 ? 1 : 0, serviceMs: 30_000 }), 900);
  assert.ok(Math.max(...out.slice(10).map((o) => o.n)) <= 1, 'never more than the outstanding request');
  assert.ok(out.some((o) => o.n === 0), 'scales to zero between jobs');
});

test('a decision does not mutate the state it was given (pure)', () => {
  const p = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 4, sloLatencyMs: 1000, seasonMs: 60_000 });
  const { st } = feed(p, () => ({ arrivals: 30, serviceMs: 200 }), 200);
  const snapshot = structuredClone(st);
  decidePredictive(p, { now: 1_000_000, currentReplicas: 3, readyReplicas: 3, samples: [{ t: 999_000, arrivals: 500, busyMs: 9000, queuedMs: 0 }], queued: 0 }, st);
  assert.deepEqual(st, snapshot);
});

test('annotations: tide.dev/* map onto the policy, with clear errors', () => {
  const a = {
    'tide.dev/policy': 'predictive',
    'tide.dev/slo-latency': '800ms',
    'tide.dev/slo-target': '99.5',
    'tide.dev/cold-start': '45s',
    'tide.dev/prewarm-horizon': '1m',
    'tide.dev/season': '24h',
    'tide.dev/scale-down-window': '5m',
    'tide.dev/slots-per-replica': '8',
  };
  assert.ok(wantsPredictive(a));
  assert.ok(!wantsPredictive({}));
  const p = predictiveFromAnnotations(a, { name: 'llm', minReplicas: 1, maxReplicas: 20 });
  assert.equal(p.sloLatencyMs, 800);
  assert.equal(p.sloTarget, 0.995);
  assert.equal(p.coldStartMs, 45_000);
  assert.equal(p.prewarmHorizonMs, 60_000);
  assert.equal(p.seasonMs, 86_400_000);
  assert.equal(p.scaleDownWindowMs, 300_000);
  assert.equal(p.slotsPerReplica, 8);
  assert.equal(p.maxReplicas, 20);
  const d = predictiveFromAnnotations({ 'tide.dev/cold-start': '30s' }, { name: 'x', minReplicas: 0, maxReplicas: 5 });
  assert.equal(d.prewarmHorizonMs, 32_000);
  assert.equal(d.scaleDownWindowMs, 60_000);
  assert.throws(() => predictiveFromAnnotations({ 'tide.dev/slo-latency': 'fast' }, { name: 'x', minReplicas: 0, maxReplicas: 5 }), /tide.dev\/slo-latency: "fast" is not a duration/);
  assert.throws(() => predictiveFromAnnotations({ 'tide.dev/slo-target': '150' }, { name: 'x', minReplicas: 0, maxReplicas: 5 }), /percentage/);
});

test('ProxyDemand turns proxy snapshots and completions into demand samples', async () => {
  const { ProxyDemand } = await import('../../../src/policies/predictive-shell.ts');
  const d = new ProxyDemand();
  const snap = (now: number, requestsTotal: number, inFlight: number, queued: number) => ({ now, requestsTotal, inFlight, queued, replicas: [] });
  d.snapshot(snap(0, 100, 2, 0));
  d.requestDone({ status: 200, latencyMs: 300, queuedMs: 100 });
  d.requestDone({ status: 0, latencyMs: 5, queuedMs: 0 }); // connection error: not a service time
  d.snapshot(snap(1000, 110, 4, 2));
  const { samples, queued, inFlight } = d.take();
  assert.deepEqual(samples, [{ t: 0, arrivals: 10, busyMs: 3000, queuedMs: 1000, started: 1, startedServiceMs: 200 }]);
  assert.equal(queued, 2);
  assert.equal(inFlight, 4);
  assert.deepEqual(d.take().samples, []);
  // a timer that fired 3 s late: three one-second samples sharing the interval, not one 3x surge
  for (let i = 0; i < 3; i++) d.requestDone({ status: 200, latencyMs: 500, queuedMs: 0 });
  d.snapshot(snap(4000, 140, 4, 2));
  assert.deepEqual(d.take().samples, [0, 1, 2].map((i) => ({ t: 1000 + i * 1000, arrivals: 10, busyMs: 4000, queuedMs: 2000, started: 1, startedServiceMs: 500 })));
  // jitter is not a gap: 1.4 s is one sample
  d.snapshot(snap(5400, 150, 4, 2));
  assert.deepEqual(d.take().samples.map((x) => x.arrivals), [10]);
});

test('ProxyDemand with the SLO: counts the finished requests that missed it only by waiting', async () => {
  const { ProxyDemand } = await import('../../../src/policies/predictive-shell.ts');
  const snap = (now: number, requestsTotal: number) => ({ now, requestsTotal, inFlight: 0, queued: 0, replicas: [] });
  const d = new ProxyDemand(1000);
  d.snapshot(snap(0, 0));
  d.requestDone({ status: 200, latencyMs: 1500, queuedMs: 800 }); // 700 ms of service: late by waiting
  d.requestDone({ status: 503, latencyMs: 1001, queuedMs: 1 }); // an answer all the same
  d.requestDone({ status: 200, latencyMs: 1500, queuedMs: 0 }); // its service alone misses
  d.requestDone({ status: 200, latencyMs: 1000, queuedMs: 900 }); // exactly the SLO: met
  d.requestDone({ status: 0, latencyMs: 5000, queuedMs: 4000 }); // no answer: not a request served late
  d.snapshot(snap(1000, 5));
  assert.deepEqual(d.take().samples.map((s) => [s.late, s.lateSloMs]), [[2, 1000]]);
  d.snapshot(snap(2000, 5));
  assert.deepEqual(d.take().samples.map((s) => [s.late, s.lateSloMs]), [[0, 1000]], 'counted once');
  const plain = new ProxyDemand();
  plain.snapshot(snap(0, 0));
  plain.requestDone({ status: 200, latencyMs: 1500, queuedMs: 800 });
  plain.snapshot(snap(1000, 1));
  const [s] = plain.take().samples;
  assert.ok(!('late' in s) && !('lateSloMs' in s), 'without an SLO the samples say nothing about lateness');
});

test('a sudden surge is acted on within one tick, before the smoothed rate catches up', () => {
  const p = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 4, sloLatencyMs: 1000, coldStartMs: 20_000, seasonMs: 0 });
  const { out } = feed(p, (t) => ({ arrivals: t < 300_000 ? 20 : 100, serviceMs: 200 }), 304);
  const before = out.find((o) => o.t === 300_000)!;
  const after = out.find((o) => o.t === 302_000)!; // the first decision that saw 2 s of the surge
  // 100 req/s x 200 ms = 20 busy slots: at least 6 replicas of 4 slots right away
  assert.ok(after.n >= 6, `replicas ${before.n} -> ${after.n}`);
  assert.ok(after.rec.details.level > 15);
});

test('batched arrivals: surges that past surges say are over within a cold start order no replicas (burst-persistence auto)', () => {
  // 120 requests every 6 s (a mean of 20 req/s x 500 ms = 10 busy slots), cold start 20 s
  const mk = (burstPersistence: 'auto' | 'on') => defaultPredictivePolicy({ name: 'x', slotsPerReplica: 4, sloLatencyMs: 1000, coldStartMs: 20_000, seasonMs: 0, burstPersistence });
  const load = (t: number) => ({ arrivals: (t / 1000) % 6 === 0 ? 120 : 0, serviceMs: 500 });
  const auto = feed(mk('auto'), load, 600);
  const on = feed(mk('on'), load, 600);
  const late = (o: typeof auto.out) => Math.max(...o.filter((x) => x.t > 120_000).map((x) => x.n));
  // every batch reads as a 60 req/s surge (30 busy slots): 'on' sizes for it, 'auto' learns it is short
  assert.ok(late(on.out) >= 1.5 * late(auto.out), `on ${late(on.out)} vs auto ${late(auto.out)}`);
  assert.ok(late(auto.out) <= 5, `auto ${late(auto.out)}`);
  const rec = auto.out.filter((x) => x.t > 120_000 && x.rec.details.surgeProvisioned === false)[0]?.rec;
  assert.ok(rec, 'a surge left to the queue is recorded');
  assert.match(rec.explanation, /left to the queue and the \d+ ready replicas/);
  assert.ok(rec.details.surgePersistence! < 0.5);
  assert.ok(rec.details.terms && rec.details.terms.keepForSurge >= 0);
});

test('a surge that outlasts a cold start is provisioned even after many short ones', () => {
  const p = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 4, sloLatencyMs: 1000, coldStartMs: 20_000, seasonMs: 0 });
  // short batches for 10 min, then a sustained 5x step
  const { out } = feed(p, (t) => (t < 600_000 ? { arrivals: (t / 1000) % 6 === 0 ? 60 : 0, serviceMs: 200 } : { arrivals: 100, serviceMs: 200 }), 700);
  const at = (s: number) => out.find((o) => o.t === s)!.n;
  // 100 req/s x 200 ms = 20 busy slots: >= 6 replicas once the step has lasted a cold start (or the smoothed rate caught up)
  assert.ok(at(626_000) >= 6, `replicas 26 s into the step: ${at(626_000)}`);
});

test('annotation tide.dev/burst-persistence', () => {
  const base = { name: 'm', minReplicas: 1, maxReplicas: 5 };
  assert.equal(predictiveFromAnnotations({ 'tide.dev/policy': 'predictive' }, base).burstPersistence, 'auto');
  assert.equal(predictiveFromAnnotations({ 'tide.dev/burst-persistence': 'off' }, base).burstPersistence, 'off');
  assert.throws(() => predictiveFromAnnotations({ 'tide.dev/burst-persistence': 'maybe' }, base), /tide\.dev\/burst-persistence: "maybe" must be auto, on or off/);
});
