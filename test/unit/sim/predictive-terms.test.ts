// Tide's predictive policy: the service-time estimate's queue rule, and the terms a decision is the
// maximum of — the replicas kept during a surge left to the queue, and a recalled spike's
// requirement from the level before it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decidePredictive, emptyPredictiveState, replicasFor, type DemandSample, type PredictivePolicy, type PredictiveState,
} from '../../../src/policies/predictive.ts';
import { policy, second, type Rec } from './helpers.ts';

test('service time from busy time per arrival: once known, only seconds without any queue update it', () => {
  const p = policy();
  const plain = (t: number, arrivals: number, busyMs: number, queuedMs = 0): DemandSample => ({ t, arrivals, busyMs, queuedMs });
  let st = decidePredictive(p, { now: 2000, currentReplicas: 1, readyReplicas: 1, samples: [plain(0, 4, 1200), plain(1000, 4, 1200)], queued: 0 }, emptyPredictiveState()).state;
  assert.ok(Math.abs(st.serviceMs - 300) < 1e-9);
  // 1 ms of queueing: skipped
  const queued = decidePredictive(p, { now: 3000, currentReplicas: 1, readyReplicas: 1, samples: [plain(2000, 2, 2000, 1)], queued: 0 }, st).state;
  assert.equal(queued.serviceMs, st.serviceMs);
  // no queue: 2 requests of 1000 ms move it
  const moved = decidePredictive(p, { now: 3000, currentReplicas: 1, readyReplicas: 1, samples: [plain(2000, 2, 2000)], queued: 0 }, st).state;
  assert.equal(moved.serviceMs, (st.busyWindow * (599 / 600) + 2000) / (st.arrivalsWindow * (599 / 600) + 2));
});

/** 10 min of 10 req/s x 200 ms, no surge episode under way. */
function warmSteady(p: PredictivePolicy): PredictiveState {
  let st = emptyPredictiveState();
  for (let k = 0; k < 600; k += 2) st = decidePredictive(p, { now: (k + 2) * 1000, currentReplicas: 3, readyReplicas: 3, samples: [second(k * 1000, 10), second((k + 1) * 1000, 10)], queued: 0 }, st).state;
  return { ...st, surgeSince: 0, surgeBaseRate: 0, surgeExcess: 0 };
}

test('a surge left to the queue keeps the replicas that are up (at most what the surge needs), and is not remembered by the window', () => {
  // past surges were short: the persistence is low
  const p = policy();
  const st = { ...warmSteady(p), surgeShort: 100 };
  const at = (cur: number) => decidePredictive(p, { now: 602_000, currentReplicas: cur, readyReplicas: cur, samples: [second(600_000, 60), second(601_000, 60)], queued: 0 }, st);
  const r = at(6).record;
  assert.equal(r.details.surgeProvisioned, false);
  // the surge: 60/s x 0.2 s = 12 busy slots; the smoothed level is used instead
  const keep = Math.min(6, replicasFor(p, 12, st.serviceMs));
  assert.equal(r.details.terms!.keepForSurge, keep);
  assert.equal(r.desiredReplicas, keep);
  assert.ok(r.details.requiredNow < keep);
  assert.equal(at(2).record.details.terms!.keepForSurge, 2, 'never more than are up');
  // the window remembers the requirement, not the replicas kept
  const next = at(6).state;
  assert.equal(next.required.at(-1)!.n, r.details.requiredNow > r.details.requiredForecast ? r.details.requiredNow : r.details.requiredForecast);
});

test('a recalled spike: the jump applies to the lowest of the last minute\'s buckets and the level, and is not sized in reactive mode', () => {
  const p = policy();
  // spikes every 310 s (learned as a lag of 300 s)
  const onsets = Array.from({ length: 22 }, (_, k) => 300 + 310 * k);
  const load = (t: number) => (onsets.some((o) => t >= o * 1000 && t < (o + 120) * 1000) ? 80 : 10);
  let st = emptyPredictiveState();
  let pending: DemandSample[] = [];
  let checked = 0;
  for (let k = 0; k < 6900; k++) {
    pending.push(second(k * 1000, load(k * 1000)));
    const every = k < 6600 ? 600 : 10;
    if ((k + 1) % every === 0) {
      let r: Rec;
      ({ record: r, state: st } = decidePredictive(p, { now: (k + 1) * 1000, currentReplicas: 3, readyReplicas: 3, samples: pending, queued: 0 }, st));
      pending = [];
      if (k >= 6600 && r.details.spikeRatio! > 1) {
        const b = st.buckets.flat();
        const base = Math.min(r.details.level, ...b.slice(-6));
        assert.equal(r.details.terms!.spike, replicasFor(p, base * r.details.spikeRatio!, st.serviceMs), `at ${k + 1} s`);
        const reactive = decidePredictive({ ...p, sloLatencyMs: 60_000 }, { now: (k + 1) * 1000, currentReplicas: 3, readyReplicas: 3, samples: [], queued: 0 }, st).record;
        assert.ok(reactive.details.spikeRatio! > 1);
        assert.equal(reactive.details.terms!.spike, 0);
        checked++;
      }
    }
  }
  assert.ok(checked >= 5, `${checked} decisions with a recalled spike`);
});
