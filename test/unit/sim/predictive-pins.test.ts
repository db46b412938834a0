// Tide's predictive policy pinned at its named constants and edges, through decidePredictive (and
// the exported sizing helpers): what a fresh or restored state starts from, when the spike lag is
// learned and from how much history, how far the recall looks, the burst quantile's histogram, and
// the sizing search's bounds. Each test says the rule it pins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decidePredictive, emptyPredictiveState, type DemandSample, type PredictivePolicy, type PredictiveState,
} from '../../../src/policies/predictive.ts';
import { policy, second, type Rec } from './helpers.ts';

/**
 * Feeds per-second arrivals for [fromS, toS) and decides every `everyS` seconds (a decision gets
 * the samples since the previous one). Returns the state and the records by decision time (ms).
 */
function feed(p: PredictivePolicy, arrivals: (t: number) => number, fromS: number, toS: number, everyS: number, st0: PredictiveState = emptyPredictiveState()) {
  let st = st0;
  const recs = new Map<number, Rec>();
  let pending: DemandSample[] = [];
  for (let k = fromS; k < toS; k++) {
    pending.push(second(k * 1000, arrivals(k * 1000)));
    if ((k + 1 - fromS) % everyS === 0 || k === toS - 1) {
      const now = (k + 1) * 1000;
      const r = decidePredictive(p, { now, currentReplicas: 3, readyReplicas: 3, samples: pending, queued: 0 }, st);
      st = r.state;
      recs.set(now, r.record);
      pending = [];
    }
  }
  return { st, recs };
}

// ---------------------------------------------------------------- fresh and restored state

test('a fresh state knows nothing: the first second of traffic sets the service time, a rate of one window, the first bucket', () => {
  const p = policy();
  const t = 1_000_000;
  const { state } = decidePredictive(p, { now: t + 1000, currentReplicas: 2, readyReplicas: 2, samples: [second(t, 10)], queued: 0 }, emptyPredictiveState());
  // 10 requests of 200 ms: service 200 ms; the rate EWMA (window 10 s) moves a tenth of the way
  // from 0 to 10/s: 1/s, i.e. 0.2 busy slots; the bucket opened at t holds that one second
  assert.deepEqual(state, {
    recent: [0.2], recentArrivals: [10], buckets: [], bucketStart: t, partialSum: 0.2, partialN: 1,
    serviceMs: 200, rate: 1, lastActive: t + 1000, arrivalsWindow: 10, busyWindow: 2000,
    growth: new Array(64).fill(0),
    // the first decision remembers the current size (2) besides its own requirement (1)
    required: [{ t: t + 1000, n: 2 }, { t: t + 1000, n: 1 }],
    spikeLag: 0, spikeScore: 0, spikeDetectedAt: 0,
    surgeSince: 0, surgeBaseRate: 0, surgeExcess: 0, surgeLong: 0, surgeShort: 0,
    rateAge: 1, countMean: 10, countDiffSq: 0,
    // a floor of one replica: no wake-up bookkeeping (predictive-wake.test.ts)
    wakeMiss: undefined, wakeArrivals: 0, wakeUntil: 0, wakeBin: 0,
    // samples without late-request counts: the window budget learns nothing (predictive-window-budget.test.ts)
    lateSum: 0, lateArrivals: 0, windowScale: 1, lateAge: 0,
  });
});

test('a fresh state and an idle second: no service time, no activity, rate 0', () => {
  const p = policy();
  const idle: DemandSample = { t: 1_000_000, arrivals: 0, busyMs: 0, queuedMs: 0, started: 0, startedServiceMs: 0 };
  const { state, record } = decidePredictive(p, { now: 1_001_000, currentReplicas: 1, readyReplicas: 1, samples: [idle], queued: 0 }, emptyPredictiveState());
  assert.equal(state.serviceMs, 0);
  assert.equal(state.lastActive, 0);
  assert.equal(state.rate, 0);
  assert.deepEqual([state.arrivalsWindow, state.busyWindow], [0, 0]);
  assert.equal(record.details.level, 0);
  assert.equal(record.details.spikeLagMs, 0);
});

/** The fields a state from an older Tide may lack (each added with a feature after the first release). */
const OPTIONAL = ['spikeLag', 'spikeScore', 'spikeDetectedAt', 'surgeSince', 'surgeBaseRate', 'surgeExcess', 'surgeLong', 'surgeShort', 'rateAge', 'countMean', 'countDiffSq'] as const;

test('a restored state without an optional field decides exactly as with that field 0, and the next state has it 0', () => {
  const p = policy();
  // 5 min of 10 req/s with two surges (8 s and 40 s of 60 req/s): surge history, rate age, counts
  const load = (t: number) => (t >= 100_000 && t < 108_000) || (t >= 200_000 && t < 240_000) ? 60 : 10;
  // (with the decayed work of past surge episodes, long and short, as a state that learned them has)
  const st = { ...feed(p, load, 0, 300, 2).st, surgeLong: 12, surgeShort: 4 };
  assert.ok(st.surgeSince! > 0 && st.surgeBaseRate! > 0 && st.surgeExcess! > 0 && st.countMean! > 0 && st.countDiffSq! > 0 && st.rateAge! > 0);
  const obs = { now: 302_000, currentReplicas: 3, readyReplicas: 3, samples: [second(300_000, 10), second(301_000, 10)], queued: 0 };
  const strip = (r: Rec) => ({ ...r, inputs: undefined });
  for (const f of OPTIONAL) {
    const missing: Partial<PredictiveState> = { ...st };
    delete missing[f];
    const zero: PredictiveState = { ...st, [f]: 0 };
    const a = decidePredictive(p, obs, missing as PredictiveState);
    const b = decidePredictive(p, obs, zero);
    assert.deepEqual(a.state, b.state, `${f}: next state`);
    assert.deepEqual(strip(a.record), strip(b.record), `${f}: record`);
  }
  // a state from before all of them, and a decision without samples: every one is 0 afterwards
  const old: Partial<PredictiveState> = { ...st };
  for (const f of OPTIONAL) delete old[f];
  const next = decidePredictive(p, { now: 302_000, currentReplicas: 3, readyReplicas: 3, samples: [], queued: 0 }, old as PredictiveState).state;
  for (const f of OPTIONAL) assert.equal(next[f], 0, f);
  const fresh = decidePredictive(p, { now: 1000, currentReplicas: 1, readyReplicas: 1, samples: [], queued: 0 }, old as PredictiveState).state;
  for (const f of OPTIONAL) assert.equal(fresh[f], 0, f);
});

test('the 10 s buckets: aligned to 10 s of epoch time, kept in chunks of 512 (the stored state format)', () => {
  const p = policy();
  const { st } = feed(p, () => 10, 3, 5143, 60); // from 3 s to 5143 s: buckets from 0 s
  assert.equal(st.bucketStart, 5_140_000);
  assert.deepEqual(st.buckets.map((c) => c.length), [512, 2], '514 complete buckets');
  assert.equal(st.partialN, 3, 'the open bucket holds 5140..5142 s');
});

// ---------------------------------------------------------------- spike memory

test('the spike lag is learned every 30 min of bucket time, the first time once 30 min have passed', () => {
  const p = policy();
  const { recs } = feed(p, () => 10, 0, 3700, 10);
  const detected: number[] = [];
  let st = emptyPredictiveState();
  let last = 0;
  for (let k = 0; k < 3700; k += 10) {
    const samples = Array.from({ length: 10 }, (_, i) => second((k + i) * 1000, 10));
    st = decidePredictive(p, { now: (k + 10) * 1000, currentReplicas: 3, readyReplicas: 3, samples, queued: 0 }, st).state;
    if (st.spikeDetectedAt !== last) { detected.push(st.spikeDetectedAt!); last = st.spikeDetectedAt!; }
  }
  assert.deepEqual(detected, [1_800_000, 3_600_000]);
  assert.equal(recs.get(3_700_000)!.details.spikeLagMs, 0, 'steady load: no lag');
});

/** Arrivals: 10/s, and 80/s for 2 min from each onset (s). */
const spikes = (onsetsS: number[]) => (t: number) => (onsetsS.some((o) => t >= o * 1000 && t < (o + 120) * 1000) ? 80 : 10);

test('spike lags from 5 min (30 buckets) up: a period of 310 s is learned as 300 s (the shortest lag within the 2-bucket jitter)', () => {
  const onsets = Array.from({ length: 22 }, (_, k) => 300 + 310 * k);
  const { recs } = feed(policy(), spikes(onsets), 0, 7200, 600);
  assert.equal(recs.get(7_200_000)!.details.spikeLagMs, 300_000);
  // an onset of 10x the level is needed with tide.dev/spike-threshold 10: these (8x) are none
  const { recs: high } = feed(policy({ spikeThreshold: 10 }), spikes(onsets), 0, 7200, 600);
  assert.equal(high.get(7_200_000)!.details.spikeLagMs, 0);
});

test('spike lags up to 6 h (2160 buckets, matched within 2 buckets): 6 h 20 s apart is learned, 6 h 30 s apart is not', () => {
  // three onsets, and each again one period later (no other distance recurs three times)
  const at = (period: number) => [3600, 10_000, 16_000].flatMap((o) => [o, o + period]);
  const learned = feed(policy(), spikes(at(21_620)), 0, 41_400, 600).recs;
  assert.equal(learned.get(41_400_000)!.details.spikeLagMs, 21_600_000);
  const tooLong = feed(policy(), spikes(at(21_630)), 0, 41_400, 600).recs;
  assert.equal(tooLong.get(41_400_000)!.details.spikeLagMs, 0);
});

test('the spike lag is learned from the last 24 h of buckets only', () => {
  // onsets every 5 h 50 min from 1 h on, the last at 18 h 30 min
  const onsets = [3600, 24_600, 45_600, 66_600];
  const { recs } = feed(policy(), spikes(onsets), 0, 90_600, 600);
  // detections run at 2390 s and every 1800 s after (the first decision in each 30 min of buckets)
  const lagAt = (s: number) => recs.get(s * 1000)!.details.spikeLagMs;
  assert.equal(lagAt(2400 + 47 * 1800), 20_980_000, 'at 24 h 10 min all four onsets are inside the last 24 h');
  assert.equal(lagAt(2400 + 49 * 1800), 0, 'at 25 h 10 min the first is not: three are too few');
});

test('a recalled spike is provisioned from 7 buckets before its expected onset: the look-ahead (horizon + 1 = 5 buckets) plus a 2-bucket margin', () => {
  const onsets = Array.from({ length: 22 }, (_, k) => 300 + 310 * k);
  const p = policy();
  const warmUp = feed(p, spikes(onsets), 0, 6600, 600);
  const { recs } = feed(p, spikes(onsets), 6600, 6900, 10, warmUp.st);
  assert.equal(recs.get(6_900_000)!.details.spikeLagMs, 300_000);
  // the onset at 6500 s (bucket 650) is expected again one lag (30 buckets) later, at bucket 680;
  // a decision's newest complete bucket is the one before its last sample's
  const newest = [...recs].filter(([, r]) => r.details.spikeRatio! > 1).map(([now]) => Math.floor((now - 1000) / 10_000) - 1);
  assert.equal(Math.min(...newest), 680 - 7, `recalled with newest buckets ${newest.join(',')}`);
});
