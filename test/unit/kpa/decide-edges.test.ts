// decideKpa at the edges of knative's PA reconcile (pkg/reconciler/autoscaling/kpa/scaler.go
// `scale` / `handleScaleToZero`, kpa.go `ReconcileKind` / `computeNumActivators`, multiscaler.go
// `Create`): "no decider data" never acts, scale-to-zero disabled takes N to 1, the exact ends of
// the activation timeout, the grace period and the pod retention, and purity on 1-sample ticks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decideKpa, initialEbc, initKpaState, numActivators } from '../../../src/deciders/kpa/decide.ts';
import { makeKpaPolicy } from '../../../src/deciders/kpa/policy.ts';
import { kpaConfigFromMap } from '../../../src/deciders/kpa/config.ts';
import type { KpaAnnotations, KpaPolicy, KpaState } from '../../../src/deciders/kpa/types.ts';

const T0 = 1_700_000_000_000;
const at = (s: number) => T0 + s * 1000;

function policy(ann: KpaAnnotations = {}, cfg: Record<string, string> = {}, over: Partial<KpaPolicy> = {}): KpaPolicy {
  return { ...makeKpaPolicy({ name: 'svc', target: 'Deployment/svc', containerConcurrency: 0, annotations: ann }, kpaConfigFromMap(cfg)), ...over };
}
/** A state `since` seconds into its Active condition, with the decider's last word `desired`. */
function stateWith(p: KpaPolicy, over: Partial<KpaState>): KpaState {
  return { ...initKpaState(p, 0, at(0)), scaleTargetInitialized: true, ...over };
}
const noSamples = (now: number, ready: number, current = ready) => ({ now, readyPods: ready, currentReplicas: current, samples: [] });

test('no decider data (−1) never makes an active or inactive PA act, whatever min-scale says', () => {
  const p = policy({ minScale: 2 });
  for (const status of ['True', 'False'] as const) {
    const st = stateWith(p, { deciderDesired: -1, active: { status, reason: status === 'True' ? 'Active' : 'NoTraffic', since: at(0) } });
    const { record, state } = decideKpa(p, noSamples(at(100), 1), st);
    assert.equal(record.details.valid, false);
    assert.equal(record.details.want, -1);
    assert.equal(record.details.apply, false);
    assert.equal(record.rescale, false, `Active=${status}: nothing is applied`);
    assert.equal(record.desiredReplicas, 1);
    assert.ok(!record.limitedBy.includes('min'));
    assert.equal(state.deciderDesired, -1);
  }
});

test('while activating, "unknown" stays unknown: want −1, nothing applied, PA desired −1, activator in path', () => {
  const p = policy({}, { 'container-concurrency-target-default': '100' }, { targetBurstCapacity: 0 });
  const { record, state } = decideKpa(p, noSamples(at(10), 0, 1), null);
  assert.equal(record.details.want, -1);
  assert.equal(record.details.apply, false);
  assert.equal(state.paDesired, -1);
  assert.equal(state.sks.mode, 'Proxy');
  assert.ok(!record.limitedBy.includes('min'), 'the bound is only recorded for a real decision');
});

test('enable-scale-to-zero false: a decision of 0 takes 3 replicas straight to 1', () => {
  const p = policy({}, { 'enable-scale-to-zero': 'false' });
  const st = stateWith(p, { deciderDesired: 0, active: { status: 'True', reason: 'Active', since: at(0) } });
  const { record } = decideKpa(p, noSamples(at(100), 3), st);
  assert.equal(record.desiredReplicas, 1);
  assert.equal(record.rescale, true);
  assert.match(record.details.scaleToZero ?? '', /disabled/);
});

test('with scale to zero disabled a no-traffic loop from 5 replicas settles at 1 and never reaches 0', () => {
  const p = policy({ windowSeconds: 6 }, { 'enable-scale-to-zero': 'false' });
  let st: KpaState | null = null;
  let replicas = 5;
  const seen: number[] = [];
  for (let t = 2; t <= 240; t += 2) {
    const r = decideKpa(p, { now: at(t), readyPods: replicas, currentReplicas: replicas, samples: [{ time: at(t) - 500, concurrency: 0, rps: 0 }] }, st);
    st = r.state;
    if (r.record.rescale) replicas = r.record.desiredReplicas;
    seen.push(replicas);
  }
  assert.equal(replicas, 1);
  assert.ok(!seen.includes(0));
  assert.ok(seen[0]! < 5 || seen.some((n) => n < 5), 'it did scale down');
});

test('activation times out strictly after progress-deadline + 30 s, to the millisecond', () => {
  const p = policy({ progressDeadlineSeconds: 10, windowSeconds: 6 });
  const st = { ...initKpaState(p, 0, at(0)), deciderDesired: 0 };
  const atLimit = decideKpa(p, noSamples(at(40), 0, 1), st);
  assert.equal(atLimit.record.details.want, -1);
  assert.equal(atLimit.record.rescale, false);
  const after = decideKpa(p, noSamples(at(40) + 1, 0, 1), st);
  assert.equal(after.record.details.want, 0);
  assert.equal(after.record.desiredReplicas, 0);
});

test('inactive for exactly the grace period: the last replica goes, even if the activator joined later', () => {
  const p = policy();
  const inactive = (sinceS: number, proxySinceS: number) => stateWith(p, {
    deciderDesired: 0, active: { status: 'False', reason: 'NoTraffic', since: at(sinceS) }, sks: { mode: 'Proxy', since: at(proxySinceS) },
  });
  // inactive 30 s = grace, activator in path only 20 s
  const r = decideKpa(p, noSamples(at(30), 1), inactive(0, 10));
  assert.equal(r.record.desiredReplicas, 0);
  // 1 ms short of it: wait for the activator's grace
  const w = decideKpa(p, noSamples(at(30) - 1, 1), inactive(0, 10));
  assert.equal(w.record.rescale, false);
  assert.match(w.record.details.scaleToZero ?? '', /grace period/);
});

test('pod retention: held until exactly the retention period, then removed; a retention shorter than grace defers to the activator', () => {
  const p = policy({ scaleToZeroPodRetentionPeriodSeconds: 60 });
  const inactive = (proxySinceS: number) => stateWith(p, {
    deciderDesired: 0, active: { status: 'False', reason: 'NoTraffic', since: at(0) }, sks: { mode: 'Proxy', since: at(proxySinceS) },
  });
  assert.equal(decideKpa(p, noSamples(at(60) - 1, 1), inactive(-100)).record.rescale, false, 'retention holds (activator long in path)');
  assert.equal(decideKpa(p, noSamples(at(60), 1), inactive(-100)).record.desiredReplicas, 0);
  // retention 10 s < grace 30 s: at 10 s of inactivity the retention is over; the activator was in path for 40 s → go
  const q = policy({ scaleToZeroPodRetentionPeriodSeconds: 10 });
  const st = stateWith(q, { deciderDesired: 0, active: { status: 'False', reason: 'NoTraffic', since: at(0) }, sks: { mode: 'Proxy', since: at(-30) } });
  const r = decideKpa(q, noSamples(at(10), 1), st);
  assert.equal(r.record.desiredReplicas, 0, 'past retention, activator in path ≥ grace');
  const early = decideKpa(q, noSamples(at(10) - 1, 1), st);
  assert.equal(early.record.rescale, false);
  assert.match(early.record.details.scaleToZero ?? '', /retention/);
});

test('an unreachable activator keeps the activator mode and wants 0 without applying it', () => {
  const p = policy({}, {}, { targetBurstCapacity: 0 });
  const st = stateWith(p, { deciderDesired: 0, deciderEbc: 0, active: { status: 'False', reason: 'NoTraffic', since: at(0) }, sks: { mode: 'Proxy', since: at(0) } });
  const { record, state } = decideKpa(p, { ...noSamples(at(300), 1), activatorReachable: false }, st);
  assert.equal(record.details.want, 0);
  assert.equal(record.rescale, false);
  assert.equal(state.sks.mode, 'Proxy');
  assert.equal(state.paDesired, 0);
});

test('initial scale 2 is enforced before the target is initialized; min-scale bound is recorded for a decision of 0', () => {
  const p = policy({ initialScale: 2, windowSeconds: 6 });
  const st = stateWith(p, { deciderDesired: 0, scaleTargetInitialized: false, active: { status: 'Unknown', reason: 'Queued', since: at(0) } });
  const r = decideKpa(p, noSamples(at(4), 0, 2), st);
  assert.equal(r.record.details.want, 2);
  const q = policy({ minScale: 2 });
  const st2 = stateWith(q, { deciderDesired: 0, active: { status: 'True', reason: 'Active', since: at(0) } });
  const r2 = decideKpa(q, noSamples(at(100), 2), st2);
  assert.equal(r2.record.desiredReplicas, 2);
  assert.ok(r2.record.limitedBy.includes('min'));
});

test('initial EBC (multiscaler Create): −1 and 0 kept, else int32(initial × total − tbc), truncated towards zero', () => {
  assert.equal(initialEbc(policy({}, {}, { targetBurstCapacity: -1 })), -1);
  assert.equal(initialEbc(policy({}, {}, { targetBurstCapacity: 0 })), 0);
  assert.equal(initialEbc(policy({}, {}, { targetBurstCapacity: 211, initialScale: 1, totalValue: 100 })), -111);
  assert.equal(initialEbc(policy({}, {}, { targetBurstCapacity: 2, initialScale: 3, totalValue: 10.5 })), 29, '29.5 → 29');
  assert.equal(initialEbc(policy({}, {}, { targetBurstCapacity: 12.7, initialScale: 1, totalValue: 10 })), -2, '−2.7 → −2');
  assert.equal(initialEbc(policy({}, {}, { targetBurstCapacity: 1e10, initialScale: 1, totalValue: 10 })), -2147483648, 'out of int32: Go on amd64 gives its minimum');
});

test('number of activators: ceil((ready × total + tbc if tbc > 0) / capacity), at least 2', () => {
  const p = (tbc: number) => policy({}, {}, { targetBurstCapacity: tbc, totalValue: 43, activatorCapacity: 100 });
  assert.equal(numActivators(p(-1), 7), 4, '301 / 100 → 4; tbc −1 adds nothing');
  assert.equal(numActivators(p(0), 7), 2, 'tbc 0: the minimum');
  const q = (tbc: number) => policy({}, {}, { targetBurstCapacity: tbc, totalValue: 100, activatorCapacity: 100 });
  assert.equal(numActivators(q(0.5), 3), 4, '300.5 / 100 → 4');
  assert.equal(numActivators(q(-1), 3), 3);
  assert.equal(numActivators(q(-1), 1), 2);
});

test('purity on 1-sample ticks: a tick with exactly one sample never changes the state it was given', () => {
  let oneSampleTicksWithState = 0;
  let withDelayEntries = 0; // the scale-down-delay window is the other part recorded into in place
  fc.assert(fc.property(
    fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 3, maxLength: 40 }),
    fc.constantFrom(0, 6),
    (loads, delay) => {
      const p = policy({ windowSeconds: 8, panicWindowPercentage: 25, scaleDownDelaySeconds: delay, target: 10 });
      let state: KpaState | null = null;
      let ready = 1;
      loads.forEach((v, i) => {
        const now = at((i + 1) * 2);
        const before = state ? JSON.stringify(state) : null;
        const r = decideKpa(p, { now, readyPods: ready, currentReplicas: ready, samples: [{ time: now - 500, concurrency: v, rps: v }] }, state);
        if (state) {
          assert.equal(JSON.stringify(state), before);
          oneSampleTicksWithState++;
          if ((state.delayWindow?.entries.length ?? 0) > 0) withDelayEntries++;
        }
        state = r.state;
        if (r.record.rescale) ready = r.record.desiredReplicas;
      });
    },
  ), { numRuns: 60 });
  assert.ok(oneSampleTicksWithState > 60, 'the 1-sample path with a previous state was reached');
  assert.ok(withDelayEntries > 20, `1-sample ticks on a filled delay window: ${withDelayEntries}`);
});

test('grace period counts only time in Proxy mode: exactly the grace period removes, 1 ms less waits, Serve time does not count', () => {
  const p = policy();
  const st = (mode: 'Proxy' | 'Serve', proxySinceS: number) => stateWith(p, {
    deciderDesired: 0, active: { status: 'False', reason: 'NoTraffic', since: at(0) }, sks: { mode, since: at(proxySinceS) },
  });
  // inactive 10 s (< grace 30 s), in Proxy mode for exactly 30 s → fast path: remove
  assert.equal(decideKpa(p, noSamples(at(10), 1), st('Proxy', -20)).record.desiredReplicas, 0);
  // in Proxy mode for 30 s − 1 ms → wait
  const w = decideKpa(p, noSamples(at(10), 1), st('Proxy', -20 + 0.001));
  assert.equal(w.record.rescale, false);
  assert.match(w.record.details.scaleToZero ?? '', /grace period/);
  // in Serve mode for 110 s: no proxy time at all → wait
  assert.equal(decideKpa(p, noSamples(at(10), 1), st('Serve', -100)).record.rescale, false);
});

test('Active condition (computeActiveCondition): reasons, transitions and their times', () => {
  const p = policy();
  // False/TimedOut with a decision of 0 becomes False/NoTraffic, and the transition time moves
  const timedOut = stateWith(p, { deciderDesired: 0, active: { status: 'False', reason: 'TimedOut', since: at(0) } });
  const a = decideKpa(p, noSamples(at(100), 0, 0), timedOut).state.active;
  assert.deepEqual(a, { status: 'False', reason: 'NoTraffic', since: at(100) });
  // no data, inactive, no ready pod: stays False/NoTraffic (not Queued), same time
  const idle = stateWith(p, { deciderDesired: -1, active: { status: 'False', reason: 'NoTraffic', since: at(0) } });
  assert.deepEqual(decideKpa(p, noSamples(at(100), 0, 0), idle).state.active, { status: 'False', reason: 'NoTraffic', since: at(0) });
  // … and with TimedOut it is re-marked NoTraffic
  const idleTO = stateWith(p, { deciderDesired: -1, active: { status: 'False', reason: 'TimedOut', since: at(0) } });
  assert.equal(decideKpa(p, noSamples(at(100), 0, 0), idleTO).state.active.reason, 'NoTraffic');
  // no data, inactive, one ready pod: stays inactive (only want > 0 activates)
  const idle1 = stateWith(p, { deciderDesired: -1, active: { status: 'False', reason: 'NoTraffic', since: at(0) } });
  assert.equal(decideKpa(p, noSamples(at(100), 1), idle1).state.active.status, 'False');
  // inactive, the decider wants 1, one ready pod → Active
  const wake = stateWith(p, { deciderDesired: 1, active: { status: 'False', reason: 'NoTraffic', since: at(0) } });
  assert.equal(decideKpa(p, noSamples(at(100), 1), wake).state.active.status, 'True');
  // activating with no data yet and one ready pod → Active (not inactive, ready ≥ 1)
  const fresh = decideKpa(p, noSamples(at(2), 1), null).state;
  assert.equal(fresh.active.status, 'True');
  assert.equal(fresh.scaleTargetInitialized, true);
});

test('initial scale 3 not yet reached: 1 ready pod keeps the PA activating and the target uninitialized', () => {
  const p = policy({ initialScale: 3 });
  const st = stateWith(p, { deciderDesired: 3, scaleTargetInitialized: false, active: { status: 'Unknown', reason: 'Queued', since: at(0) } });
  const s = decideKpa(p, noSamples(at(4), 1, 3), st).state;
  assert.equal(s.scaleTargetInitialized, false);
  assert.equal(s.active.status, 'Unknown');
});

test('initial scale 0 (allowed): a new revision is inactive (NoTraffic), never TimedOut', () => {
  const p = policy({ initialScale: 0 }, { 'allow-zero-initial-scale': 'true' });
  assert.equal(p.initialScale, 0);
  const s = decideKpa(p, noSamples(at(2), 0, 0), null).state;
  assert.deepEqual([s.active.status, s.active.reason], ['False', 'NoTraffic']);
});

test('the PA keeps its last known desired scale while the decider says −1 (kpa.go: want −1 does not overwrite a scale ≥ 0)', () => {
  const p = policy();
  const st = stateWith(p, { deciderDesired: -1, paDesired: 3, active: { status: 'True', reason: 'Active', since: at(0) } });
  assert.equal(decideKpa(p, noSamples(at(100), 3), st).state.paDesired, 3);
  // 0 is a known scale too (the boundary of "≥ 0")
  const zero = stateWith(p, { deciderDesired: -1, paDesired: 0, active: { status: 'True', reason: 'Active', since: at(0) } });
  assert.equal(decideKpa(p, noSamples(at(100), 3), zero).state.paDesired, 0);
  const fresh = stateWith(p, { deciderDesired: -1, paDesired: null, active: { status: 'True', reason: 'Active', since: at(0) } });
  assert.equal(decideKpa(p, noSamples(at(100), 3), fresh).state.paDesired, -1);
  const known = stateWith(p, { deciderDesired: 2, paDesired: 3, active: { status: 'True', reason: 'Active', since: at(0) } });
  assert.equal(decideKpa(p, noSamples(at(100), 3), known).state.paDesired, 2);
});

test('record: events for a rescale, panic entry and exit, and Active transitions; limitedBy none / scale-to-zero-grace', () => {
  const p = policy({ windowSeconds: 6 });
  const st = stateWith(p, { deciderDesired: 0, active: { status: 'True', reason: 'Active', since: at(0) } });
  // active for less than a stable window, decider says 0: held at 1 by the scale-to-zero machine
  const held = decideKpa(p, noSamples(at(3), 2), st).record;
  assert.equal(held.desiredReplicas, 1);
  assert.ok(held.events.some((e) => e.reason === 'SuccessfulRescale' && /^New size: 1; reason: /.test(e.message)));
  assert.ok(held.limitedBy.includes('scale-to-zero-grace'));
  // nothing to say: limitedBy is exactly ['none'] and there is no event
  const q = policy({ windowSeconds: 6, panicThresholdPercentage: 1000 });
  let s: KpaState | null = null;
  let last = decideKpa(q, { now: at(2), readyPods: 1, currentReplicas: 1, samples: [{ time: at(2), concurrency: 50, rps: 50 }] }, s).record;
  s = decideKpa(q, { now: at(2), readyPods: 1, currentReplicas: 1, samples: [{ time: at(2), concurrency: 50, rps: 50 }] }, null).state;
  last = decideKpa(q, { now: at(4), readyPods: 1, currentReplicas: 1, samples: [{ time: at(4), concurrency: 50, rps: 50 }] }, s).record;
  assert.deepEqual(last.limitedBy, ['none']);
  assert.equal(last.rescale, false);
  assert.deepEqual(last.events, []);
  // panic entry and exit events
  const pp = policy({ windowSeconds: 6, target: 10 });
  let ps: KpaState | null = null;
  const enter = decideKpa(pp, { now: at(2), readyPods: 1, currentReplicas: 1, samples: [{ time: at(2), concurrency: 100, rps: 100 }] }, ps);
  assert.ok(enter.record.events.some((e) => e.reason === 'Panicking'));
  ps = enter.state;
  let exit: ReturnType<typeof decideKpa> | null = null;
  for (let t = 4; t <= 40 && !exit; t += 2) {
    const r = decideKpa(pp, { now: at(t), readyPods: 10, currentReplicas: 10, samples: [{ time: at(t), concurrency: 1, rps: 1 }] }, ps);
    ps = r.state;
    if (r.record.events.some((e) => e.reason === 'UnPanicking')) exit = r;
  }
  assert.ok(exit, 'left panic with an UnPanicking event');
  assert.ok(!exit!.record.events.some((e) => e.reason === 'Panicking'));
  // Active transition events
  const wake = stateWith(p, { deciderDesired: 1, active: { status: 'False', reason: 'NoTraffic', since: at(0) } });
  assert.ok(decideKpa(p, noSamples(at(100), 1), wake).record.events.some((e) => e.reason === 'Active'));
  const sleep = stateWith(p, { deciderDesired: 0, active: { status: 'True', reason: 'Active', since: at(0) } });
  assert.ok(decideKpa(p, noSamples(at(100), 1), sleep).record.events.some((e) => e.reason === 'Inactive'));
});

test('record details: with no data the per-window numbers are null; with data they are the decider\'s', () => {
  const p = policy({ windowSeconds: 6 });
  const none = decideKpa(p, noSamples(at(100), 1), stateWith(p, { deciderDesired: 1 })).record.details;
  assert.deepEqual([none.stableAverage, none.panicAverage, none.desiredStablePodCount, none.desiredPanicPodCount, none.maxScaleUp, none.maxScaleDown], [null, null, null, null, null, null]);
  const r = decideKpa(p, { now: at(2), readyPods: 2, currentReplicas: 2, samples: [{ time: at(2), concurrency: 140, rps: 1 }] }, null).record.details;
  assert.equal(r.stableAverage, 140);
  assert.equal(r.panicAverage, 140);
  assert.equal(r.desiredStablePodCount, 2);
  assert.equal(r.desiredPanicPodCount, 2);
  assert.equal(r.maxScaleUp, 2000);
  assert.equal(r.maxScaleDown, 1);
});
