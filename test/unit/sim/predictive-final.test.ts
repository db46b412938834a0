// Tide's predictive policy: the last edges pinned in the mutation work (see docs/mutation.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decidePredictive, emptyPredictiveState, predictiveFromAnnotations, type DemandSample, type PredictivePolicy,
} from '../../../src/policies/predictive.ts';
import { policy, second } from './helpers.ts';

test('once a service time is known, even below 1 ms, demand is rate x service time, not the busy time of the second', () => {
  const p = policy();
  let st = emptyPredictiveState();
  for (let k = 0; k < 120; k += 2) st = decidePredictive(p, { now: (k + 2) * 1000, currentReplicas: 1, readyReplicas: 1, samples: [second(k * 1000, 10, 0.5), second((k + 1) * 1000, 10, 0.5)], queued: 0 }, st).state;
  // a second whose busy time is far from 10 x 0.5 ms (a slot held by something else)
  const r = decidePredictive(p, { now: 121_000, currentReplicas: 1, readyReplicas: 1, samples: [{ ...second(120_000, 10, 0.5), busyMs: 500 }], queued: 0 }, st);
  const { record, state } = r;
  assert.ok(state.serviceMs > 0 && state.serviceMs < 1);
  assert.ok(Math.abs(record.details.levelSmooth! - (state.rate * state.serviceMs) / 1000) < 1e-12, `level ${record.details.levelSmooth}`);
});

type PState = ReturnType<typeof emptyPredictiveState>;
/** Per-second arrivals `load(s)` for [fromS, toS), decided every `everyS` s; the last record and the state. */
function feed(p: PredictivePolicy, load: (s: number) => number, fromS: number, toS: number, everyS: number, st0: PState = emptyPredictiveState(), serviceMs = 200) {
  let st = st0;
  let rec: ReturnType<typeof decidePredictive>['record'] | undefined;
  let pending: DemandSample[] = [];
  for (let k = fromS; k < toS; k++) {
    pending.push(second(k * 1000, load(k), serviceMs));
    if ((k + 1 - fromS) % everyS === 0 || k === toS - 1) {
      ({ record: rec, state: st } = decidePredictive(p, { now: (k + 1) * 1000, currentReplicas: 3, readyReplicas: 3, samples: pending, queued: 0 }, st));
      pending = [];
    }
  }
  return { st, rec: rec! };
}
const spikesAt = (onsets: number[]) => (s: number) => (onsets.some((o) => s >= o && s < o + 120) ? 80 : 10);

test('spike onsets are searched from the 5th bucket of the kept history (4 buckets of base before it)', () => {
  // onsets at 40, 440, 840 and 1240 s: the first in bucket 4; the first detection (at 1800 s) needs all four
  const { rec, st } = feed(policy(), spikesAt([40, 440, 840, 1240]), 0, 1900, 100);
  assert.equal(rec.details.spikeLagMs, 380_000, 'lag 38 buckets (40 less the 2-bucket jitter)');
  assert.equal(st.spikeScore, 1, 'all three onsets with one lag before them inside the history recurred');
});

test('the spike score counts the onsets with one lag of searched history before them', () => {
  // an unrelated onset at 500 s, then a period of 300 s from 1000 s: of the 5 onsets with 300 s of
  // history before them, 3 recurred (1000 s is preceded by nothing)
  const { rec, st } = feed(policy(), spikesAt([500, 1000, 1300, 1600, 1900]), 0, 3700, 100);
  assert.equal(rec.details.spikeLagMs, 300_000, 'lag 30 buckets (the shortest looked for)');
  assert.equal(st.spikeScore, 3 / 5);
});

test('no surge is read before a service time is known; a sub-millisecond one is enough', () => {
  const zero = (t: number, arrivals: number): DemandSample => ({ t, arrivals, busyMs: 0, queuedMs: 0 });
  const p = policy();
  let st = emptyPredictiveState();
  for (let k = 0; k < 60; k++) st = decidePredictive(p, { now: (k + 1) * 1000, currentReplicas: 1, readyReplicas: 1, samples: [zero(k * 1000, k < 58 ? 1 : 40)], queued: 0 }, st).state;
  const r = decidePredictive(p, { now: 61_000, currentReplicas: 1, readyReplicas: 1, samples: [zero(60_000, 40)], queued: 0 }, st).record;
  assert.equal(r.details.serviceMs, 0);
  assert.equal(r.details.surgeProvisioned, undefined);
  const sub = feed(p, (s) => (s < 600 ? 10 : 60), 0, 602, 2, emptyPredictiveState(), 0.5).rec;
  assert.ok(sub.details.serviceMs > 0 && sub.details.serviceMs < 1);
  assert.notEqual(sub.details.surgeProvisioned, undefined);
});

test('surge episode bookkeeping: excess below one slot-s is kept as is, nothing is left over when an episode ends, and none builds up between episodes', () => {
  const p = policy();
  const warm = { ...feed(p, () => 10, 0, 600, 2).st, surgeSince: 0, surgeBaseRate: 0, surgeExcess: 0 };
  // an episode with a base of 2/s: 6 + 7 arrivals go on (13 > 12) and add (6.5 - 2) x 0.2 s x 2 s = 1.8
  const open = { ...warm, surgeSince: 590_000, surgeBaseRate: 2, surgeExcess: 5 };
  const on = decidePredictive(p, { now: 602_000, currentReplicas: 3, readyReplicas: 3, samples: [second(600_000, 6), second(601_000, 7)], queued: 0 }, open).state;
  assert.equal(on.surgeSince, 590_000);
  assert.ok(Math.abs(on.surgeExcess! - (5 + 4.5 * (on.serviceMs / 1000) * 2)) < 1e-9, `excess ${on.surgeExcess}`);
  // one short surge, then a slow ramp to 40/s and back: no episode, no excess
  const load = (s: number) => (s >= 700 && s < 708 ? 60 : s < 800 ? 10 : s < 860 ? 10 + (s - 800) / 2 : s < 960 ? 40 : Math.max(10, 40 - (s - 960) / 2));
  let st: PState = warm;
  for (let k = 600; k < 1100; k += 2) {
    st = decidePredictive(p, { now: (k + 2) * 1000, currentReplicas: 3, readyReplicas: 3, samples: [second(k * 1000, load(k)), second((k + 1) * 1000, load(k + 1))], queued: 0 }, st).state;
    if (k >= 720) assert.deepEqual([st.surgeSince, st.surgeExcess], [0, 0], `at ${k + 2} s`);
  }
  assert.equal(st.surgeLong, 0);
});

test('a policy without burstPersistence (an old decision record) provisions every surge and leaves the backlog undrained', () => {
  const p = { ...policy() };
  delete p.burstPersistence;
  const r = feed(p, (s) => (s < 600 ? 10 : 60), 0, 602, 2).rec;
  assert.equal(r.details.surgePersistence, 1);
  const st = feed(p, () => 10, 0, 600, 2).st;
  const d = decidePredictive(p, { now: 600_000, currentReplicas: 3, readyReplicas: 3, samples: [], queued: 100 }, st).record.details;
  assert.ok(Math.abs(d.backlogLeftAtReadySlotS! - d.backlogSlotS!) < 1e-12);
});

test('the SLO is at risk only when the cold start is longer than the SLO less the service time; a drained backlog leaves 0', () => {
  const p = policy();
  const st = { ...feed(p, () => 10, 0, 600, 2).st, serviceMs: 200 };
  const at = (q: PredictivePolicy, ready: number, queued = 0) => decidePredictive(q, { now: 600_000, currentReplicas: 3, readyReplicas: ready, samples: [], queued }, st).record.details;
  assert.equal(at({ ...p, sloLatencyMs: 30_200 }, 0).shortageSlots, 0, 'a cold start of exactly SLO - service: not at risk');
  assert.ok(at({ ...p, sloLatencyMs: 30_199 }, 0).shortageSlots! > 0);
  // 3 ready replicas drain 10 queued requests long before a new one would be ready
  assert.equal(at(p, 3, 10).backlogLeftAtReadySlotS, 0);
  // sub-millisecond requests are demand beyond the ready capacity too
  const sub = feed(p, () => 10, 0, 120, 2, emptyPredictiveState(), 0.5).st;
  const d = decidePredictive(p, { now: 120_000, currentReplicas: 1, readyReplicas: 0, samples: [], queued: 0 }, sub).record.details;
  assert.ok(d.serviceMs < 1 && d.shortageSlots! > 0);
});

test('annotations: durations (unit s by default, d for days), percentages in (0, 100], and what the host manifest gives', () => {
  const base = { name: 'm', minReplicas: 1, maxReplicas: 5 };
  const a = (ann: Record<string, string>, b: Partial<Parameters<typeof predictiveFromAnnotations>[1]> = {}) => predictiveFromAnnotations(ann, { ...base, ...b });
  assert.equal(a({ 'tide.dev/season': '1d' }).seasonMs, 86_400_000);
  assert.equal(a({ 'tide.dev/season': '12h' }).seasonMs, 43_200_000);
  assert.equal(a({ 'tide.dev/season': 'none' }).seasonMs, 0);
  assert.equal(a({ 'tide.dev/cold-start': '45' }).coldStartMs, 45_000);
  assert.equal(a({ 'tide.dev/slo-target': '100' }).sloTarget, 1);
  for (const bad of ['0', '100.5', 'x']) assert.throws(() => a({ 'tide.dev/slo-target': bad }), /percentage/, bad);
  assert.equal(a({ 'tide.dev/target-utilization': '50' }).targetUtilization, 0.5);
  assert.equal(a({ 'tide.dev/headroom': '10' }).headroom, 0.1);
  assert.equal(a({ 'tide.dev/burst-quantile': '95' }).burstQuantile, 0.95);
  // the host manifest's target, slots and utilization, unless annotations say otherwise
  const host = a({}, { target: 'StatefulSet/m', slotsPerReplica: 3, targetUtilization: 0.6 });
  assert.deepEqual([host.target, host.slotsPerReplica, host.targetUtilization], ['StatefulSet/m', 3, 0.6]);
  const none = a({});
  assert.deepEqual([none.target, none.slotsPerReplica, none.targetUtilization], ['Deployment/m', 1, 0.7]);
  assert.equal(a({ 'tide.dev/slots-per-replica': '1' }).slotsPerReplica, 1);
  for (const bad of ['0', '1.5']) assert.throws(() => a({ 'tide.dev/slots-per-replica': bad }), /positive integer/, bad);
  assert.equal(a({ 'tide.dev/spike-memory': 'true' }).spikeMemory, true);
  assert.equal(a({ 'tide.dev/spike-memory': 'on' }).spikeMemory, true);
  assert.equal(a({ 'tide.dev/spike-memory': 'false' }).spikeMemory, false);
  assert.equal(a({ 'tide.dev/spike-threshold': '2x' }).spikeThreshold, 2);
  for (const bad of ['1', 'x']) assert.throws(() => a({ 'tide.dev/spike-threshold': bad }), /ratio above 1/, bad);
  assert.equal(a({ 'tide.dev/rate-min-arrivals': '10000' }).rateMinArrivals, 10_000);
  assert.throws(() => a({ 'tide.dev/rate-min-arrivals': '10001' }), /whole number/);
});
