// Recurring-spike memory: onset detection, lag learning by autocorrelation of the onsets, recall,
// and what decidePredictive does with it (pre-warming one learned lag after a past spike).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectSpikePeriod, findOnsets, onsetRatio, recallSpike, type History } from '../../../src/policies/spikes.ts';
import {
  decidePredictive, defaultPredictivePolicy, emptyPredictiveState, predictiveFromAnnotations,
  type DemandSample, type PredictivePolicy, type PredictiveState,
} from '../../../src/policies/predictive.ts';

const hist = (xs: number[]): History => ({ n: xs.length, get: (i) => xs[i] });
/** Deterministic noise in [-0.5, 0.5). */
function noise(i: number): number {
  const x = Math.sin(i * 12.9898 + 78.233) * 43758.5453;
  return x - Math.floor(x) - 0.5;
}

test('onsetRatio / findOnsets: a jump of at least the threshold over the level 20-40 s before', () => {
  const xs = Array.from({ length: 40 }, (_, i) => (i >= 20 && i < 30 ? 10 : 2));
  assert.equal(onsetRatio(hist(xs), 20), 5);
  assert.equal(onsetRatio(hist(xs), 10), 0, 'flat');
  assert.equal(onsetRatio(hist(xs), 30), 0, 'a drop is no onset');
  assert.deepEqual(findOnsets(hist(xs)), [20], 'the spike counts once, not for each of its buckets');
  // below the threshold: 1.5x
  const ys = Array.from({ length: 40 }, (_, i) => (i >= 20 ? 3 : 2));
  assert.deepEqual(findOnsets(hist(ys)), []);
  assert.deepEqual(findOnsets(hist(ys), 4, { threshold: 1.4, minBase: 0.5 }), [20]);
});

test('detectSpikePeriod: the lag at which jittered onsets recur, none for unrelated onsets', () => {
  // a spike every 180 buckets (30 min), ±1 bucket of jitter
  const on = Array.from({ length: 8 }, (_, k) => 100 + k * 180 + (k % 3) - 1);
  const p = detectSpikePeriod(on, 0, 30, 2160);
  assert.ok(Math.abs(p.lag - 180) <= 2, `lag ${p.lag}`);
  assert.ok(p.score === 1 && p.support === 7, JSON.stringify(p));
  // plus unrelated onsets in between: still a multiple of the period (fewer predictions, no false ones)
  const noisy = [...on, ...[0, 2, 4, 6].map((k) => 100 + k * 180 + 57 + 7 * k)].sort((a, b) => a - b);
  const q = detectSpikePeriod(noisy, 0, 30, 2160);
  const off = q.lag % 180;
  assert.ok(q.lag > 0 && Math.min(off, 180 - off) <= 2 * Math.round(q.lag / 180), `lag ${q.lag}`);
  assert.ok(q.score >= 0.6, JSON.stringify(q));
  // onsets with no recurring lag (gaps all different and growing)
  const irregular = [10, 60, 150, 290, 480, 720, 1010, 1350];
  assert.equal(detectSpikePeriod(irregular, 0, 30, 2160).lag, 0);
  // too few onsets to say anything
  assert.equal(detectSpikePeriod([100, 280, 460], 0, 30, 2160).lag, 0);
});

test('recallSpike: the jump one lag ago, inside the look-ahead window only', () => {
  // 2 busy slots, one spike to 8 at bucket 50; lag 100 -> expected again at 150
  const xs = Array.from({ length: 146 }, (_, i) => (i >= 50 && i < 60 ? 8 : 2));
  const h = hist(xs); // now = bucket 145: the past onset (50) is due at 150, 5 buckets ahead
  assert.equal(recallSpike(h, 100, 5, 0), 4);
  assert.equal(recallSpike(h, 100, 3, 0), 1, 'not within 3 buckets');
  assert.equal(recallSpike(h, 100, 3, 2), 4, 'with 2 buckets of margin');
  assert.equal(recallSpike(h, 0, 5, 2), 1, 'no lag learned');
});

function feed(p: PredictivePolicy, arrivals: (t: number) => number, seconds: number, serviceMs = 200) {
  let st: PredictiveState = emptyPredictiveState();
  let replicas = 2;
  const out = new Map<number, ReturnType<typeof decidePredictive>['record']>();
  let pending: DemandSample[] = [];
  for (let k = 0; k < seconds; k++) {
    const t = k * 1000;
    const a = arrivals(t);
    pending.push({ t, arrivals: a, busyMs: a * serviceMs, queuedMs: 0, started: a, startedServiceMs: a * serviceMs });
    if (k % 2 === 1) {
      const { record, state } = decidePredictive(p, { now: t + 1000, currentReplicas: replicas, readyReplicas: replicas, samples: pending, queued: 0 }, st);
      pending = [];
      st = state;
      replicas = record.desiredReplicas;
      out.set(t + 1000, record);
    }
  }
  return { out, st };
}

test('decidePredictive learns a recurring spike and pre-warms before it comes again; releases it when it does not', () => {
  const lag = 2_400_000; // a 3-minute spike every 40 min, 8x the base load, phase 17 min 20 s
  const phase = 1_040_000;
  const spikeAt = (t: number) => t % lag >= phase && t % lag < phase + 180_000;
  // ... except in the 7th cycle, where it does not come
  const load = (t: number) => 10 + Math.round(3 * noise(t / 1000)) + (spikeAt(t) && Math.floor(t / lag) !== 6 ? 70 : 0);
  const on = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 4, sloLatencyMs: 1000, coldStartMs: 30_000, seasonMs: 0 });
  const off = { ...on, spikeMemory: false };
  const seconds = 7 * lag / 1000 + 1500;
  const a = feed(on, load, seconds);
  const b = feed(off, load, seconds);
  const onsetCycle5 = 5 * lag + phase;
  const before = (o: typeof a, dt: number) => o.out.get(onsetCycle5 - dt)!;
  // 10 s before the 6th spike: pre-warmed with the memory, base size without
  const ra = before(a, 10_000), rb = before(b, 10_000);
  assert.ok(Math.abs(ra.details.spikeLagMs! - lag) <= 20_000, `learned lag ${ra.details.spikeLagMs}`);
  assert.ok(ra.details.spikeRatio! > 4, `recalled jump ${ra.details.spikeRatio}`);
  assert.ok(ra.desiredReplicas >= rb.desiredReplicas + 3, `with memory ${ra.desiredReplicas}, without ${rb.desiredReplicas}`);
  assert.match(ra.explanation, /spike/);
  // well before it (5 min): nothing extra
  assert.equal(before(a, 300_000).desiredReplicas, before(b, 300_000).desiredReplicas);
  // the 7th spike does not come: the pre-warmed replicas go within a minute of its expected onset,
  // without waiting for a scale-down window after the expected onset has passed
  const onset7 = 6 * lag + phase;
  assert.ok(a.out.get(onset7 - 10_000)!.desiredReplicas >= b.out.get(onset7 - 10_000)!.desiredReplicas + 3, 'pre-warmed for the 7th too');
  assert.equal(a.out.get(onset7 + 60_000)!.desiredReplicas, b.out.get(onset7 + 60_000)!.desiredReplicas, 'released');
});

test('decidePredictive: steady noisy load learns no spike lag, and spike memory changes nothing', () => {
  const load = (t: number) => 20 + Math.round(6 * noise(t / 1000));
  const on = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 4, sloLatencyMs: 1000, coldStartMs: 30_000, seasonMs: 0 });
  const a = feed(on, load, 4 * 3600);
  const b = feed({ ...on, spikeMemory: false }, load, 4 * 3600);
  assert.equal(a.st.spikeLag, 0);
  for (const [t, r] of a.out) assert.equal(r.desiredReplicas, b.out.get(t)!.desiredReplicas);
});

test('demand beyond the ready capacity asks for the backlog it will build during a cold start', () => {
  const p = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 4, sloLatencyMs: 1000, coldStartMs: 30_000, seasonMs: 0 });
  const { st } = feed(p, () => 100, 120); // 20 busy slots
  const obs = (ready: number) => ({ now: 121_000, currentReplicas: 8, readyReplicas: ready, samples: [], queued: 0 });
  const enough = decidePredictive(p, obs(8), st).record;
  const short = decidePredictive(p, obs(2), st).record;
  assert.ok(short.details.requiredNow >= enough.details.requiredNow + 5, `short ${short.details.requiredNow}, enough ${enough.details.requiredNow}`);
  // a request that can wait out a cold start within its SLO: no extra
  const lax = { ...p, sloLatencyMs: 60_000 };
  const { st: st2 } = feed(lax, () => 100, 120);
  assert.equal(decidePredictive(lax, obs(2), st2).record.details.requiredNow, decidePredictive(lax, obs(8), st2).record.details.requiredNow);
  // no latency SLO (utilization sizing): no extra either
  const util = { ...p, sloLatencyMs: undefined };
  const { st: st3 } = feed(util, () => 100, 120);
  assert.equal(decidePredictive(util, obs(2), st3).record.details.requiredNow, decidePredictive(util, obs(8), st3).record.details.requiredNow);
});

test('a state from before spike memory (no spike fields) is accepted', () => {
  const p = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 4, sloLatencyMs: 1000, seasonMs: 0 });
  const { st } = feed(p, () => 50, 60);
  const old: Partial<PredictiveState> = { ...st };
  delete old.spikeLag; delete old.spikeScore; delete old.spikeDetectedAt;
  const r = decidePredictive(p, { now: 61_000, currentReplicas: 4, readyReplicas: 4, samples: [], queued: 0 }, old as PredictiveState);
  assert.ok(r.record.desiredReplicas >= 1);
  assert.equal(r.state.spikeLag, 0);
});

test('annotations: tide.dev/spike-memory and tide.dev/spike-threshold', () => {
  const base = { name: 'x', minReplicas: 1, maxReplicas: 10 };
  assert.equal(predictiveFromAnnotations({}, base).spikeMemory, true);
  assert.equal(predictiveFromAnnotations({ 'tide.dev/spike-memory': 'off' }, base).spikeMemory, false);
  assert.equal(predictiveFromAnnotations({ 'tide.dev/spike-threshold': '3' }, base).spikeThreshold, 3);
  assert.throws(() => predictiveFromAnnotations({ 'tide.dev/spike-memory': 'maybe' }, base), /spike-memory/);
  assert.throws(() => predictiveFromAnnotations({ 'tide.dev/spike-threshold': '0.5' }, base), /spike-threshold/);
});
