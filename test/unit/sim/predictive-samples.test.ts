// Tide's predictive policy: how the per-second samples are taken in — activity and the idle reset
// of the rate, the 10 s buckets across a gap in the samples, and the sparse-arrival window's cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decidePredictive, emptyPredictiveState, type DemandSample, type PredictivePolicy, type PredictiveState,
} from '../../../src/policies/predictive.ts';
import { policy, second } from './helpers.ts';

const decide = (p: PredictivePolicy, st: PredictiveState, samples: DemandSample[]) =>
  decidePredictive(p, { now: samples.length ? samples[samples.length - 1].t + 1000 : 1000, currentReplicas: 2, readyReplicas: 2, samples, queued: 0 }, st);

test('activity: a second with arrivals, busy time or only a queue; idle for one scale-down window resets the rate', () => {
  const p = policy({ scaleDownWindowMs: 60_000 });
  let st = decide(p, emptyPredictiveState(), Array.from({ length: 30 }, (_, i) => second(i * 1000, 10))).state;
  assert.equal(st.lastActive, 30_000);
  const quiet = (t: number, over: Partial<DemandSample> = {}): DemandSample => ({ t, arrivals: 0, busyMs: 0, queuedMs: 0, started: 0, startedServiceMs: 0, ...over });
  assert.equal(decide(p, st, [quiet(30_000, { queuedMs: 1 })]).state.lastActive, 31_000, 'a queue alone is activity');
  assert.equal(decide(p, st, [quiet(30_000, { busyMs: 1 })]).state.lastActive, 31_000, 'busy time alone is activity');
  assert.equal(decide(p, st, [quiet(30_000, { arrivals: 1 })]).state.lastActive, 31_000, 'one arrival is activity');
  assert.equal(decide(p, st, [quiet(30_000)]).state.lastActive, 30_000);
  // idle from 30 s: the second ending at 90 s completes a 60 s window
  st = decide(p, st, Array.from({ length: 58 }, (_, i) => quiet(30_000 + i * 1000))).state; // through 87 s
  assert.ok(st.rate > 0);
  const at88 = decide(p, st, [quiet(88_000)]).state;
  assert.ok(at88.rate > 0 && at88.rateAge! > 0, 'idle for 59 s: not yet');
  // a second that starts 1 ms early (the shell's clock jitter) ends 1 ms short of the window
  const early = decide(p, at88, [quiet(88_999)]).state;
  assert.ok(early.rate > 0);
  const at89 = decide(p, at88, [quiet(89_000)]).state;
  assert.deepEqual([at89.rate, at89.rateAge], [0, 0]);
});

test('buckets across a gap in the samples: the missing buckets are empty (0)', () => {
  const p = policy();
  const st = decide(p, emptyPredictiveState(), [...Array.from({ length: 10 }, (_, i) => second(i * 1000, 10)), second(45_000, 10)]).state;
  assert.equal(st.bucketStart, 40_000);
  const b = st.buckets.flat();
  assert.equal(b.length, 4);
  // the first bucket is the mean demand of its 10 seconds
  assert.ok(Math.abs(b[0] - st.recent.slice(0, 10).reduce((a, x) => a + x, 0) / 10) < 1e-12);
  assert.deepEqual(b.slice(1), [0, 0, 0]);
  assert.equal(st.partialN, 1);
});

test('sparse arrivals: the rate window spans rateMinArrivals arrivals, at most 5 min and the seconds seen since the last reset', () => {
  const p = policy({ rateMinArrivals: 20 });
  // one request every 20 s: 0.05/s, so 20 arrivals take 400 s
  const one = (k: number) => second(k * 1000, k % 20 === 0 ? 1 : 0);
  const young = decide(p, emptyPredictiveState(), Array.from({ length: 100 }, (_, k) => one(k)));
  assert.equal(young.record.details.rateWindowS, 100, 'the 100 s seen so far');
  const old = decide(p, emptyPredictiveState(), Array.from({ length: 600 }, (_, k) => one(k)));
  assert.equal(old.record.details.rateWindowS, 300, 'at most 5 min');
});
