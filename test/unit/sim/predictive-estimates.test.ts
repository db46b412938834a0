// Tide's predictive policy: edges of its estimates that the other predictive-*.test.ts files leave
// open, pinned through decidePredictive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decidePredictive, emptyPredictiveState, type DemandSample,
} from '../../../src/policies/predictive.ts';
import { policy } from './helpers.ts';

test('service time from busy time per arrival: two arrivals are enough for a first estimate', () => {
  const plain: DemandSample = { t: 0, arrivals: 2, busyMs: 700, queuedMs: 0 };
  const st = decidePredictive(policy(), { now: 1000, currentReplicas: 1, readyReplicas: 1, samples: [plain], queued: 0 }, emptyPredictiveState()).state;
  assert.equal(st.serviceMs, 350);
});

test('before any service time is known, the demand is the busy slots of the second (busy ms / 1000)', () => {
  const r = decidePredictive(policy(), { now: 1000, currentReplicas: 1, readyReplicas: 1, samples: [{ t: 0, arrivals: 0, busyMs: 3000, queuedMs: 0 }], queued: 0 }, emptyPredictiveState()).record;
  assert.equal(r.details.serviceMs, 0);
  assert.equal(r.details.level, 3);
});

test('rateMinArrivals turned on for a state without count statistics: their dispersion reads as 1 until an arrival is counted', () => {
  // one request every 10 s for 10 min with rateMinArrivals off: a rate of about 0.1/s, no counts kept
  const off = policy({ rateMinArrivals: 0 });
  let st = emptyPredictiveState();
  for (let k = 0; k < 600; k += 2) {
    const samples = [0, 1].map((i): DemandSample => { const a = (k + i) % 10 === 0 ? 1 : 0; return { t: (k + i) * 1000, arrivals: a, busyMs: a * 200, queuedMs: 0, started: a, startedServiceMs: a * 200 }; });
    st = decidePredictive(off, { now: (k + 2) * 1000, currentReplicas: 1, readyReplicas: 1, samples, queued: 0 }, st).state;
  }
  assert.equal(st.countMean, 0);
  const on = policy({ rateMinArrivals: 10 });
  const quiet: DemandSample = { t: 600_000, arrivals: 0, busyMs: 0, queuedMs: 0, started: 0, startedServiceMs: 0 };
  const r = decidePredictive(on, { now: 601_000, currentReplicas: 1, readyReplicas: 1, samples: [quiet], queued: 0 }, st).record;
  // 10 arrivals at the rate then (~0.06/s, just after the last arrival decayed): a window of
  // about 170 s, between the 10 s floor and the 300 s cap
  assert.ok(Math.abs(r.details.rateWindowS! - 10 / st.rate) < 1e-9, `window ${r.details.rateWindowS} for rate ${st.rate}`);
  assert.ok(r.details.rateWindowS! > 100 && r.details.rateWindowS! < 300);
  assert.equal(r.details.rateDispersion, 1);
});
