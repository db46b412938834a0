import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decideKpa, initKpaState, numActivators } from '../../../src/deciders/kpa/decide.ts';
import { makeKpaPolicy, panicWindowSeconds, resolveMetricTarget } from '../../../src/deciders/kpa/policy.ts';
import { defaultKpaConfig, kpaConfigFromMap, parseGoDuration } from '../../../src/deciders/kpa/config.ts';
import type { KpaAnnotations, KpaPolicy, KpaState, KpaDecisionRecord } from '../../../src/deciders/kpa/types.ts';

const T0 = 1_700_000_000_000;
const at = (s: number) => T0 + s * 1000;

function policy(ann: KpaAnnotations = {}, cc = 0, cfg: Record<string, string> = {}): KpaPolicy {
  return makeKpaPolicy({ name: 'svc', target: 'Deployment/svc', containerConcurrency: cc, annotations: ann }, kpaConfigFromMap(cfg));
}

/**
 * A tiny closed-loop harness: every second a sample of `load(t)` (revision-total concurrency), a
 * decision every 2 s; replicas become ready instantly. Seconds with no pod and no traffic are omitted.
 */
class Loop {
  p: KpaPolicy;
  state: KpaState | null = null;
  replicas: number;
  ready: number;
  t = 0;
  pending: { time: number; concurrency: number; rps: number }[] = [];
  records: KpaDecisionRecord[] = [];
  constructor(p: KpaPolicy, replicas: number, startT = 0) {
    this.p = p; this.replicas = replicas; this.ready = replicas; this.t = startT;
  }
  run(seconds: number, load: (t: number) => number, readyLag = 0): KpaDecisionRecord {
    let last: KpaDecisionRecord | undefined;
    for (let i = 0; i < seconds; i++) {
      this.t += 1;
      const v = load(this.t);
      if (this.ready > 0 || v > 0) this.pending.push({ time: at(this.t), concurrency: v, rps: v });
      if (this.t % 2 === 0) last = this.decide();
      void readyLag;
    }
    return last ?? this.records[this.records.length - 1]!;
  }
  decide(poke = false): KpaDecisionRecord {
    const { record, state } = decideKpa(this.p, { now: at(this.t), readyPods: this.ready, currentReplicas: this.replicas, samples: this.pending, poke }, this.state);
    this.pending = [];
    this.state = state;
    if (record.rescale) { this.replicas = record.desiredReplicas; this.ready = this.replicas; }
    this.records.push(record);
    return record;
  }
}

test('target resolution: CC 0 → 70/100; CC 10 → 7/10; rps → 140/200; target annotation capped by CC', () => {
  const cfg = defaultKpaConfig();
  assert.deepEqual(resolveMetricTarget('concurrency', 0, {}, cfg), { targetValue: 70, totalValue: 100 });
  const c10 = resolveMetricTarget('concurrency', 10, {}, cfg);
  assert.ok(Math.abs(c10.targetValue - 7) < 1e-9); assert.equal(c10.totalValue, 10);
  const rps = resolveMetricTarget('rps', 0, {}, cfg);
  assert.ok(Math.abs(rps.targetValue - 140) < 1e-9); assert.equal(rps.totalValue, 200);
  const capped = resolveMetricTarget('concurrency', 5, { target: 50 }, cfg);
  assert.ok(Math.abs(capped.targetValue - 3.5) < 1e-9); assert.equal(capped.totalValue, 5);
  assert.deepEqual(resolveMetricTarget('concurrency', 0, { target: 10, targetUtilizationPercentage: 100 }, cfg), { targetValue: 10, totalValue: 10 });
  assert.equal(resolveMetricTarget('concurrency', 0, { target: 0.001 }, cfg).targetValue, 0.01);
});

test('panic window: 10% of 60 s = 6 s; 51% → 31 s (half away from zero); never below 1 s', () => {
  assert.equal(panicWindowSeconds(60, 10), 6);
  assert.equal(panicWindowSeconds(60, 51), 31);
  assert.equal(panicWindowSeconds(10, 10), 1);
  assert.equal(panicWindowSeconds(6, 1), 1);
});

test('config-autoscaler: defaults, fraction vs percent, validation', () => {
  const c = kpaConfigFromMap({});
  assert.equal(c.targetBurstCapacity, 211);
  assert.equal(c.stableWindowSeconds, 60);
  assert.equal(kpaConfigFromMap({ 'container-concurrency-target-percentage': '1' }).containerConcurrencyTargetFraction, 1);
  assert.equal(kpaConfigFromMap({ 'container-concurrency-target-percentage': '80' }).containerConcurrencyTargetFraction, 0.8);
  assert.equal(kpaConfigFromMap({ 'stable-window': '2m' }).stableWindowSeconds, 120);
  assert.throws(() => kpaConfigFromMap({ 'stable-window': '5s' }), /stable-window/);
  assert.throws(() => kpaConfigFromMap({ 'stable-window': '2h' }), /stable-window/);
  assert.throws(() => kpaConfigFromMap({ 'stable-window': '6500ms' }), /second precision/);
  assert.throws(() => kpaConfigFromMap({ 'target-burst-capacity': '-2' }), /target-burst-capacity/);
  assert.equal(kpaConfigFromMap({ 'target-burst-capacity': '-1' }).targetBurstCapacity, -1);
  assert.throws(() => kpaConfigFromMap({ 'max-scale-down-rate': '1' }), /max-scale-down-rate/);
  assert.throws(() => kpaConfigFromMap({ 'scale-to-zero-grace-period': '0s' }), /grace/);
  assert.throws(() => kpaConfigFromMap({ 'initial-scale': '0' }), /initial-scale/);
  assert.equal(kpaConfigFromMap({ 'initial-scale': '0', 'allow-zero-initial-scale': 'true' }).initialScale, 0);
  assert.throws(() => kpaConfigFromMap({ 'panic-window-percentage': '0.5' }), /panic-window-percentage/);
  assert.equal(kpaConfigFromMap({ 'tick-interval': '5s' }).stableWindowSeconds, 60);
  assert.equal(parseGoDuration('1m30s'), 90);
  assert.equal(parseGoDuration('abc'), null);
});

test('stable scaling: 150 concurrent with target 70 → 3 pods; 350 → 5', () => {
  const loop = new Loop(policy(), 1);
  // steady load from the start: the panic window sees the same value, and with 1 pod panic triggers
  // at > 1× target, so use a load the first pod can read as stable: ramp from 1 pod at 60
  loop.run(60, () => 60);
  assert.equal(loop.replicas, 1);
  const r = loop.run(120, () => 150);
  assert.equal(r.details.stableAverage, 150);
  assert.equal(loop.replicas, 3);
  loop.run(240, () => 350);
  assert.equal(loop.replicas, 5);
});

test('observed totals below target keep one pod; ceil rounding: 71 with target 70 → 2', () => {
  const p = policy({ panicThresholdPercentage: 1000 });
  const loop = new Loop(p, 1);
  loop.run(60, () => 70);
  assert.equal(loop.replicas, 1);
  loop.run(60, () => 71);
  assert.equal(loop.replicas, 2);
});

test('rps metric uses request counts and target 140', () => {
  const p = policy({ metric: 'rps', panicThresholdPercentage: 1000 });
  const loop = new Loop(p, 1);
  const r = loop.run(120, () => 400);
  assert.equal(r.details.metric, 'rps');
  assert.equal(loop.replicas, Math.ceil(400 / 140));
});

test('panic: a sudden 3× step with 3 pods enters panic on the panic window, scales up at once', () => {
  const loop = new Loop(policy({}, 10), 3); // target 7 per pod
  loop.state = null;
  // steady 3 pods worth (21) for two windows, starting after the restart panic expires
  loop.run(130, () => 20);
  assert.equal(loop.replicas, 3);
  assert.equal(loop.records.at(-1)!.details.panicking, false);
  // step to 3× : panic window (6 s) sees it quickly, stable window lags
  const r = loop.run(6, () => 60);
  assert.equal(r.details.panicking, true);
  assert.ok(r.limitedBy.includes('panic'));
  assert.equal(loop.replicas, Math.ceil(60 / 7));
  assert.ok(r.details.stableAverage! < 60);
});

test('panic never scales down and exits only after a full stable window without panic conditions', () => {
  const loop = new Loop(policy({}, 10), 3);
  loop.run(130, () => 20);
  loop.run(10, () => 60); // panic → 9 pods
  const peak = loop.replicas;
  assert.equal(peak, 9);
  const panicTime = loop.state!.panicTime!;
  // load vanishes: still panicking for a stable window after the last over-threshold tick
  let sawExit = false;
  for (let i = 0; i < 40; i++) {
    const r = loop.run(2, () => 0);
    if (r.details.panicking) {
      assert.equal(r.desiredReplicas, peak);
      assert.ok(r.now <= loop.state!.panicTime! + 60_000 || r.now <= panicTime + 60_000);
    } else { sawExit = true; break; }
  }
  assert.ok(sawExit, 'left panic');
  const exit = loop.records.at(-1)!;
  assert.ok(exit.events.some((e) => e.reason === 'UnPanicking'));
  assert.ok(exit.now > panicTime + 60_000);
  // after exit, scale down is bounded by max-scale-down-rate 2: 9 → floor(9/2) = 4
  assert.equal(loop.replicas, 4);
  assert.ok(exit.limitedBy.includes('policy'));
});

test('a fresh decider with more than one ready pod starts in panic (restart protection)', () => {
  const p = policy();
  const loop = new Loop(p, 5);
  const r = loop.run(2, () => 0);
  assert.equal(r.details.panicking, true);
  assert.equal(r.desiredReplicas, 5);
  const one = new Loop(p, 1);
  assert.equal(one.run(2, () => 0).details.panicking, false);
});

test('max-scale-up-rate bounds a tick: rate 2 with 4 pods → at most 8', () => {
  const p = policy({ panicThresholdPercentage: 1000 }, 0, { 'max-scale-up-rate': '2' });
  const loop = new Loop(p, 1);
  // from 1 pod: ceil(2×1) = 2 per tick
  const r = loop.run(2, () => 1000);
  assert.equal(r.desiredReplicas, 2);
  assert.ok(r.limitedBy.includes('policy'));
  loop.run(2, () => 1000);
  assert.equal(loop.replicas, 4);
  loop.run(2, () => 1000);
  assert.equal(loop.replicas, 8);
});

test('from zero ready pods, R = 1: up to 1000 pods in one tick and EBC < 0 (activator stays)', () => {
  const p = policy();
  const st = initKpaState(p, 0, at(0));
  const { record } = decideKpa(p, { now: at(1), readyPods: 0, currentReplicas: 0, samples: [{ time: at(1), concurrency: 200000, rps: 1 }] }, st);
  assert.equal(record.details.deciderDesired, 1000);
  assert.ok(record.details.excessBurstCapacity < 0);
  assert.equal(record.details.activatorInPath, true);
});

test('activation-scale lifts every non-zero decision; zero demand still reaches zero', () => {
  const p = policy({ activationScale: 3 });
  const st = initKpaState(p, 0, at(0));
  const r1 = decideKpa(p, { now: at(1), readyPods: 0, currentReplicas: 0, samples: [{ time: at(1), concurrency: 1, rps: 1 }] }, st);
  assert.equal(r1.record.details.deciderDesired, 3);
  assert.ok(r1.record.limitedBy.includes('activation'));
  // from 3 replicas, no traffic: the decider says 0 (not 3), and the scale-to-zero machine removes them
  const loop = new Loop(policy({ activationScale: 3, windowSeconds: 6 }), 3);
  loop.run(6, () => 30);
  assert.equal(loop.replicas, 3);
  loop.run(240, () => 0);
  assert.ok(loop.records.some((r) => r.details.deciderDesired === 0), 'zero demand is not lifted to activation-scale');
  assert.equal(loop.replicas, 0);
});

test('scale-down-delay holds the max of the last delay window, then releases', () => {
  const p = policy({ scaleDownDelaySeconds: 20, panicThresholdPercentage: 1000, windowSeconds: 6 });
  const loop = new Loop(p, 1);
  loop.run(20, () => 200); // 3 pods
  assert.equal(loop.replicas, 3);
  const r = loop.run(10, () => 60); // demand 1 pod; delay holds 3
  assert.equal(r.details.deciderDesired, 3);
  assert.ok(r.limitedBy.includes('stabilization'));
  loop.run(20, () => 60);
  assert.equal(loop.replicas, 1);
});

test('excess burst capacity: TBC 211 keeps the activator until enough spare capacity; 0 and -1', () => {
  const p = policy({ windowSeconds: 6 });
  const loop = new Loop(p, 1);
  let r = loop.run(10, () => 10);
  assert.equal(r.details.excessBurstCapacity, Math.floor(1 * 100 - 211 - 10));
  assert.equal(r.details.activatorInPath, true);
  const p5 = policy({ minScale: 5, windowSeconds: 6 });
  const l5 = new Loop(p5, 5);
  r = l5.run(20, () => 10);
  assert.equal(r.details.excessBurstCapacity, 500 - 211 - 10);
  assert.equal(r.details.activatorInPath, false);
  const p0 = policy({ targetBurstCapacity: 0 });
  assert.equal(new Loop(p0, 1).run(4, () => 1).details.activatorInPath, false);
  const pm = policy({ targetBurstCapacity: -1 });
  const rm = new Loop(pm, 5).run(4, () => 1);
  assert.equal(rm.details.excessBurstCapacity, -1);
  assert.equal(rm.details.activatorInPath, true);
  assert.equal(numActivators(pm, 5), 5);
  assert.equal(numActivators(p, 0), 3); // ceil(211/100)
  assert.equal(numActivators(p, 15), 18); // ceil((1500 + 211) / 100)
  assert.equal(numActivators(p0, 15), 2);
});

test('scale to zero with defaults: held at 1 for a stable window of no traffic, then removed', () => {
  const loop = new Loop(policy(), 1);
  loop.run(30, () => 5);
  assert.equal(loop.state!.active.status, 'True');
  // traffic stops: the stable average decays to exactly 0 one stable window later
  let zeroAt: number | null = null;
  let inactiveAt: number | null = null;
  for (let i = 0; i < 100 && zeroAt === null; i++) {
    const r = loop.run(2, () => 0);
    if ((loop.state!.active.status as string) === 'False' && inactiveAt === null) inactiveAt = loop.t;
    if (r.rescale && r.desiredReplicas === 0) zeroAt = loop.t;
    if (r.details.deciderDesired === 0 && r.desiredReplicas === 1 && !r.rescale) {
      assert.ok(r.limitedBy.includes('scale-to-zero-grace') || r.details.scaleToZero !== null);
    }
  }
  assert.notEqual(zeroAt, null);
  assert.ok(inactiveAt !== null && inactiveAt >= 30 + 60, `inactive at ${inactiveAt}`);
  // the activator was in path all along (EBC < 0 with 1 pod): the fast path removes it one tick later
  assert.equal(zeroAt! - inactiveAt!, 2);
  assert.equal(loop.state!.active.reason, 'NoTraffic');
});

test('scale to zero waits for a stable window of being Active when it just activated', () => {
  const p = policy({ windowSeconds: 6 });
  const loop = new Loop(p, 0);
  loop.state = initKpaState(p, 0, at(0));
  loop.state.active = { status: 'False', reason: 'NoTraffic', since: at(0) };
  loop.state.scaleTargetInitialized = true;
  loop.state.deciderDesired = 0;
  // one request: poke
  loop.t = 100;
  loop.pending.push({ time: at(100), concurrency: 1, rps: 1 });
  const poke = loop.decide(true);
  assert.equal(poke.desiredReplicas, 1);
  assert.equal(poke.rescale, true);
  assert.equal(loop.state.active.status, 'Unknown'); // Activating: not ready yet
  loop.ready = 1;
  loop.run(2, () => 0);
  assert.equal(loop.state.active.status, 'True');
  const activeSince = loop.state.active.since;
  // window 6 s: stable average reaches 0 quickly, but the replica is kept until active ≥ window
  const held = loop.run(6, () => 0);
  assert.equal(loop.replicas, 1);
  assert.ok(held.details.scaleToZero !== null);
  loop.run(10, () => 0);
  assert.equal(loop.replicas, 0);
  assert.ok(loop.records.find((r) => r.details.scaleToZero?.startsWith('active for')), 'held for the stable window');
  assert.ok(activeSince > 0);
});

test('scale-to-zero-pod-retention-period keeps the last pod after going inactive', () => {
  const p = policy({ windowSeconds: 6, scaleToZeroPodRetentionPeriodSeconds: 40 });
  const loop = new Loop(p, 1);
  loop.run(10, () => 2);
  loop.run(14, () => 0);
  assert.equal(loop.state!.active.status, 'False');
  const inactiveSince = loop.state!.active.since;
  loop.run(30, () => 0);
  assert.equal(loop.replicas, 1);
  assert.ok(loop.records.at(-1)!.limitedBy.includes('scale-to-zero-grace'));
  loop.run(20, () => 0);
  assert.equal(loop.replicas, 0);
  const removed = loop.records.find((r) => r.rescale && r.desiredReplicas === 0)!;
  assert.ok(removed.now - inactiveSince >= 40_000);
});

test('grace period: when the activator joined the path recently (Serve → Proxy), wait for it', () => {
  const p = policy({ windowSeconds: 6, targetBurstCapacity: 0 }); // TBC 0: activator only at zero
  const loop = new Loop(p, 1);
  loop.run(10, () => 2);
  assert.equal(loop.state!.sks.mode, 'Serve');
  loop.run(14, () => 0);
  assert.equal(loop.state!.active.status, 'False');
  assert.equal(loop.state!.sks.mode, 'Proxy');
  const r = loop.run(2, () => 0);
  assert.equal(loop.replicas, 1);
  assert.match(r.details.scaleToZero ?? '', /grace/);
  loop.run(30, () => 0);
  assert.equal(loop.replicas, 0);
});

test('no scale to zero while the activator is not reachable', () => {
  const p = policy({ windowSeconds: 6 });
  const loop = new Loop(p, 1);
  loop.run(10, () => 2);
  loop.run(14, () => 0);
  const { record } = decideKpa(p, { now: at(loop.t + 40), readyPods: 1, currentReplicas: 1, samples: [], activatorReachable: false }, loop.state);
  assert.equal(record.rescale, false);
  assert.match(record.details.scaleToZero ?? '', /activator/);
});

test('enable-scale-to-zero false keeps one replica (from 4 replicas: 4 → … → 1, never 0)', () => {
  const p = policy({ windowSeconds: 6 }, 0, { 'enable-scale-to-zero': 'false' });
  const loop = new Loop(p, 4);
  loop.run(10, () => 280); // 280 / 70 = 4 pods
  assert.equal(loop.replicas, 4);
  loop.run(120, () => 0);
  assert.equal(loop.replicas, 1);
  assert.ok(loop.records.every((r) => r.desiredReplicas >= 1));
  assert.ok(loop.records.some((r) => r.rescale && r.desiredReplicas === 1), 'it did scale down to 1 (not just stay there)');
});

test('min-scale and max-scale bound the decision', () => {
  const loop = new Loop(policy({ minScale: 2, maxScale: 4, panicThresholdPercentage: 1000 }), 2);
  loop.run(70, () => 0);
  assert.equal(loop.replicas, 2);
  const r = loop.run(120, () => 1000);
  assert.equal(loop.replicas, 4);
  assert.ok(r.limitedBy.includes('max'));
  const low = new Loop(policy({ minScale: 3 }), 1).run(2, () => 1);
  assert.equal(low.desiredReplicas, 3);
  assert.ok(low.limitedBy.includes('min'));
});

test('initial-scale is enforced until the target is first initialized', () => {
  const p = policy({ initialScale: 3, windowSeconds: 6 });
  const loop = new Loop(p, 3);
  loop.ready = 0; // pods not ready yet
  let r = loop.run(2, () => 0);
  assert.equal(r.desiredReplicas, 3);
  assert.equal(loop.state!.scaleTargetInitialized, false);
  loop.ready = 3;
  loop.run(2, () => 0);
  assert.equal(loop.state!.scaleTargetInitialized, true);
  // after initialization, no traffic drives it down (3 → 1 → 0 via rate limit and the zero machine)
  r = loop.run(200, () => 0);
  assert.equal(loop.replicas, 0);
});

test('no data for a whole window: decision invalid, previous status kept', () => {
  const p = policy({ windowSeconds: 6 });
  const st = initKpaState(p, 0, at(0));
  const { record } = decideKpa(p, { now: at(100), readyPods: 0, currentReplicas: 1, samples: [] }, st);
  assert.equal(record.details.valid, false);
  assert.equal(record.details.deciderDesired, -1);
  assert.equal(record.rescale, false);
});

test('activation gives up after progress-deadline + 30 s and scales to zero', () => {
  const p = policy({ progressDeadlineSeconds: 10, windowSeconds: 6 });
  const st = initKpaState(p, 0, at(0));
  st.deciderDesired = 0;
  let out = decideKpa(p, { now: at(30), readyPods: 0, currentReplicas: 1, samples: [] }, st);
  assert.equal(out.record.rescale, false);
  out = decideKpa(p, { now: at(41), readyPods: 0, currentReplicas: 1, samples: [] }, out.state);
  assert.equal(out.record.desiredReplicas, 0);
  assert.equal(out.state.active.reason, 'TimedOut');
});

test('records replay: the same inputs give the same record; state is JSON-serializable', () => {
  const loop = new Loop(policy({}, 10), 2);
  loop.run(40, (t) => (t % 10) * 3);
  for (const rec of loop.records) {
    const again = decideKpa(rec.inputs.policy, rec.inputs.observation, rec.inputs.state ? JSON.parse(JSON.stringify(rec.inputs.state)) : null);
    assert.deepEqual(again.record, rec);
  }
  assert.deepEqual(JSON.parse(JSON.stringify(loop.state)), loop.state);
});

test('property: never scales down while panicking; applied counts stay within min/max', () => {
  // coverage: panicking ticks, and rescales that the max and the min bound clip, must occur; bursts
  // alternate with idle stretches so that the count also comes back down onto min-scale
  const hits = { panicking: 0, atMax: 0, atMin: 0 };
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 400 })), fc.integer({ min: 1, max: 15 })), { minLength: 2, maxLength: 12 }),
    fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 20 }),
    (phases, minScale, maxExtra, cc) => {
      const maxScale = maxExtra === 0 ? 0 : minScale + maxExtra;
      const p = policy({ minScale, maxScale, windowSeconds: 6 }, cc);
      const loop = new Loop(p, Math.max(1, minScale));
      let prev = loop.replicas;
      for (const [v, ticks] of phases) {
        for (let k = 0; k < ticks; k++) {
          const r = loop.run(2, () => v);
          if (r.details.panicking) { assert.ok(r.desiredReplicas >= prev, `panic scaled down ${prev} → ${r.desiredReplicas}`); hits.panicking++; }
          if (r.rescale) {
            if (maxScale > 0) assert.ok(r.desiredReplicas <= maxScale);
            assert.ok(r.desiredReplicas >= minScale);
            if (r.limitedBy.includes('max')) { assert.equal(r.desiredReplicas, maxScale); hits.atMax++; }
            if (r.limitedBy.includes('min')) { assert.equal(r.desiredReplicas, minScale); hits.atMin++; }
          }
          prev = loop.replicas;
        }
      }
    },
  // a fixed seed: the coverage counts below are then the same on every run (not a chance of flaking)
  ), { numRuns: 150, seed: 0x7a1de });
  for (const [k, n] of Object.entries(hits)) assert.ok(n >= 5, `${k} reached only ${n} times (${JSON.stringify(hits)})`);
});

test('metric-aggregation-algorithm weighted-exponential: recent seconds weigh more than the linear mean', () => {
  const lin = new Loop(policy({ panicThresholdPercentage: 1000 }), 1);
  const wei = new Loop(policy({ panicThresholdPercentage: 1000, metricAggregationAlgorithm: 'weighted-exponential' }), 1);
  const load = (t: number) => (t > 50 ? 300 : 10);
  lin.run(56, load);
  wei.run(56, load);
  const l = lin.records.at(-1)!.details.stableAverage!;
  const w = wei.records.at(-1)!.details.stableAverage!;
  assert.ok(w > l, `weighted ${w} should exceed linear ${l} right after a step up`);
  assert.ok(wei.replicas > lin.replicas);
});
