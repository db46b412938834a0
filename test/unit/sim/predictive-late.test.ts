// Tide's predictive policy: bounds pinned late in the mutation work (see docs/mutation.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decidePredictive, defaultPredictivePolicy, emptyPredictiveState, replicasFor, type PredictivePolicy, type PredictiveState,
} from '../../../src/policies/predictive.ts';
import { policy, second } from './helpers.ts';

test('replicasFor: the Erlang C search gives up after 10 000 sizes past its start', () => {
  // a 100 % target with no slack is never met (the tail stays above 0); a fractional slot count
  // (the type allows it) makes each of the 10 000 steps cheap: from k = 10 000 (c = 10 = d) to 20 000
  const p = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 0.001, sloTarget: 1, sloLatencyMs: 1, maxReplicas: 1e9 });
  assert.equal(replicasFor(p, 10, 1), 20_000);
});

/** 10 min of 10 req/s x 200 ms with no surge episode under way, then `over` (restored fields). */
function warmSteady(p: PredictivePolicy, over: Partial<PredictiveState> = {}): PredictiveState {
  let st = emptyPredictiveState();
  for (let k = 0; k < 600; k += 2) st = decidePredictive(p, { now: (k + 2) * 1000, currentReplicas: 3, readyReplicas: 3, samples: [second(k * 1000, 10), second((k + 1) * 1000, 10)], queued: 0 }, st).state;
  return { ...st, surgeSince: 0, surgeBaseRate: 0, surgeExcess: 0, ...over };
}
/** Decisions every 2 s from 600 s with per-second arrivals `load`; the records and states by decision time (s). */
function run(p: PredictivePolicy, st0: PredictiveState, load: (s: number) => number, toS: number) {
  let st = st0;
  const at = new Map<number, { rec: ReturnType<typeof decidePredictive>['record']; st: PredictiveState }>();
  for (let k = 600; k < toS; k += 2) {
    const r = decidePredictive(p, { now: (k + 2) * 1000, currentReplicas: 3, readyReplicas: 3, samples: [second(k * 1000, load(k)), second((k + 1) * 1000, load(k + 1))], queued: 0 }, st);
    st = r.state;
    at.set(k + 2, { rec: r.record, st });
  }
  return at;
}

test('a surge episode lasts while the last 2 s stay more than 3 sigma (and 2) above twice the rate before it', () => {
  const p = policy();
  const open = run(p, warmSteady(p), (s) => (s >= 700 ? 60 : 10), 702).get(702)!.st;
  const base = open.surgeBaseRate!;
  const limit = 2 * base + 3 * Math.sqrt(2 * base) + 2;
  assert.ok(limit > 59 && limit < 60, `limit ${limit}`);
  const next = (a0: number, a1: number) => decidePredictive(p, { now: 704_000, currentReplicas: 3, readyReplicas: 3, samples: [second(702_000, a0), second(703_000, a1)], queued: 0 }, open).state;
  assert.equal(next(30, 30).surgeSince, 702_000, 'n2 = 60: still on');
  assert.equal(next(30, 29).surgeSince, 0, 'n2 = 59: over');
});

test('a surge episode of exactly one cold start counts as long', () => {
  const p = policy();
  // 60/s from 700 s to 730 s: the episode opens at the decision at 702 s and closes at 732 s
  const at = run(p, warmSteady(p), (s) => (s >= 700 && s < 730 ? 60 : 10), 740);
  assert.equal(at.get(730)!.st.surgeSince, 702_000);
  const closed = at.get(732)!.st;
  assert.equal(closed.surgeSince, 0);
  assert.ok(closed.surgeLong! > 0);
  assert.equal(closed.surgeShort, 0);
});

test('a surge that has lasted a cold start is provisioned whatever past surges say; burst-persistence off never', () => {
  // cold start 6 s; past surges were short (low persistence); a step to 60/s stays a surge for ~10 s
  const p = policy({ coldStartMs: 6000 });
  const at = run(p, warmSteady(p, { surgeShort: 100 }), (s) => (s >= 700 ? 60 : 10), 712);
  assert.deepEqual([702, 704, 706, 708].map((s) => at.get(s)!.rec.details.surgeProvisioned), [false, false, false, true]);
  const off = run({ ...p, burstPersistence: 'off' }, warmSteady(p), (s) => (s >= 700 ? 60 : 10), 704).get(702)!.rec;
  assert.deepEqual([off.details.surgeProvisioned, off.details.surgePersistence], [false, 0]);
  const on = run({ ...p, burstPersistence: 'on' }, warmSteady(p, { surgeShort: 100 }), (s) => (s >= 700 ? 60 : 10), 704).get(702)!.rec;
  assert.deepEqual([on.details.surgeProvisioned, on.details.surgePersistence], [true, 1]);
});

test('a service slower than the SLO: the shortage is still drained 3 times over, not a negative amount', () => {
  const p = policy({ sloLatencyMs: 150 });
  const st = warmSteady(p);
  const d = decidePredictive(p, { now: 600_000, currentReplicas: 3, readyReplicas: 0, samples: [], queued: 0 }, st).record.details;
  assert.equal(d.shortageDrain, 3);
  assert.ok(d.shortageSlots! > 1);
  assert.ok(d.requiredNow >= replicasFor(p, d.level + 3 * d.shortageSlots!, d.serviceMs));
});

test('the backlog left when a new replica is ready is spread over one cold start, or one service time if longer', () => {
  for (const serviceMs of [2000, 50_000]) {
    const p = policy({ sloLatencyMs: undefined, coldStartMs: 10_000, slotsPerReplica: 1 });
    let st = emptyPredictiveState();
    for (let k = 0; k < 600; k += 2) st = decidePredictive(p, { now: (k + 2) * 1000, currentReplicas: 3, readyReplicas: 3, samples: [second(k * 1000, 0.1, serviceMs), second((k + 1) * 1000, 0.1, serviceMs)], queued: 0 }, st).state;
    const d = decidePredictive(p, { now: 600_000, currentReplicas: 1, readyReplicas: 1, samples: [], queued: 30 }, st).record.details;
    assert.ok(d.backlogLeftAtReadySlotS! > 0);
    const spread = (d.backlogLeftAtReadySlotS! * 1000) / Math.max(10_000, d.serviceMs);
    assert.equal(d.requiredNow, replicasFor(p, d.level + spread, d.serviceMs), `service ${serviceMs} ms`);
    assert.notEqual(replicasFor(p, d.level + (d.backlogLeftAtReadySlotS! * 1000) / (serviceMs === 2000 ? 2000 : 10_000), d.serviceMs), d.requiredNow);
  }
});

test('the backlog spread: 63 queued 2.3 s requests on one busy replica need 24 replicas at 70 %', () => {
  // 1/s x 2.3 s = 2.3 busy slots, more than the one ready replica drains: all 63 x 2.3 = 144.9 slot-s
  // are left, spread over the 10 s cold start: (2.3 + 14.49) / 0.7 = 23.99
  const p = policy({ sloLatencyMs: undefined, coldStartMs: 10_000, slotsPerReplica: 1 });
  let st = emptyPredictiveState();
  for (let k = 0; k < 600; k += 2) st = decidePredictive(p, { now: (k + 2) * 1000, currentReplicas: 3, readyReplicas: 3, samples: [second(k * 1000, 1, 2300), second((k + 1) * 1000, 1, 2300)], queued: 0 }, st).state;
  const d = decidePredictive(p, { now: 600_000, currentReplicas: 1, readyReplicas: 1, samples: [], queued: 63 }, st).record.details;
  assert.ok(Math.abs(d.backlogLeftAtReadySlotS! - 144.9) < 1e-9);
  assert.equal(d.requiredNow, 24);
});

test('sub-millisecond requests: a large queue is still work to spread over the cold start', () => {
  // 0.5 ms each: 100 000 queued are 50 slot-s; nothing ready drains them
  const p = policy({ sloLatencyMs: undefined, coldStartMs: 10_000, slotsPerReplica: 1 });
  let st = emptyPredictiveState();
  for (let k = 0; k < 120; k += 2) st = decidePredictive(p, { now: (k + 2) * 1000, currentReplicas: 1, readyReplicas: 1, samples: [second(k * 1000, 10, 0.5), second((k + 1) * 1000, 10, 0.5)], queued: 0 }, st).state;
  const d = decidePredictive(p, { now: 120_000, currentReplicas: 1, readyReplicas: 0, samples: [], queued: 100_000 }, st).record.details;
  assert.ok(d.serviceMs > 0 && d.serviceMs < 1);
  assert.ok(Math.abs(d.backlogLeftAtReadySlotS! - 50) < 1e-6);
  assert.equal(d.requiredNow, replicasFor(p, d.level + 50_000 / 10_000, d.serviceMs));
  assert.ok(d.requiredNow >= 8);
});

test('a cold start shorter than the slack: the shortage is drained cold start / max(1 ms, SLO - service) times', () => {
  const p = policy({ coldStartMs: 1 });
  // a restored state with a service time of exactly 200 ms
  const st = { ...warmSteady(p), serviceMs: 200 };
  const drain = (sloLatencyMs: number, coldStartMs: number) =>
    decidePredictive({ ...p, sloLatencyMs, coldStartMs }, { now: 600_000, currentReplicas: 3, readyReplicas: 0, samples: [], queued: 0 }, st).record.details.shortageDrain;
  assert.equal(drain(200.5, 1), 1, '1 / max(1, 0.5)');
  assert.equal(drain(201.5, 2), 2 / 1.5);
});

test('surge thresholds are strict: exactly 2b + 3 sqrt(2b) + 2 arrivals in 2 s is not a surge, nor keeps one going', () => {
  const p = policy();
  const warm = warmSteady(p);
  // a restored state with a rate of exactly 2/s and its last two seconds at 6 each: 4 + 6 + 2 = 12 = 6 + 6
  const calm = { ...warm, rate: 2, recentArrivals: [...warm.recentArrivals.slice(0, -2), 6, 6] };
  assert.equal(decidePredictive(p, { now: 600_000, currentReplicas: 3, readyReplicas: 3, samples: [], queued: 0 }, calm).record.details.surgeProvisioned, undefined);
  // an episode whose base rate was exactly 2/s ends at 12 arrivals in 2 s
  const open = { ...calm, rate: 10, surgeSince: 590_000, surgeBaseRate: 2, surgeExcess: 5 };
  assert.equal(decidePredictive(p, { now: 600_000, currentReplicas: 3, readyReplicas: 3, samples: [], queued: 0 }, open).state.surgeSince, 0);
});
