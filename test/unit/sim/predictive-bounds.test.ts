// Tide's predictive policy at its bounds: the sizing searches' limits (replicasFor's Erlang C search,
// deadlineSlots' floors), how much bucket history a policy keeps, the burst quantile's histogram,
// the dispersion of the per-second counts, and the service-time estimate from the proxy's fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  deadlineSlots, decidePredictive, emptyPredictiveState, replicasFor, type DemandSample, type PredictivePolicy, type PredictiveState,
} from '../../../src/policies/predictive.ts';
import { policy, second, type Rec } from './helpers.ts';

function feed(p: PredictivePolicy, arrivals: (t: number) => number, fromS: number, toS: number, everyS: number, st0: PredictiveState = emptyPredictiveState(), serviceMs = 200) {
  let st = st0;
  const recs = new Map<number, Rec>();
  let pending: DemandSample[] = [];
  for (let k = fromS; k < toS; k++) {
    pending.push(second(k * 1000, arrivals(k * 1000), serviceMs));
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
const histLen = (st: PredictiveState) => st.buckets.reduce((n, c) => n + c.length, 0);

// ---------------------------------------------------------------- replicasFor's search

test('replicasFor: an unknown service time (0) sizes by utilization only, even at 100 % utilization', () => {
  const p = policy({ slotsPerReplica: 1, maxUtilization: 1 });
  assert.equal(replicasFor(p, 1, 0), 1);
  assert.equal(replicasFor(p, 3, 0), 3);
});

test('replicasFor: the queue must be stable (more slots than demand) whatever the SLO target', () => {
  // a target of 0 % within the SLO asks nothing of the tail, but c = d slots never drain a queue
  const p = policy({ slotsPerReplica: 1, maxUtilization: 1, sloTarget: 0 });
  assert.equal(replicasFor(p, 2, 100), 3);
  assert.equal(replicasFor({ ...p, sloLatencyMs: 50 }, 2, 100), 3, 'no slack either');
});

test('replicasFor: a tail that reaches 0 meets a 100 % target', () => {
  // slack 1000 ms, service 1 ms: exp(-1000) underflows to 0 with one spare slot
  const p = policy({ slotsPerReplica: 1, sloTarget: 1, sloLatencyMs: 1001 });
  assert.equal(replicasFor(p, 1, 1), 2);
});

// ---------------------------------------------------------------- deadlineSlots' floors

test('deadlineSlots: the service time counts as at least 1 ms, and the deadline without an SLO is the cold start', () => {
  const p = policy({ slotsPerReplica: 1, sloLatencyMs: 40_000, coldStartMs: 30_000 });
  for (const serviceMs of [0, 0.5]) {
    const d = deadlineSlots(p, { queued: 10, levelSlots: 0, readySlots: 1, serviceMs });
    assert.equal(d.deadlineMs, 40_000 - 2);
    assert.equal(d.perReady, 39_998);
    assert.equal(d.perNew, 9999);
  }
  const none = deadlineSlots(policy({ sloLatencyMs: undefined, coldStartMs: 20_000 }), { queued: 1, levelSlots: 0, readySlots: 0, serviceMs: 1000 });
  assert.equal(none.deadlineMs, 20_000);
  assert.equal(none.perNew, 1);
});

test('deadlineSlots: a ready slot starts at least one request before the deadline; a new one just in time (deadline = cold start) starts one', () => {
  // 40 s jobs, 10 s cold start, SLO 90 s: the deadline 90 - 80 = 10 s is shorter than one job
  const p = policy({ slotsPerReplica: 1, sloLatencyMs: 90_000, coldStartMs: 10_000 });
  const d = deadlineSlots(p, { queued: 3, levelSlots: 0, readySlots: 2, serviceMs: 40_000 });
  assert.deepEqual([d.deadlineMs, d.perReady, d.perNew, d.servableByReady, d.newSlots, d.slots], [10_000, 1, 1, 2, 1, 3]);
  // service 1 ms, deadline exactly the cold start: a new slot starts one request (at the deadline)
  const edge = deadlineSlots(policy({ slotsPerReplica: 1, sloLatencyMs: 10_002, coldStartMs: 10_000 }), { queued: 5, levelSlots: 0, readySlots: 0, serviceMs: 1 });
  assert.deepEqual([edge.deadlineMs, edge.perNew, edge.newSlots], [10_000, 1, 5]);
});

test('deadlineSlots: float noise in the level does not order an extra slot', () => {
  const p = policy({ slotsPerReplica: 8, sloLatencyMs: 30_000, coldStartMs: 20_000 });
  // 9 spare slots (less 1e-11) x 8 per slot; (100 - 72) / 2 per new slot = 14, not 15
  const d = deadlineSlots(p, { queued: 100, levelSlots: 15 + 1e-11, readySlots: 24, serviceMs: 3000 });
  assert.equal(d.newSlots, 14);
});

// ---------------------------------------------------------------- history kept

test('history kept: a season plus the horizon plus 4 buckets (or 24 h with spike memory), and 40 more; dropped a chunk of 512 at a time', () => {
  // the length just before and just after the first chunk is dropped
  const keeps = (over: Partial<PredictivePolicy>, limit: number) => {
    const p = policy({ spikeMemory: false, ...over });
    const { st } = feed(p, () => 10, 0, (limit + 512) * 10 + 1, 600);
    assert.equal(histLen(st), limit + 512, `${JSON.stringify(over)}: ${limit + 512} buckets kept`);
    const next = feed(p, () => 10, (limit + 512) * 10 + 1, (limit + 513) * 10 + 1, 10, st).st;
    assert.equal(histLen(next), limit + 1, `${JSON.stringify(over)}: then ${limit + 1}`);
  };
  keeps({ seasonMs: 0 }, 40);
  keeps({ seasonMs: 1 }, Math.ceil(32_001 / 10_000) + 4 + 40);
  keeps({ seasonMs: 600_000 }, 64 + 4 + 40);
  keeps({ seasonMs: 600_000, prewarmHorizonMs: 5000 }, 61 + 4 + 40);
});

test('history kept with spike memory: 24 h of buckets and 40 more', () => {
  const p = policy({ seasonMs: 600_000 });
  const { st } = feed(p, () => 10, 0, (8680 + 512) * 10 + 1, 600);
  assert.equal(histLen(st), 8680 + 512);
  const next = feed(p, () => 10, (8680 + 512) * 10 + 1, (8680 + 513) * 10 + 1, 10, st).st;
  assert.equal(histLen(next), 8681);
});

test('the scale-down window: a requirement exactly one window old is forgotten', () => {
  const p = policy({ scaleDownWindowMs: 60_000 });
  const { st } = feed(p, () => 10, 0, 10, 2);
  const r = decidePredictive(p, { now: 70_000, currentReplicas: 3, readyReplicas: 3, samples: [], queued: 0 }, st).state;
  assert.deepEqual(r.required.map((x) => x.t), [70_000], 'the one from 10 s is 60 s old');
});

// ---------------------------------------------------------------- burst quantile

test('burst quantile: no growth factor until 30 observations (one a bucket); steady load then grows by one bin (3 %)', () => {
  // steady load for 10 min, then tide.dev/burst-quantile is turned on: one observation per new bucket
  const warm = feed(policy(), () => 10, 0, 600, 10).st;
  const { recs } = feed(policy({ burstQuantile: 0.9 }), () => 10, 600, 1200, 10, warm);
  const factor = [...recs].map(([now, r]) => [now / 1000, r.details.forecast / r.details.level]);
  const first = factor.find(([, f]) => f > 1.01)!;
  // the buckets closed at 600, 610, ... s: 31 observations (a decayed total of 30.7; 30 weigh 29.7) at 900 s
  assert.equal(first[0], 910);
  assert.ok(Math.abs(first[1] - 1.03) < 1e-12, `factor ${first[1]}`);
  assert.ok(factor.filter(([s]) => s < 910).every(([, f]) => f < 1.0001));
});

test('burst quantile: growth is binned in 3 % steps up to 64 bins (6.6x); the quantile is the upper edge of its bin', () => {
  // 60 s of 10/s, then 40 s of 200/s, repeated: within one horizon the demand grows up to twentyfold
  const p = policy({ burstQuantile: 0.99 });
  const jumpy = feed(p, (t) => (t % 100_000 < 60_000 ? 10 : 200), 0, 1200, 10).recs;
  const g = (r: Rec) => r.details.forecast / r.details.level;
  const last = jumpy.get(1_200_000)!;
  assert.ok(Math.abs(g(last) - 1.03 ** 64) < 1e-9, `factor ${g(last)}`);
  // no traffic worth a ratio (<= 0.5 busy slots): no factor
  const quiet = feed(p, () => 2, 0, 1200, 10).recs.get(1_200_000)!;
  assert.ok(quiet.details.forecast / quiet.details.level < 1.0001);
  const some = feed(p, () => 3, 0, 1200, 10).recs.get(1_200_000)!;
  assert.ok(Math.abs(g(some) - 1.03) < 1e-12, `0.6 busy slots: factor ${g(some)}`);
});

test('burst quantile: past growth fades by 1/1440 a bucket (a half-life of about 4 h)', () => {
  // 2000 s of twentyfold jumps, then steady: the 99 % quantile stays in the top bin (6.6x) while the
  // jumps' decayed observations there weigh more than 1 % of all, which ends exactly at 24 700 s
  const p = policy({ burstQuantile: 0.99 });
  const jumps = (t: number) => (t < 2_000_000 && t % 100_000 >= 60_000 ? 200 : 10);
  const { st } = feed(p, jumps, 0, 24_600, 600);
  const { recs } = feed(p, jumps, 24_600, 24_800, 10, st);
  const g = (s: number) => { const r = recs.get(s * 1000)!; return r.details.forecast / r.details.level; };
  assert.ok(Math.abs(g(24_690) - 1.03 ** 64) < 1e-9, `at 24 690 s: ${g(24_690)}`);
  assert.ok(Math.abs(g(24_700) - 1.03 ** 46) < 1e-9, `at 24 700 s: ${g(24_700)}`);
});

// ---------------------------------------------------------------- counts and service time

test('index of dispersion: half the mean square of successive differences over the mean count, at least 1', () => {
  const p = policy();
  // 3 requests every 4 s: mean 0.75/s; a difference of 3 twice every 4 s: 9 / 2 x 2 / 4 = 2.25; 2.25 / 0.75 = 3
  const batch = feed(p, (t) => (t % 4000 === 0 ? 3 : 0), 0, 1200, 4).recs.get(1_200_000)!;
  assert.ok(Math.abs(batch.details.rateDispersion! - 3) < 0.1, `dispersion ${batch.details.rateDispersion}`);
  // alternating 0 and 10: mean 5, successive differences 10: 100 / 2 / 5 = 10
  const alt = feed(p, (t) => ((t / 1000) % 2 ? 10 : 0), 0, 1200, 2).recs.get(1_200_000)!;
  assert.ok(Math.abs(alt.details.rateDispersion! - 10) < 0.1, `dispersion ${alt.details.rateDispersion}`);
  const steady = feed(p, () => 5, 0, 600, 2).recs.get(600_000)!;
  assert.equal(steady.details.rateDispersion, 1);
});

test('service time from busy time per arrival when the proxy gives no start counts, and only from seconds without a queue once known', () => {
  const p = policy();
  const s = (t: number, arrivals: number, busyMs: number, queuedMs = 0): DemandSample => ({ t, arrivals, busyMs, queuedMs });
  let st = emptyPredictiveState();
  // one arrival is too few for an estimate; a second with a queue still counts while there is none
  st = decidePredictive(p, { now: 2000, currentReplicas: 1, readyReplicas: 1, samples: [s(0, 1, 300)], queued: 0 }, st).state;
  assert.equal(st.serviceMs, 0);
  st = decidePredictive(p, { now: 2000, currentReplicas: 1, readyReplicas: 1, samples: [s(1000, 4, 1200, 500)], queued: 0 }, st).state;
  assert.equal(st.serviceMs, (300 * (599 / 600) + 1200) / (599 / 600 + 4));
  const before = st.serviceMs;
  st = decidePredictive(p, { now: 3000, currentReplicas: 1, readyReplicas: 1, samples: [s(2000, 4, 4000, 800)], queued: 0 }, st).state;
  assert.equal(st.serviceMs, before, 'a second with a queue is skipped');
  // a sample with only one of started / startedServiceMs is read from busy time per arrival
  const half = decidePredictive(p, { now: 4000, currentReplicas: 1, readyReplicas: 1, samples: [{ ...s(3000, 2, 600), started: 2 }], queued: 0 }, st).state;
  assert.ok(Number.isFinite(half.serviceMs) && Number.isFinite(half.busyWindow) && Number.isFinite(half.arrivalsWindow));
  assert.ok(Math.abs(half.serviceMs - (st.busyWindow * (599 / 600) + 600) / (st.arrivalsWindow * (599 / 600) + 2)) < 1e-9);
});

test('service time from start counts: the windows decay by 599/600 a second, and one start is enough to read it', () => {
  const p = policy();
  let st = emptyPredictiveState();
  st = decidePredictive(p, { now: 1000, currentReplicas: 1, readyReplicas: 1, samples: [second(0, 1, 300)], queued: 0 }, st).state;
  assert.equal(st.serviceMs, 300);
  st = decidePredictive(p, { now: 2000, currentReplicas: 1, readyReplicas: 1, samples: [second(1000, 1, 900)], queued: 0 }, st).state;
  assert.deepEqual([st.arrivalsWindow, st.busyWindow], [599 / 600 + 1, 300 * (599 / 600) + 900]);
  assert.equal(st.serviceMs, (300 * (599 / 600) + 900) / (599 / 600 + 1));
});

// ---------------------------------------------------------------- spike onsets and surge memory

test('the spike lag is learned from the last 100 onsets: a new rhythm replaces an old one once 100 of its onsets exist', () => {
  // a 20 s spike every 90 s until 5400 s (60 onsets), then every 60 s (100 onsets by about 11 400 s)
  const load = (t: number) => { const s = t / 1000; return s < 5400 ? (s % 90 < 20 ? 80 : 10) : ((s - 5400) % 60 < 20 ? 80 : 10); };
  const { recs } = feed(policy(), load, 0, 12_600, 600);
  // 9 and 6 buckets apart: lags near multiples of both score; the old rhythm's 35 (36 - 1) wins while it is among the last 100
  assert.equal(recs.get(10_800_000)!.details.spikeLagMs, 350_000);
  // then only the new one: every 6 buckets, so the shortest lag from 30 buckets up
  assert.equal(recs.get(11_400_000)!.details.spikeLagMs, 300_000);
  assert.equal(recs.get(12_600_000)!.details.spikeLagMs, 300_000);
});

test('past surge episodes fade with a time constant of 6 h', () => {
  const p = policy();
  // a warm state that has learned 3 slot-s of long surges and 1 of short ones, with none under way
  const warm = { ...feed(p, () => 10, 0, 600, 2).st, surgeSince: 0, surgeBaseRate: 0, surgeExcess: 0, surgeLong: 3, surgeShort: 1 };
  const { recs } = feed(p, () => 10, 600, 600 + 6 * 3600, 600, warm);
  const x = Math.exp(-1);
  const persistence = recs.get((600 + 6 * 3600) * 1000)!.details.surgePersistence!;
  assert.ok(Math.abs(persistence - (3 * x + 1) / (4 * x + 2)) < 1e-12, `persistence ${persistence}`);
});
