// Tide's predictive policy: the decision itself and its record — the min/max clamps and which rule
// limited the size, the scale-down window (shorter in reactive mode), the first decision's seed,
// reactive sizing's outstanding requests, and what the record's proposal and events say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decidePredictive, emptyPredictiveState, replicasFor, type DemandSample, type PredictivePolicy, type PredictiveState,
} from '../../../src/policies/predictive.ts';
import { policy, second } from './helpers.ts';

/** 10 min of `rate` req/s x `serviceMs`, decided every 2 s on 3 replicas. */
function warm(p: PredictivePolicy, rate: number, serviceMs = 200, seconds = 600): PredictiveState {
  let st = emptyPredictiveState();
  for (let k = 0; k < seconds; k += 2) {
    st = decidePredictive(p, { now: (k + 2) * 1000, currentReplicas: 3, readyReplicas: 3, samples: [second(k * 1000, rate, serviceMs), second((k + 1) * 1000, rate, serviceMs)], queued: 0 }, st).state;
  }
  return st;
}

test('the size is clamped to min and max, and limitedBy names the rule; the proposal is the requirement before them', () => {
  const p = policy();
  const st = warm(p, 10); // 2 busy slots: 1 replica of 4 slots
  const at = (q: PredictivePolicy, cur: number) =>
    decidePredictive(q, { now: 602_000, currentReplicas: cur, readyReplicas: cur, samples: [second(600_000, 10), second(601_000, 10)], queued: 0 }, st).record;
  const free = at(p, 1);
  assert.equal(free.desiredReplicas, 1);
  assert.deepEqual(free.limitedBy, ['none']);
  assert.equal(free.rescale, false);
  assert.deepEqual(free.events, []);
  assert.equal(free.proposals[0].proposedReplicas, 1);
  assert.ok(Math.abs(free.proposals[0].ratio! - free.details.forecast / 4) < 1e-12, 'forecast / (current x slots)');
  const min = at({ ...p, minReplicas: 2 }, 1);
  assert.deepEqual([min.desiredReplicas, min.limitedBy, min.rescale], [2, ['min'], true]);
  assert.equal(min.events.length, 1);
  assert.match(min.events[0].message, /^New size: 2; reason: /);
  assert.equal(min.proposals[0].proposedReplicas, 1);
  const max = at({ ...p, maxReplicas: 2 }, 3);
  const heavy = decidePredictive({ ...p, maxReplicas: 2 }, { now: 602_000, currentReplicas: 3, readyReplicas: 3, samples: [], queued: 4000 }, st).record;
  assert.deepEqual([heavy.desiredReplicas, heavy.limitedBy], [2, ['max']]);
  assert.ok(heavy.proposals[0].proposedReplicas! > 2);
  assert.equal(max.desiredReplicas, 1);
  // held by the window above the maximum: both rules
  const held = decidePredictive({ ...p, maxReplicas: 2 }, { now: 604_000, currentReplicas: 2, readyReplicas: 2, samples: [], queued: 0 }, decidePredictive(p, { now: 602_000, currentReplicas: 3, readyReplicas: 3, samples: [], queued: 4000 }, st).state).record;
  assert.deepEqual(held.limitedBy, ['stabilization', 'max']);
  assert.equal(decidePredictive(p, { now: 602_000, currentReplicas: 0, readyReplicas: 0, samples: [], queued: 0 }, st).record.proposals[0].ratio, undefined, 'no ratio on 0 replicas');
});

test('the scale-down window holds the largest requirement of the window, exclusive of its start; in reactive mode it is one cold start, at least 10 s', () => {
  const heldFor = (p: PredictivePolicy) => {
    // a requirement of 5 replicas at 600 s, then no demand: how long is it held?
    const st = warm(p, 1, 200, 600);
    let s = decidePredictive(p, { now: 600_000, currentReplicas: 5, readyReplicas: 5, samples: [], queued: 0, inFlight: 0 }, { ...st, required: [{ t: 600_000, n: 5 }] }).state;
    let last = 600;
    for (let t = 601; t <= 700; t++) {
      const r = decidePredictive(p, { now: t * 1000, currentReplicas: 5, readyReplicas: 5, samples: [], queued: 0, inFlight: 0 }, s);
      s = r.state;
      if (r.record.details.heldByWindow >= 5) last = t;
    }
    return last - 600;
  };
  assert.equal(heldFor(policy({ scaleDownWindowMs: 60_000 })), 59);
  // reactive: SLO 120 s covers a cold start plus two service times
  assert.equal(heldFor(policy({ scaleDownWindowMs: 60_000, sloLatencyMs: 120_000, coldStartMs: 5000, minReplicas: 0 })), 9);
  assert.equal(heldFor(policy({ scaleDownWindowMs: 60_000, sloLatencyMs: 120_000, coldStartMs: 20_000, minReplicas: 0 })), 19);
  assert.equal(heldFor(policy({ scaleDownWindowMs: 15_000, sloLatencyMs: 120_000, coldStartMs: 20_000, minReplicas: 0 })), 14);
});

test('the first decision (no requirement and no demand seen yet) remembers the current size; a later one without samples does not', () => {
  const p = policy({ scaleDownWindowMs: 60_000 });
  const first = decidePredictive(p, { now: 1000, currentReplicas: 5, readyReplicas: 5, samples: [], queued: 0 }, emptyPredictiveState());
  assert.equal(first.record.desiredReplicas, 5);
  assert.deepEqual(first.state.required, [{ t: 1000, n: 5 }, { t: 1000, n: 0 }]);
  // 2 min later, still without samples: the seed is out of the window and not renewed
  const later = decidePredictive(p, { now: 121_000, currentReplicas: 5, readyReplicas: 5, samples: [], queued: 0 }, first.state);
  assert.equal(later.record.desiredReplicas, 1);
  assert.deepEqual(later.state.required, [{ t: 121_000, n: 0 }]);
});

test('reactive sizing by outstanding requests: in flight (by default the last second\'s busy slots, rounded up) plus queued', () => {
  const p = { ...policy({ slotsPerReplica: 2, sloLatencyMs: 120_000, coldStartMs: 20_000, minReplicas: 0 }), reactiveSizing: 'outstanding' as const };
  const st = warm(p, 1, 2000, 120);
  const at = (samples: DemandSample[], queued: number, inFlight?: number) =>
    decidePredictive(p, { now: 122_000, currentReplicas: 3, readyReplicas: 3, samples, queued, ...(inFlight === undefined ? {} : { inFlight }) }, st).record.details;
  const busy = (ms: number): DemandSample => ({ t: 121_000, arrivals: 1, busyMs: ms, queuedMs: 0, started: 1, startedServiceMs: 2000 });
  assert.equal(at([busy(2500)], 2).requiredNow, Math.ceil((3 + 2) / 2));
  assert.equal(at([busy(2500)], 2, 6).requiredNow, Math.ceil((6 + 2) / 2));
  assert.equal(at([], 3).requiredNow, 2, 'no sample: none in flight');
  // the forecast never asks for more than that in reactive mode
  const d = at([busy(2500)], 2);
  assert.ok(d.requiredForecast <= d.requiredNow);
});

test('reactive deadline sizing: nothing outstanding needs no replica; anything outstanding at least one', () => {
  const p = policy({ slotsPerReplica: 8, sloLatencyMs: 30_000, coldStartMs: 20_000, minReplicas: 0 });
  const st = warm(p, 0.2, 3000, 300);
  const at = (queued: number, inFlight: number) =>
    decidePredictive(p, { now: 302_000, currentReplicas: 1, readyReplicas: 1, samples: [], queued, inFlight }, st).record.details;
  assert.equal(at(0, 0).requiredNow, 0);
  assert.equal(at(1, 0).requiredNow, 1);
  assert.equal(at(0, 1).requiredNow, 1);
  const q = at(1, 0);
  assert.equal(q.terms!.demand, Math.min(q.requiredNow, Math.ceil(q.levelSmooth! / 8 - 1e-9)));
  assert.equal(q.terms!.backlog, q.requiredNow - q.terms!.demand);
});

test('without a service time yet, demand is sized as if requests took 1 ms', () => {
  const p = policy({ slotsPerReplica: 1, maxUtilization: 1, sloLatencyMs: 2 });
  // busy time without arrivals: demand 3 busy slots, no service time
  const r = decidePredictive(p, { now: 1000, currentReplicas: 1, readyReplicas: 1, samples: [{ t: 0, arrivals: 0, busyMs: 3000, queuedMs: 0 }], queued: 0 }, emptyPredictiveState()).record;
  assert.equal(r.details.serviceMs, 0);
  assert.equal(r.details.requiredNow, replicasFor(p, 3, 1));
  assert.notEqual(replicasFor(p, 3, 1), replicasFor(p, 3, 0));
});

// ---------------------------------------------------------------- burst growth observations
// Seconds with busy time and no arrivals (no service time known): the demand is the busy slots
// themselves, so each 10 s bucket is exactly the mean of its seconds.

/** Busy-only seconds from a fresh state, busy slots per 10 s bucket given by `slots(bucket)`; the records by decision time (s). */
function busyOnly(p: PredictivePolicy, slots: (bucket: number) => number, seconds: number) {
  let st = emptyPredictiveState();
  const factor = new Map<number, number>();
  for (let k = 0; k < seconds; k += 10) {
    const samples = Array.from({ length: 10 }, (_, i) => ({ t: (k + i) * 1000, arrivals: 0, busyMs: slots(Math.floor((k + i) / 10)) * 1000, queuedMs: 0 }));
    const r = decidePredictive(p, { now: (k + 10) * 1000, currentReplicas: 3, readyReplicas: 3, samples, queued: 0 }, st);
    st = r.state;
    factor.set(k + 10, r.record.details.forecast / r.record.details.level);
  }
  return factor;
}

test('burst growth from a fresh state: the first observation has the first bucket as its base', () => {
  const f = busyOnly(policy({ burstQuantile: 0.9 }), () => 2, 400);
  // bucket 4 closes at 50 s: the first observation (base bucket 0); the 31st at 350 s
  assert.equal(f.get(350), 1);
  assert.equal(f.get(360), 1.03);
});

test('burst growth: the 100 % quantile is the upper edge of the highest bin with any weight', () => {
  assert.equal(busyOnly(policy({ burstQuantile: 1 }), () => 2, 600).get(600), 1.03);
});

test('burst growth: a base of 0.5 busy slots or less gives no ratio', () => {
  assert.equal(busyOnly(policy({ burstQuantile: 0.9 }), () => 0.5, 600).get(600), 1);
  assert.equal(busyOnly(policy({ burstQuantile: 0.9 }), () => 0.6, 600).get(600), 1.03);
});

test('burst growth: each bucket is compared with the peak of the next 4 (one horizon), binned by 3 % steps', () => {
  // 1 and 1.5 busy slots alternating: half the observations grow by 1.5 (bin 13: up to 1.03^14)
  const alt = busyOnly(policy({ burstQuantile: 0.9 }), (b) => (b % 2 ? 1.5 : 1), 1200);
  assert.ok(Math.abs(alt.get(1200)! - 1.03 ** 14) < 1e-12, `factor ${alt.get(1200)}`);
  // a one-bucket tenfold spike every 20 buckets: seen from the 4 buckets before it, 20 % of all
  const spikes = busyOnly(policy({ burstQuantile: 0.82 }), (b) => (b % 20 === 19 ? 10 : 1), 2400);
  assert.ok(Math.abs(spikes.get(2400)! - 1.03 ** 64) < 1e-9, `factor ${spikes.get(2400)}`);
  // a falling sawtooth (5, 4, 3, 2, 1): a fifth of the observations fall (bin 0), the others grow by
  // 1.25, 5/3, 2.5 and 5 (bins 7, 17, 30, 54): the 30 % quantile is bin 7's upper edge
  const saw = busyOnly(policy({ burstQuantile: 0.3 }), (b) => 5 - (b % 5), 1200);
  assert.ok(Math.abs(saw.get(1200)! - 1.03 ** 8) < 1e-12, `factor ${saw.get(1200)}`);
  // 6.7x (bin 64, the first beyond the last): counted in the last bin, so the median stays steady
  const capped = busyOnly(policy({ burstQuantile: 0.5 }), (b) => (b % 20 === 19 ? 6.7 : 1), 2400);
  assert.equal(capped.get(2400), 1.03);
});
