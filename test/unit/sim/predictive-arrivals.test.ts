// Tide's predictive policy on batched and sparse arrivals: reactive sizing by deadlines (what the
// ready replicas can still start before a queued request's deadline, what a replica ordered now can
// do after its cold start) and the arrival-rate window that spans enough independent arrivals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  deadlineSlots, decidePredictive, defaultPredictivePolicy, emptyPredictiveState, predictiveFromAnnotations,
  type DemandSample, type PredictivePolicy, type PredictiveState,
} from '../../../src/policies/predictive.ts';
import { simulate } from '../../../src/sim/engine.ts';
import { predictiveController } from '../../../src/sim/controllers.ts';
import { generate, type RequestsTrace } from '../../../src/sim/workload.ts';
import { service } from './helpers.ts';

test('deadlineSlots: ready replicas are credited with what they start before the deadline, new ones after their cold start', () => {
  // SLO 30 s, mean service 3 s: a queued request must start within 30 - 2 x 3 = 24 s; cold start 20 s
  const p = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 8, sloLatencyMs: 30_000, coldStartMs: 20_000, seasonMs: 0 });
  const ok = deadlineSlots(p, { queued: 30, levelSlots: 15, readySlots: 24, serviceMs: 3000 });
  assert.equal(ok.deadlineMs, 24_000);
  assert.equal(ok.perReady, 8); // floor(24 / 3)
  assert.equal(ok.perNew, 2); // starts at 20 s and 23 s
  assert.equal(ok.servableByReady, 72); // 9 spare slots x 8
  assert.equal(ok.newSlots, 0);
  assert.equal(ok.slots, 15 + 30 / 8); // fewer than the 24 ready: the batch is served in time
  const short = deadlineSlots(p, { queued: 100, levelSlots: 15, readySlots: 24, serviceMs: 3000 });
  assert.equal(short.newSlots, 14); // (100 - 72) / 2 per new slot
  assert.equal(short.slots, 24 + 14);
  // nothing ready: every queued request needs a slot of its own when a new slot starts only one in time
  const one = deadlineSlots({ ...p, slotsPerReplica: 1, sloLatencyMs: 120_000 }, { queued: 2, levelSlots: 0.3, readySlots: 0, serviceMs: 40_000 });
  assert.equal(one.perNew, 1);
  assert.equal(one.slots, 2);
});

function decide(p: PredictivePolicy, st: PredictiveState, now: number, ready: number, queued: number, inFlight: number, sample: Partial<DemandSample> = {}) {
  return decidePredictive(p, { now, currentReplicas: ready, readyReplicas: ready, queued, inFlight, samples: [{ t: now - 1000, arrivals: 5, busyMs: inFlight * 1000, queuedMs: queued * 1000, started: 5, startedServiceMs: 15_000, ...sample }] }, st);
}

/** A state that has seen `seconds` of steady load (rate r/s, service s ms) with no queue. */
function warm(p: PredictivePolicy, r: number, s: number, seconds = 300): PredictiveState {
  let st = emptyPredictiveState();
  for (let k = 0; k < seconds; k += 2) {
    const samples: DemandSample[] = [0, 1].map((i) => ({ t: (k + i) * 1000, arrivals: r, busyMs: r * s, queuedMs: 0, started: r, startedServiceMs: r * s }));
    st = decidePredictive(p, { now: (k + 2) * 1000, currentReplicas: 3, readyReplicas: 3, samples, queued: 0 }, st).state;
  }
  return st;
}

test('reactive deadline sizing: a batch the ready replicas start in time orders nothing; one they cannot asks for new replicas, and the record says which term', () => {
  const mk = (reactiveSizing: 'deadline' | 'outstanding') => defaultPredictivePolicy({ name: 'x', slotsPerReplica: 8, sloLatencyMs: 30_000, coldStartMs: 20_000, seasonMs: 0, reactiveSizing, scaleDownWindowMs: 20_000 });
  const d = mk('deadline');
  const o = mk('outstanding');
  // 5 req/s x 3 s = 15 busy slots on 3 replicas (24 slots); a batch leaves 24 in flight and 20 queued
  const stD = warm(d, 5, 3000);
  const stO = warm(o, 5, 3000);
  const t = 302_000;
  const rd = decide(d, stD, t, 3, 20, 24).record;
  const ro = decide(o, stO, t, 3, 20, 24).record;
  assert.equal(ro.details.requiredNow, Math.ceil(44 / 8)); // the older rule: one slot per outstanding request
  assert.equal(rd.details.requiredNow, 3); // 15 + 20 / 8 = 17.5 slots
  assert.ok(rd.details.deadline && rd.details.deadline.newSlots === 0);
  assert.match(rd.explanation, /20 queued requests that the ready replicas start within their 24s deadline/);
  // a queue the ready replicas cannot start in time: new replicas, 2 starts each after their cold start
  const big = decide(d, stD, t, 3, 200, 24).record;
  assert.equal(big.details.deadline!.newSlots, Math.ceil((200 - 9 * 8) / 2));
  assert.equal(big.details.requiredNow, Math.ceil((24 + 64) / 8));
  assert.match(big.explanation, /200 queued requests must start within 24s/);
  assert.equal(big.details.terms!.demand, 2); // ceil(15 / 8)
  assert.equal(big.details.terms!.backlog, big.details.requiredNow - 2);
});

test('a policy without reactiveSizing (an old decision record) keeps one slot per outstanding request', () => {
  const p = { ...defaultPredictivePolicy({ name: 'x', slotsPerReplica: 8, sloLatencyMs: 30_000, coldStartMs: 20_000, seasonMs: 0 }) };
  delete p.reactiveSizing;
  delete p.rateMinArrivals;
  const r = decide(p, warm(p, 5, 3000), 302_000, 3, 20, 24).record;
  assert.equal(r.details.requiredNow, 6);
  assert.equal(r.details.deadline, undefined);
});

test('batched counts: the index of dispersion is about the batch size, and the rate window spans enough batches', () => {
  const p = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 8, sloLatencyMs: 30_000, coldStartMs: 20_000, seasonMs: 0 });
  const run = (arrivalsAt: (k: number) => number) => {
    let st = emptyPredictiveState();
    let rec;
    for (let k = 0; k < 600; k += 2) {
      const samples: DemandSample[] = [0, 1].map((i) => ({ t: (k + i) * 1000, arrivals: arrivalsAt(k + i), busyMs: 15_000, queuedMs: 0, started: arrivalsAt(k + i), startedServiceMs: arrivalsAt(k + i) * 3000 }));
      ({ record: rec, state: st } = decidePredictive(p, { now: (k + 2) * 1000, currentReplicas: 3, readyReplicas: 3, samples, queued: 0 }, st));
    }
    return rec!;
  };
  const batched = run((k) => (k % 5 === 0 ? 25 : 0)); // 25 requests every 5 s: 5 req/s
  const steady = run(() => 5);
  assert.ok(batched.details.rateDispersion! > 15 && batched.details.rateDispersion! < 30, `dispersion ${batched.details.rateDispersion}`);
  assert.equal(steady.details.rateDispersion, 1);
  assert.ok(batched.details.rateWindowS! >= 60, `window ${batched.details.rateWindowS}`); // 20 x 20 / 5 = 80 s
  assert.equal(steady.details.rateWindowS, 10);
  // the smoothed demand hardly moves with the batches (a 10 s window swings it by about +-50 %)
  const levels: number[] = [];
  let st = emptyPredictiveState();
  for (let k = 0; k < 600; k += 2) {
    const samples: DemandSample[] = [0, 1].map((i) => ({ t: (k + i) * 1000, arrivals: (k + i) % 5 === 0 ? 25 : 0, busyMs: 15_000, queuedMs: 0, started: (k + i) % 5 === 0 ? 25 : 0, startedServiceMs: (k + i) % 5 === 0 ? 75_000 : 0 }));
    const r = decidePredictive(p, { now: (k + 2) * 1000, currentReplicas: 3, readyReplicas: 3, samples, queued: 0 }, st);
    st = r.state;
    if (k >= 300) levels.push(r.record.details.levelSmooth!);
  }
  assert.ok(Math.max(...levels) / Math.min(...levels) < 1.35, `levels ${Math.min(...levels).toFixed(1)}..${Math.max(...levels).toFixed(1)}`);
});

/** Requests of a generated counts trace, optionally moved to the start of their batch window. */
function requests(counts: Float64Array, batchMs: number): RequestsTrace {
  const t: number[] = [];
  for (let i = 0; i < counts.length; i++) for (let k = 0; k < counts[i]; k++) t.push(batchMs > 0 ? Math.floor((i * 1000) / batchMs) * batchMs : i * 1000 + ((k * 617 + i * 131) % 1000));
  t.sort((a, b) => a - b);
  return { kind: 'requests', name: 'test', startMs: 0, times: Float64Array.from(t) };
}

test('simulated batched arrivals (reactive SLO): deadline sizing costs less than one slot per outstanding request at the same attainment', () => {
  const g = generate({ kind: 'poisson', rps: 6 }, 1_800_000, 3);
  const svc = service({ concurrency: 8, dist: { kind: 'lognormal', medianMs: 2500, sigma: 0.7 }, coldStart: { kind: 'fixed', ms: 20_000 } });
  const base = { seed: 1, trace: requests(g.counts, 5000), service: svc, sloMs: 30_000, initialReplicas: 3, maxReplicas: 50 };
  const mk = (over: Partial<PredictivePolicy>) => predictiveController(defaultPredictivePolicy({ name: 't', slotsPerReplica: 8, sloLatencyMs: 30_000, coldStartMs: 20_000, seasonMs: 0, ...over }), 2000);
  const now = simulate(base, mk({})).summary;
  const old = simulate(base, mk({ reactiveSizing: 'outstanding', rateMinArrivals: 0 })).summary;
  assert.ok(now.sloAttainment >= 0.995, `attainment ${now.sloAttainment}`);
  assert.ok(now.sloAttainment >= old.sloAttainment - 0.002, `attainment ${now.sloAttainment} vs ${old.sloAttainment}`);
  assert.ok(now.replicaSeconds < 0.85 * old.replicaSeconds, `replica-s ${now.replicaSeconds} vs ${old.replicaSeconds}`);
});

test('simulated sparse arrivals: a rate window of 20 arrivals costs less than one of 10 s at about the same attainment', () => {
  const g = generate({ kind: 'poisson', rps: 0.4 }, 3_600_000, 5);
  const svc = service({ concurrency: 1, dist: { kind: 'lognormal', medianMs: 2500, sigma: 0.5 }, coldStart: { kind: 'fixed', ms: 20_000 } });
  const base = { seed: 1, trace: requests(g.counts, 0), service: svc, sloMs: 12_000, initialReplicas: 2, maxReplicas: 50 };
  const mk = (rateMinArrivals: number) => predictiveController(defaultPredictivePolicy({ name: 't', slotsPerReplica: 1, minReplicas: 1, sloLatencyMs: 12_000, coldStartMs: 20_000, seasonMs: 0, rateMinArrivals }), 2000);
  const now = simulate(base, mk(20)).summary;
  const old = simulate(base, mk(0)).summary;
  assert.ok(now.sloAttainment >= old.sloAttainment - 0.003, `attainment ${now.sloAttainment} vs ${old.sloAttainment}`);
  assert.ok(now.replicaSeconds < 0.92 * old.replicaSeconds, `replica-s ${now.replicaSeconds} vs ${old.replicaSeconds}`);
});

test('annotations tide.dev/rate-min-arrivals and tide.dev/reactive-sizing', () => {
  const base = { name: 'm', minReplicas: 1, maxReplicas: 5 };
  const d = predictiveFromAnnotations({ 'tide.dev/policy': 'predictive' }, base);
  assert.equal(d.rateMinArrivals, 20);
  assert.equal(d.reactiveSizing, 'deadline');
  const p = predictiveFromAnnotations({ 'tide.dev/rate-min-arrivals': '0', 'tide.dev/reactive-sizing': 'Outstanding' }, base);
  assert.equal(p.rateMinArrivals, 0);
  assert.equal(p.reactiveSizing, 'outstanding');
  assert.throws(() => predictiveFromAnnotations({ 'tide.dev/rate-min-arrivals': '2.5' }, base), /tide\.dev\/rate-min-arrivals: "2\.5" must be a whole number/);
  assert.throws(() => predictiveFromAnnotations({ 'tide.dev/rate-min-arrivals': '-1' }, base), /whole number/);
  assert.throws(() => predictiveFromAnnotations({ 'tide.dev/reactive-sizing': 'eager' }, base), /tide\.dev\/reactive-sizing: "eager" must be deadline or outstanding/);
});

test('a rate that moves over minutes is demand, not clustering: the dispersion stays about 1 and the window short', () => {
  // 2 min at 1 req/s, 2 min at 20 req/s, repeated: the plain variance / mean of the counts is ~8.6,
  // the short-scale (successive-difference) dispersion ~1
  const p = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 8, sloLatencyMs: 30_000, coldStartMs: 20_000, seasonMs: 0 });
  const at = (k: number) => (Math.floor(k / 120) % 2 === 0 ? 1 : 20);
  let st = emptyPredictiveState();
  let rec;
  for (let k = 0; k < 1200; k += 2) {
    const samples: DemandSample[] = [0, 1].map((i) => ({ t: (k + i) * 1000, arrivals: at(k + i), busyMs: at(k + i) * 500, queuedMs: 0, started: at(k + i), startedServiceMs: at(k + i) * 500 }));
    ({ record: rec, state: st } = decidePredictive(p, { now: (k + 2) * 1000, currentReplicas: 3, readyReplicas: 3, samples, queued: 0 }, st));
  }
  // the last block is the 20 req/s one (1080..1200 s)
  assert.ok(rec!.details.rateDispersion! < 1.5, `dispersion ${rec!.details.rateDispersion}`);
  assert.equal(rec!.details.rateWindowS, 10);
});

test('the shortage backlog is drained within what the SLO still saves: cold start / (SLO - service), at most 3', () => {
  // 50 req/s x 2 s = 100 busy slots; 8 slots per replica; 5 of 13 replicas ready (40 slots): a shortage of 60
  const mk = (sloLatencyMs: number) => defaultPredictivePolicy({ name: 'x', slotsPerReplica: 8, sloLatencyMs, coldStartMs: 20_000, seasonMs: 0 });
  const at = (p: PredictivePolicy) => {
    const st = warm(p, 50, 2000, 120);
    return decidePredictive(p, { now: 122_000, currentReplicas: 13, readyReplicas: 5, samples: [], queued: 0 }, st).record;
  };
  const long = at(mk(20_000)); // 20 s SLO: a backlog drained within 18 s still meets it
  const short = at(mk(4_000)); // 4 s SLO: 20 / 2 = 10, capped at 3
  assert.ok(Math.abs(long.details.shortageDrain! - 20 / 18) < 0.01, `drain ${long.details.shortageDrain}`);
  assert.equal(short.details.shortageDrain, 3);
  assert.ok(Math.abs(long.details.shortageSlots! - 60) < 2, `shortage ${long.details.shortageSlots}`);
  // 100 + 1.11 x 60 = 167 busy slots vs 100 + 3 x 60 = 280: far fewer replicas ordered
  assert.ok(long.details.requiredNow <= 24 && short.details.requiredNow >= 35, `long ${long.details.requiredNow}, short ${short.details.requiredNow}`);
});
