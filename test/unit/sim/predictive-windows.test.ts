// Tide's predictive policy: the windows of its per-second estimates, pinned through decidePredictive —
// the arrival-rate window (~3 service times, 10 s .. 5 min), the count statistics' window (one
// second per sample up to 5 min, kept only when rateMinArrivals is on), the short per-second
// histories, and the service-time estimate when a proxy starts reporting start counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decidePredictive, emptyPredictiveState, type DemandSample, type PredictivePolicy, type PredictiveState,
} from '../../../src/policies/predictive.ts';
import { policy, second, type Rec } from './helpers.ts';

function feed(p: PredictivePolicy, arrivals: (t: number) => number, fromS: number, toS: number, everyS: number, st0: PredictiveState = emptyPredictiveState(), serviceMs = 200) {
  let st = st0;
  let rec: Rec | undefined;
  let pending: DemandSample[] = [];
  for (let k = fromS; k < toS; k++) {
    pending.push(second(k * 1000, arrivals(k * 1000), serviceMs));
    if ((k + 1 - fromS) % everyS === 0 || k === toS - 1) {
      ({ record: rec, state: st } = decidePredictive(p, { now: (k + 1) * 1000, currentReplicas: 3, readyReplicas: 3, samples: pending, queued: 0 }, st));
      pending = [];
    }
  }
  return { st, rec: rec! };
}

test('the arrival-rate window: 3 mean service times, at least 10 s and at most 5 min', () => {
  const p = policy({ rateMinArrivals: 0, sloLatencyMs: 600_000 });
  const windowFor = (serviceMs: number) => feed(p, () => 1, 0, 60, 2, emptyPredictiveState(), serviceMs).rec.details.rateWindowS;
  assert.equal(windowFor(1000), 10);
  assert.ok(Math.abs(windowFor(20_000)! - 60) < 1e-9, `window ${windowFor(20_000)}`);
  assert.equal(windowFor(120_000), 300);
});

test('the count statistics: kept only with rateMinArrivals on; an EWMA over one second per sample, at most 300', () => {
  for (const off of [policy({ rateMinArrivals: 0 }), { ...policy(), rateMinArrivals: undefined }]) {
    const { st, rec } = feed(off, () => 10, 0, 20, 2);
    assert.deepEqual([st.countMean, st.countDiffSq, rec.details.rateDispersion], [0, 0, 1]);
  }
  // rateMinArrivals 1: kept, and a sparse rate (0.05/s) widens the window to 1 / 0.05 = 20 s
  const one = feed(policy({ rateMinArrivals: 1 }), (t) => (t % 20_000 === 0 ? 1 : 0), 0, 600, 2);
  assert.ok(one.st.countMean! > 0);
  assert.ok(one.rec.details.rateWindowS! > 15, `window ${one.rec.details.rateWindowS}`);
  // 400 s of 10/s, then one second of 40: the mean moves by 30 / 300, half the squared step by 450 / 300
  const p = policy();
  const steady = feed(p, () => 10, 0, 400, 10).st;
  assert.deepEqual([steady.countMean, steady.countDiffSq], [10, 0]);
  const jump = decidePredictive(p, { now: 401_000, currentReplicas: 3, readyReplicas: 3, samples: [second(400_000, 40)], queued: 0 }, steady).state;
  assert.equal(jump.countMean, 10 + 30 / 300);
  assert.equal(jump.countDiffSq, 450 / 300);
  // young: the window is the seconds seen so far (here 4)
  const young = feed(p, (t) => (t < 3000 ? 10 : 30), 0, 4, 4).st;
  assert.equal(young.countMean, 10 + 20 / 4);
  assert.equal(young.countDiffSq, 200 / 4);
});

test('the per-second histories kept: 30 s of demand, 10 s of arrivals', () => {
  const { st } = feed(policy(), (t) => t / 1000, 0, 45, 5);
  assert.equal(st.recent.length, 30);
  assert.deepEqual(st.recentArrivals, [35, 36, 37, 38, 39, 40, 41, 42, 43, 44]);
});

test('service time when a proxy starts reporting start counts: read from them only once they cover more than half a request', () => {
  const p = policy();
  const plain = (t: number, arrivals: number, busyMs: number): DemandSample => ({ t, arrivals, busyMs, queuedMs: 0 });
  // one request seen from busy time only: too few for an estimate
  let st = decidePredictive(p, { now: 1000, currentReplicas: 1, readyReplicas: 1, samples: [plain(0, 1, 300)], queued: 0 }, emptyPredictiveState()).state;
  // 420 idle seconds: the window decays to (599/600)^421 < 0.5 of a request
  const idle = Array.from({ length: 420 }, (_, i) => plain((i + 1) * 1000, 0, 0));
  st = decidePredictive(p, { now: 421_000, currentReplicas: 1, readyReplicas: 1, samples: idle, queued: 0 }, st).state;
  assert.equal(st.serviceMs, 0);
  // the proxy now reports start counts (none started): still no estimate from less than half a request
  st = decidePredictive(p, { now: 422_000, currentReplicas: 1, readyReplicas: 1, samples: [{ ...plain(421_000, 0, 0), started: 0, startedServiceMs: 0 }], queued: 0 }, st).state;
  assert.ok(st.arrivalsWindow > 0 && st.arrivalsWindow < 0.5);
  assert.equal(st.serviceMs, 0);
});

// ---------------------------------------------------------------- surges

/** 10 min of 10 req/s x 200 ms, with no surge episode under way. */
function warmSteady(p: PredictivePolicy): PredictiveState {
  return { ...feed(p, () => 10, 0, 600, 2).st, surgeSince: 0, surgeBaseRate: 0, surgeExcess: 0 };
}

test('a surge: the last 2 s of arrivals more than 3 sigma (and 2) above twice the smoothed rate', () => {
  const p = policy();
  const st = warmSteady(p);
  // the rate (10/s before) takes in the two seconds too: after 11 and 30 arrivals 2 x rate + 3 x sqrt(2 x rate) + 2
  // is 40.93, just below their 41; after 30 and 10 it is 40.17, just above their 40
  const two = (a0: number, a1: number) => decidePredictive(p, { now: 602_000, currentReplicas: 3, readyReplicas: 3, samples: [second(600_000, a0), second(601_000, a1)], queued: 0 }, st).record;
  assert.equal(two(30, 10).details.surgeProvisioned, undefined);
  const r = two(11, 30);
  assert.equal(r.details.surgeProvisioned, true, 'the first surge: the prior (a half) says provision');
  assert.ok(Math.abs(r.details.level - 20.5 * 0.2) < 1e-9, `the surge's own rate: ${r.details.level}`);
});

test('surge episodes: their excess work is learned as short or long (against the cold start), and weighs the persistence', () => {
  const p = policy();
  let st = warmSteady(p);
  // 8 s of 60/s at 700 s, 40 s of 60/s at 800 s
  const load = (t: number) => ((t >= 700_000 && t < 708_000) || (t >= 800_000 && t < 840_000) ? 60 : 10);
  const recs = new Map<number, Rec>();
  const states = new Map<number, PredictiveState>();
  for (let k = 600; k < 900; k += 2) {
    const r = decidePredictive(p, { now: (k + 2) * 1000, currentReplicas: 3, readyReplicas: 3, samples: [second(k * 1000, load(k * 1000)), second((k + 1) * 1000, load((k + 1) * 1000))], queued: 0 }, st);
    st = r.state;
    recs.set(k + 2, r.record);
    states.set(k + 2, st);
  }
  // the first episode opens at 702 s from the rate then; each 2 s adds (60 - base) x 0.2 s x 2 slot-s
  const s702 = states.get(702)!;
  assert.equal(s702.surgeSince, 702_000);
  const base1 = s702.surgeBaseRate!;
  assert.ok(base1 > 10 && base1 < 30);
  assert.ok(Math.abs(s702.surgeExcess! - (60 - base1) * 0.2 * 2) < 1e-6);
  // it ends at 710 s after 8 s (< 30 s cold start): short
  const s710 = states.get(710)!;
  assert.equal(s710.surgeSince, 0);
  assert.equal(s710.surgeLong, 0);
  assert.ok(Math.abs(s710.surgeShort! - 4 * (60 - base1) * 0.4) < 1e-6, `short ${s710.surgeShort}`);
  assert.ok(Math.abs(recs.get(710)!.details.surgePersistence! - 1 / (s710.surgeShort! + 2)) < 1e-12);
  // the second is left to the queue while it is young, and learned as long once over (40 s)
  assert.equal(recs.get(802)!.details.surgeProvisioned, false);
  assert.match(recs.get(802)!.explanation, /left to the queue and the 3 ready replicas/);
  const s842 = states.get(842)!;
  assert.equal(s842.surgeSince, 0);
  const base2 = states.get(802)!.surgeBaseRate!;
  assert.ok(Math.abs(s842.surgeLong! - 20 * (60 - base2) * 0.4) < 1e-3, `long ${s842.surgeLong}`);
  const pers = recs.get(842)!.details.surgePersistence!;
  assert.ok(Math.abs(pers - (s842.surgeLong! + 1) / (s842.surgeLong! + s842.surgeShort! + 2)) < 1e-12);
  assert.ok(pers > 0.8);
});

// ---------------------------------------------------------------- backlog and shortage

test('queued work: what the ready replicas do not drain before a new one is ready is spread over one cold start', () => {
  const p = policy();
  const st = warmSteady(p);
  const at = (q: PredictivePolicy, ready: number, queued: number) =>
    decidePredictive(q, { now: 600_000, currentReplicas: 3, readyReplicas: ready, samples: [], queued }, st).record.details;
  // 500 queued x 0.2 s = 100 slot-s; 1 ready replica drains 4 x 0.95 - 2 = 1.8 slots x 30 s = 54 of it
  const d = at(p, 1, 500);
  assert.ok(Math.abs(d.backlogSlotS! - 100) < 1e-9);
  assert.ok(Math.abs(d.backlogLeftAtReadySlotS! - (100 - (4 * 0.95 - d.levelSmooth!) * 30)) < 1e-9);
  // burst-persistence 'on' (the older rule): all of it
  assert.ok(Math.abs(at({ ...p, burstPersistence: 'on' }, 1, 500).backlogLeftAtReadySlotS! - 100) < 1e-9);
  // nothing ready: the demand beyond the ready capacity is the shortage, drained 3 x (min(3, 30 s / 0.8 s))
  const none = at(p, 0, 0);
  assert.ok(Math.abs(none.shortageSlots! - none.levelSmooth!) < 1e-9);
  assert.equal(none.shortageDrain, 3);
  assert.ok(none.requiredNow > at(p, 3, 0).requiredNow);
  // a cold start shorter than the SLO minus the service time: no shortage term
  const lax = at({ ...p, sloLatencyMs: 31_000 }, 0, 0);
  assert.equal(lax.shortageSlots, 0);
});

// ---------------------------------------------------------------- trend and seasonality

const flat = (st: PredictiveState) => st.buckets.flat();
/** Least-squares slope of ys against 0..n-1. */
function slope(ys: number[]): number {
  const n = ys.length, xm = (n - 1) / 2, ym = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) { num += (i - xm) * (ys[i] - ym); den += (i - xm) ** 2; }
  return num / den;
}

test('the trend: the least-squares slope of the last 30 buckets (5 min), per second, from 6 buckets on; the forecast adds it over the horizon', () => {
  const p = policy({ sloLatencyMs: undefined });
  const ramp = (t: number) => Math.round((t / 1000) ** 2 / 400);
  const five = feed(p, ramp, 0, 55, 5);
  assert.equal(five.rec.details.trendPerS, 0, 'five buckets: no trend');
  const six = feed(p, ramp, 0, 65, 5);
  assert.ok(Math.abs(six.rec.details.trendPerS - slope(flat(six.st)) / 10) < 1e-12);
  const long = feed(p, ramp, 0, 600, 5);
  const ys = flat(long.st);
  assert.ok(Math.abs(long.rec.details.trendPerS - slope(ys.slice(-30)) / 10) < 1e-12, `trend ${long.rec.details.trendPerS}`);
  assert.ok(Math.abs(long.rec.details.forecast - (long.rec.details.level + long.rec.details.trendPerS * 32)) < 1e-9);
});

test('the seasonal delta: one season back, the peak of the horizon after it (hb + 1 buckets) less the mean of the two buckets there', () => {
  const p = policy({ seasonMs: 600_000, spikeMemory: false });
  // an irregular repeating shape: a sawtooth of 70 s teeth over a 10 min season, and a bump
  const shape = (t: number) => { const s = (t / 1000) % 600; return 5 + (s % 70) / 5 + (s >= 300 && s < 330 ? 40 : 0); };
  let { st } = feed(p, shape, 0, 700, 10);
  for (let k = 700; k < 1300; k += 10) {
    const r = feed(p, shape, k, k + 10, 10, st);
    st = r.st;
    const b = flat(st), hl = b.length, baseIdx = hl - 1 - 60;
    const peak = Math.max(...b.slice(baseIdx + 1, baseIdx + 6));
    const expected = peak - (b[baseIdx] + b[baseIdx - 1]) / 2;
    assert.ok(Math.abs(r.rec.details.seasonalDelta! - expected) < 1e-12, `at ${k + 10} s: ${r.rec.details.seasonalDelta} vs ${expected}`);
  }
  // less than a season and one bucket of history: none
  assert.equal(feed(p, shape, 0, 610, 10).rec.details.seasonalDelta, null);
});
