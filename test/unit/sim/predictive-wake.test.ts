// Tide's predictive policy with scale to zero: the last replica goes only after an idle time past
// which waking from zero, judging by the wake-ups seen so far, stays within its share of the error
// budget (tide.dev/wake-budget). Counterfactual bookkeeping: the arrivals that came within the
// cold-start excess after each idle gap are booked under the gap's length whether or not the service
// was actually cold, so the estimate does not depend on the policy's own past decisions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decidePredictive, defaultPredictivePolicy, emptyPredictiveState, zeroAfterMs,
  type DemandSample, type PredictivePolicy, type PredictiveState,
} from '../../../src/policies/predictive.ts';
import { second } from './helpers.ts';

// cold start 20 s, SLO 15 s, service 2.5 s: a request arriving at zero replicas waits out 20 s and
// misses; those arriving in the first 20 - (15 - 2.5) = 7.5 s after a wake-up would all miss
const policy = (over: Partial<PredictivePolicy> = {}): PredictivePolicy => defaultPredictivePolicy({
  name: 'x', slotsPerReplica: 8, minReplicas: 0, sloLatencyMs: 15_000, coldStartMs: 20_000, seasonMs: 0, spikeMemory: false, ...over,
});

/** Feed `seconds` of samples from `t0` (one decision per 2 s); arrivals(t) per second; returns the last record and state. */
function run(p: PredictivePolicy, st: PredictiveState, t0: number, seconds: number, arrivals: (t: number) => number, replicas = 1) {
  let rec: ReturnType<typeof decidePredictive>['record'] | undefined;
  for (let k = 0; k < seconds; k += 2) {
    const samples: DemandSample[] = [0, 1].map((i) => {
      const t = t0 + (k + i) * 1000;
      return second(t, arrivals(t), 2500);
    });
    const out = decidePredictive(p, { now: t0 + (k + 2) * 1000, currentReplicas: replicas, readyReplicas: replicas, samples, queued: 0 }, st);
    st = out.state; rec = out.record;
  }
  return { record: rec!, state: st };
}

/** Sessions every `gapS` seconds of idle: 4 requests per second for the first 6 s, then silence. */
const sessions = (gapS: number) => (t: number) => ((t / 1000) % (gapS + 6) < 6 ? 4 : 0);

test('zeroAfterMs: the idle time past which the wake-ups seen fit the budget share', () => {
  const st = emptyPredictiveState();
  assert.equal(zeroAfterMs(st, 0.99, 0.5), 0, 'no wake-ups seen: any idle time');
  const miss = new Array(14).fill(0);
  // 10,000 arrivals, 1 % error budget, half of it: 50 misses may come from wake-ups
  miss[3] = 40; miss[2] = 20; // gaps of 80-160 s and 40-80 s
  assert.equal(zeroAfterMs({ ...st, wakeMiss: miss, wakeArrivals: 10_000 }, 0.99, 0.5), 80_000, 'the 40-80 s gaps would break the budget: stay up through them');
  assert.equal(zeroAfterMs({ ...st, wakeMiss: miss, wakeArrivals: 10_000 }, 0.99, 1), 0, 'the whole budget (100 misses) fits all of them');
  miss[2] = 10; // 50 misses in all: fits exactly
  assert.equal(zeroAfterMs({ ...st, wakeMiss: miss, wakeArrivals: 10_000 }, 0.99, 0.5), 0);
  const top = new Array(14).fill(0);
  top[13] = 51;
  assert.equal(zeroAfterMs({ ...st, wakeMiss: top, wakeArrivals: 10_000 }, 0.99, 0.5), Infinity, 'even the longest gaps cost too much: never to zero');
  assert.equal(zeroAfterMs({ ...st, wakeMiss: top, wakeArrivals: 10_000 }, 0.999, 0.5), Infinity);
  assert.equal(zeroAfterMs({ ...st, wakeMiss: top, wakeArrivals: 10_000 }, 0.98, 0.5), 0, 'a 2 % target allows 100');
});

test('wake-ups are booked under their gap length: arrivals within the cold-start excess after a gap of 90 s', () => {
  const p = policy();
  const { state } = run(p, emptyPredictiveState(), 0, 960, sessions(90));
  const miss = state.wakeMiss!;
  assert.ok(miss, 'bookkeeping runs when scale to zero can cost SLO misses');
  // every 96 s a session: idle gap 90 s (bin 3 = 80-160 s); its first 7.5 s hold 6 s x 4 = 24 arrivals
  assert.ok(miss[3] > 0);
  for (let k = 0; k < 14; k++) if (k !== 3) assert.equal(miss[k], 0, `bin ${k} has no gaps`);
  const wakeUps = Math.floor(960 / 96) - 1; // the first session has no idle gap before it
  assert.ok(Math.abs(miss[3] / (24 * wakeUps) - 1) < 0.02, `${miss[3]} ≈ ${24 * wakeUps} (decay over 16 min is < 2 %)`);
  assert.ok(Math.abs(state.wakeArrivals! / (24 * 10) - 1) < 0.02);
});

test('frequent wake-ups keep the last replica through idle gaps; a gap far longer than any seen lets it go', () => {
  const p = policy();
  // sessions every 90 s of idle for an hour: every wake-up would miss its 24 requests, far over the budget
  const warm = run(p, emptyPredictiveState(), 0, 3654, sessions(90));
  const t0 = 3654_000; // the end of the session that started at 3648 s
  const quiet = run(p, warm.state, t0, 150, () => 0);
  assert.equal(quiet.record.desiredReplicas, 1, 'idle 150 s (past the 60 s window of a requirement that fell to 0 after 60 s): kept');
  assert.match(quiet.record.explanation, /the last replica is kept: idle \d+s, and waking from zero after gaps shorter than 160s would have missed more than 50 % of the error budget/);
  assert.equal(quiet.record.details.zeroAfterMs, 160_000);
  assert.deepEqual(quiet.record.limitedBy, ['stabilization']);
  const later = run(p, quiet.state, t0 + 150_000, 20, () => 0);
  assert.equal(later.record.desiredReplicas, 0, 'idle 170 s, longer than the gaps seen: to zero');
  assert.equal(later.record.details.zeroAfterMs, 160_000);
});

test('without the wake budget, or where a wake-up costs no miss, the policy goes to zero after its scale-down window as before', () => {
  const cases: Array<[string, PredictivePolicy]> = [
    ['wake budget 0', policy({ wakeBudget: 0 })],
    ['SLO absorbs a cold start', policy({ sloLatencyMs: 60_000 })],
    ['no latency SLO', policy({ sloLatencyMs: undefined })],
  ];
  for (const [name, p] of cases) {
    const warm = run(p, emptyPredictiveState(), 0, 3654, sessions(90));
    const quiet = run(p, warm.state, 3654_000, 150, () => 0);
    assert.equal(quiet.record.desiredReplicas, 0, name);
    assert.equal(quiet.record.details.zeroAfterMs, undefined, name);
    assert.equal(warm.state.wakeMiss, undefined, `${name}: no bookkeeping`);
  }
  // with a floor of one replica there is no zero to avoid
  const one = run(policy({ minReplicas: 1 }), emptyPredictiveState(), 0, 600, sessions(90));
  assert.equal(one.state.wakeMiss, undefined);
});

test('a service already at zero is not woken by the rule, and the previous state is not mutated', () => {
  const p = policy();
  const warm = run(p, emptyPredictiveState(), 0, 3654, sessions(90));
  const before = JSON.stringify(warm.state);
  const atZero = run(p, warm.state, 3654_000, 150, () => 0, 0);
  assert.equal(atZero.record.desiredReplicas, 0);
  assert.equal(JSON.stringify(warm.state), before);
});

test('rare wake-ups fit the budget: the last replica goes after the scale-down window', () => {
  const p = policy();
  // 20 req/s for 50 min of every hour, then 10 min idle: one wake-up an hour would miss 8 s x 20 =
  // 160 requests, within half of 1 % of the ~60,000 an hour
  const busy = run(p, emptyPredictiveState(), 0, 6600, (t) => ((t / 1000) % 3600 < 3000 ? 20 : 0), 3);
  assert.ok(busy.state.wakeMiss![5] > 100, 'the 600 s gap was booked (bin 5: 320-640 s)');
  assert.equal(zeroAfterMs(busy.state, p.sloTarget, p.wakeBudget!), 0);
  const quiet = run(p, busy.state, 6600_000, 150, () => 0);
  assert.equal(quiet.record.desiredReplicas, 0);
  assert.equal(quiet.record.details.zeroAfterMs, 0);
  // a stricter target (99.9 %: 30 misses an hour for wake-ups) keeps it through the same gaps
  const strict = policy({ sloTarget: 0.999 });
  const busy2 = run(strict, emptyPredictiveState(), 0, 6600, (t) => ((t / 1000) % 3600 < 3000 ? 20 : 0), 3);
  assert.equal(zeroAfterMs(busy2.state, strict.sloTarget, strict.wakeBudget!), 640_000);
  assert.equal(run(strict, busy2.state, 6600_000, 150, () => 0).record.desiredReplicas, 1);
});

// ---------------------------------------------------------------- the bookkeeping, exactly

/** One second of traffic: `a` requests of `serviceMs` each, no queue. */
const sec = (t: number, a: number, serviceMs = 2500): DemandSample => second(t, a, serviceMs);
const decide = (p: PredictivePolicy, st: PredictiveState, samples: DemandSample[]) =>
  decidePredictive(p, { now: samples[samples.length - 1].t + 1000, currentReplicas: 1, readyReplicas: 1, samples, queued: 0 }, st).state;
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('the wake-up statistics fade by 1 - 1/86,400 per second of samples, in every bin', () => {
  const d = 1 - 1 / 86_400;
  const t0 = 5_000_000;
  const st: PredictiveState = { ...emptyPredictiveState(), lastActive: t0, wakeMiss: Array.from({ length: 14 }, (_, k) => 100 + k), wakeArrivals: 1000 };
  const out = decide(policy(), st, [sec(t0, 3), sec(t0 + 1000, 3)]); // no idle gap: nothing new is booked
  assert.equal(out.wakeMiss!.length, 14);
  out.wakeMiss!.forEach((m, k) => close(m, (100 + k) * d * d, `bin ${k}`));
  close(out.wakeArrivals!, (1000 * d + 3) * d + 3, 'arrivals');
  assert.equal(out.wakeUntil, 0);
});

/** A fresh service active for one second, then idle for `gapMs`, then `a` arrivals (and `after` more seconds of one arrival each). */
function wakeAfter(gapMs: number, o: { a?: number; serviceMs?: number; after?: number; idleSamples?: boolean; p?: PredictivePolicy } = {}) {
  const p = o.p ?? policy();
  const svc = o.serviceMs ?? 2500;
  const t0 = 10_000_000;
  const first = decide(p, emptyPredictiveState(), [sec(t0, 4, svc)]);
  const t1 = t0 + 1000 + gapMs;
  const idle = o.idleSamples ? Array.from({ length: Math.floor(gapMs / 1000) }, (_, i) => sec(t0 + 1000 + i * 1000, 0, svc)) : [];
  const tail = Array.from({ length: o.after ?? 0 }, (_, i) => sec(t1 + (i + 1) * 1000, 1, svc));
  return { first, state: decide(p, first, [...idle, sec(t1, o.a ?? 4, svc), ...tail]) };
}
const booked = (st: PredictiveState) => st.wakeMiss!.map((m) => Math.round(m * 100) / 100);
const only = (bin: number, n: number) => Array.from({ length: 14 }, (_, k) => (k === bin ? n : 0));

test('idle-gap bins: 10 s x 2^k, from a gap of exactly 10 s; the last bin is open-ended; the first activity ever is no wake-up', () => {
  const { first, state } = wakeAfter(10_000);
  assert.deepEqual(first.wakeMiss, only(0, 0), 'the first arrivals of a fresh service follow no idle gap');
  assert.deepEqual(booked(state), only(0, 4), 'a gap of exactly 10 s is bin 0');
  assert.deepEqual(booked(wakeAfter(9_999).state), only(0, 0), 'shorter than 10 s: no wake-up');
  assert.deepEqual(booked(wakeAfter(19_999).state), only(0, 4));
  assert.deepEqual(booked(wakeAfter(20_000).state), only(1, 4));
  assert.deepEqual(booked(wakeAfter(90_000).state), only(3, 4));
  assert.deepEqual(booked(wakeAfter(2 * 86_400_000).state), only(13, 4), 'two days idle: the last bin');
  assert.deepEqual(booked(wakeAfter(30_000, { a: 1 }).state), only(1, 1), 'a single arrival is a wake-up');
});

test('a wake-up books the arrivals within the cold-start excess after it, not the one at its end; idle seconds open none', () => {
  // cold start 20 s, SLO 15 s, service 3 s: the excess is 8 s, so the wake-up second and the 7 after it
  const { state } = wakeAfter(40_000, { a: 1, serviceMs: 3000, after: 9 });
  assert.deepEqual(booked(state), only(2, 8));
  assert.equal(state.wakeUntil, 0, 'the window has closed');
  // the idle seconds are reported one by one: only the arrival after 21 s of them is a wake-up (bin 1)
  assert.deepEqual(booked(wakeAfter(21_000, { idleSamples: true }).state), only(1, 4));
  // an excess of half a millisecond (SLO 25 s - service 5000.5 ms against a 20 s cold start) still books the wake-up second
  assert.deepEqual(booked(wakeAfter(30_000, { serviceMs: 5000.5, p: policy({ sloLatencyMs: 25_000 }) }).state), only(1, 4));
});

test('zeroAfterMs at its edges: misses after the shortest gaps, a budget met exactly, arrivals never counted', () => {
  const st = emptyPredictiveState();
  assert.equal(zeroAfterMs({ ...st, wakeMiss: only(0, 60), wakeArrivals: 10_000 }, 0.99, 0.5), 20_000, 'gaps of 10-20 s cost too much: keep the last replica through 20 s');
  assert.equal(zeroAfterMs({ ...st, wakeMiss: only(3, 2500), wakeArrivals: 10_000 }, 0.75, 1), 0, 'exactly the budget (25 % of 10,000) fits');
  assert.equal(zeroAfterMs({ ...st, wakeMiss: only(3, 2501), wakeArrivals: 10_000 }, 0.75, 1), 160_000);
  assert.equal(zeroAfterMs({ ...st, wakeMiss: only(3, 1) }, 0.99, 0.5), 160_000, 'no arrivals counted: no budget');
});

test('the rule reads only its own bookkeeping: a wake budget set to 0 later lets the last replica go even with wake-ups booked; idle exactly τ lets it go', () => {
  const warm = run(policy(), emptyPredictiveState(), 0, 3654, sessions(90));
  assert.ok(warm.state.wakeMiss!.some((m) => m > 0));
  const off = run(policy({ wakeBudget: 0 }), warm.state, 3654_000, 150, () => 0);
  assert.equal(off.record.desiredReplicas, 0, 'budget 0: the booked wake-ups are not consulted');
  const atTau = run(policy(), warm.state, 3654_000, 160, () => 0);
  assert.equal(atTau.record.details.zeroAfterMs, 160_000);
  assert.equal(atTau.record.desiredReplicas, 0, 'idle exactly 160 s: no longer shorter than the gaps that cost too much');
  assert.equal(zeroAfterMs({ ...emptyPredictiveState(), wakeMiss: only(3, 0.001) }, 0.99, 0.5), 160_000, 'without an arrival count the budget is 0, not one arrival\'s share');
});
