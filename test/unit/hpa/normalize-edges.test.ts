// Normalization edges (issue 16), after upstream v1.37 horizontal.go: the autoscaling/v2 behavior
// defaults, exact window and period cutoffs (time.After / time.Before are strict), which slot of the
// recommendation and scale-event histories is reused, the rate limits' Max/Min/Disabled selection
// with no, equal or several policies, the clamps at exactly min / max / the rate limit and the
// condition reasons they give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideHpa, emptyHpaState } from '../../../src/deciders/hpa/decide.ts';
import {
  defaultScaleDownRules,
  defaultScaleUpRules,
  legacyScaleUpLimit,
  normalizeLegacy,
  normalizeWithBehavior,
  replicasChangePerPeriod,
  scaleDownLimitWithRules,
  scaleUpLimitWithRules,
  stabilizeRecommendationLegacy,
  stabilizeRecommendationWithBehaviors,
  storeScaleEvent,
} from '../../../src/deciders/hpa/normalize.ts';
import type { HpaBehavior, HpaScalingPolicy, HpaScalingRules, ScaleEvent, TimestampedRecommendation } from '../../../src/deciders/hpa/types.ts';
import { S, T0, cpu, observation, pods, policy, samples } from './helpers.ts';

const MAX_INT32 = 2147483647;
const MIN_INT32 = -2147483648;
const rec = (agoMs: number, recommendation: number): TimestampedRecommendation => ({ timestamp: T0 - agoMs, recommendation });
const ev = (agoMs: number, replicaChange: number, outdated?: boolean): ScaleEvent =>
  outdated === undefined ? { timestamp: T0 - agoMs, replicaChange } : { timestamp: T0 - agoMs, replicaChange, outdated };
const pods_ = (value: number, periodSeconds = 60): HpaScalingPolicy => ({ type: 'Pods', value, periodSeconds });
const pct = (value: number, periodSeconds = 60): HpaScalingPolicy => ({ type: 'Percent', value, periodSeconds });
const rules = (policies: HpaScalingPolicy[], selectPolicy: HpaScalingRules['selectPolicy'] = 'Max', stabilizationWindowSeconds = 0): HpaScalingRules =>
  ({ stabilizationWindowSeconds, selectPolicy, policies });
const beh = (up: HpaScalingRules, down: HpaScalingRules): HpaBehavior => ({ scaleUp: up, scaleDown: down });
const wide = beh(rules([pct(1000)]), rules([pct(100)]));

// ---------------------------------------------------------------- defaults

test('autoscaling/v2 behavior defaults: scaleUp 0 s window, max(4 pods, 100 %) per 15 s; scaleDown 100 % per 15 s, window left to the controller', () => {
  assert.deepEqual(defaultScaleUpRules(), {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
  });
  assert.deepEqual(defaultScaleDownRules(), { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });
  assert.equal('stabilizationWindowSeconds' in defaultScaleDownRules(), false);
  assert.deepEqual(defaultScaleDownRules(300), { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }], stabilizationWindowSeconds: 300 });
  assert.equal(defaultScaleDownRules(0).stabilizationWindowSeconds, 0);
});

test('legacy scale-up limit: max(2 × current, 4); from 1 replica the limit is 4, not 2', () => {
  assert.deepEqual([0, 1, 2, 3, 10].map(legacyScaleUpLimit), [4, 4, 4, 6, 20]);
  const at1 = observation(1, pods(1), [samples([5000])]); // 500 % of request vs 50 %: 10 replicas wanted
  const { record } = decideHpa(policy([cpu(50)], { maxReplicas: 20 }), at1, emptyHpaState());
  assert.equal(record.details.metricDesiredReplicas, 10);
  assert.equal(record.desiredReplicas, 4);
  assert.equal(record.rescale, true);
});

// ---------------------------------------------------------------- legacy path

test('legacy stabilization: without a sample older than the window the recommendation is appended (no slot reused)', () => {
  const recs = [rec(10 * S, 3), rec(20 * S, 5)];
  const r = stabilizeRecommendationLegacy(T0, recs, 300 * S, 2);
  assert.equal(r.stabilized, 5);
  assert.deepEqual(r.recommendations, [rec(10 * S, 3), rec(20 * S, 5), rec(0, 2)]);
  // the first slot is reused when it is the one older than the window; a sample exactly at the cutoff still counts
  const r2 = stabilizeRecommendationLegacy(T0, [rec(301 * S, 9), rec(300 * S, 4)], 300 * S, 2);
  assert.equal(r2.stabilized, 4);
  assert.deepEqual(r2.recommendations, [rec(0, 2), rec(300 * S, 4)]);
});

test('legacy normalization: conditions and records at exactly min, max and the scale-up limit', () => {
  // nothing limits: ReadyForNewScale, DesiredWithinRange, ScalingLimited False
  const free = normalizeLegacy(T0, [], 0, 4, 5, 1, 10);
  assert.equal(free.desired, 5);
  assert.deepEqual(free.ableToScale.reason, 'ReadyForNewScale');
  assert.deepEqual([free.scalingLimited.status, free.scalingLimited.reason], ['False', 'DesiredWithinRange']);
  assert.deepEqual(free.limitedBy, []);
  // maxReplicas equal to the up-limit (2 × 2 = 4): TooManyReplicas, not ScaleUpLimit
  const atMax = normalizeLegacy(T0, [], 0, 2, 6, 1, 4);
  assert.equal(atMax.desired, 4);
  assert.deepEqual([atMax.scalingLimited.status, atMax.scalingLimited.reason], ['True', 'TooManyReplicas']);
  assert.deepEqual(atMax.limitedBy, ['max']);
  // exactly the up-limit, exactly min: within range
  const edge = normalizeLegacy(T0, [], 0, 2, 4, 1, 10);
  assert.deepEqual([edge.desired, edge.scalingLimited.status, edge.scalingLimited.reason], [4, 'False', 'DesiredWithinRange']);
  const atMin = normalizeLegacy(T0, [], 0, 5, 2, 2, 10);
  assert.deepEqual([atMin.desired, atMin.scalingLimited.status, atMin.scalingLimited.reason], [2, 'False', 'DesiredWithinRange']);
  assert.deepEqual(atMin.limitedBy, []);
  // below min: TooFewReplicas, recorded
  const below = normalizeLegacy(T0, [], 0, 5, 1, 2, 10);
  assert.deepEqual([below.desired, below.scalingLimited.status, below.scalingLimited.reason], [2, 'True', 'TooFewReplicas']);
  assert.deepEqual(below.limitedBy, ['min']);
});

// ---------------------------------------------------------------- behavior stabilization

test('behavior stabilization: a recommendation exactly at the scale-up cutoff is outside the window, 1 ms later inside', () => {
  const at = (agoMs: number) => stabilizeRecommendationWithBehaviors(T0, [rec(agoMs, 2)], 30, 0, 5, 8).stabilized;
  assert.equal(at(30 * S), 8);
  assert.equal(at(30 * S - 1), 5); // the low recommendation holds the scale-up at current
});

test('behavior stabilization: a recommendation exactly at the scale-down cutoff is outside the window, 1 ms later inside', () => {
  const at = (agoMs: number) => stabilizeRecommendationWithBehaviors(T0, [rec(agoMs, 9)], 0, 60, 5, 3).stabilized;
  assert.equal(at(60 * S), 3);
  assert.equal(at(60 * S - 1), 5);
});

test('behavior stabilization: a slot is reused only when strictly older than both windows', () => {
  // exactly at the scale-up cutoff (60 s) and older than the scale-down one (30 s): kept, appended
  const a = stabilizeRecommendationWithBehaviors(T0, [rec(60 * S, 4)], 60, 30, 4, 4);
  assert.deepEqual(a.recommendations, [rec(60 * S, 4), rec(0, 4)]);
  // older than the scale-up cutoff (30 s), exactly at the scale-down one (60 s): kept, appended
  const b = stabilizeRecommendationWithBehaviors(T0, [rec(60 * S, 4)], 30, 60, 4, 4);
  assert.deepEqual(b.recommendations, [rec(60 * S, 4), rec(0, 4)]);
  // the first slot, when it is the old one, is reused
  const c = stabilizeRecommendationWithBehaviors(T0, [rec(61 * S, 4), rec(10 * S, 4)], 30, 60, 4, 4);
  assert.deepEqual(c.recommendations, [rec(0, 4), rec(10 * S, 4)]);
});

test('behavior stabilization: a scaleUp without a window acts as a 0 s window', () => {
  const b = beh({ selectPolicy: 'Max', policies: [pct(1000)] }, rules([pct(100)]));
  // 500 ms old and lower: outside a 0 s window (a 1 s window would hold the scale-up at 5)
  const r = normalizeWithBehavior(T0, [rec(500, 2), rec(900 * S, 7)], [], [], b, 5, 8, 1, 20, 0);
  assert.equal(r.stabilized, 8);
  // and the sample older than both (0 s) windows is the slot reused (here the last such one)
  assert.deepEqual(r.recommendations, [rec(500, 2), rec(0, 8)]);
});

// ---------------------------------------------------------------- rate limits

test('replicasChangePerPeriod: nothing is 0; an event exactly at the period start is outside, 1 ms later inside', () => {
  assert.equal(replicasChangePerPeriod(T0, 60, []), 0);
  assert.equal(replicasChangePerPeriod(T0, 60, [ev(60 * S, 3)]), 0);
  assert.equal(replicasChangePerPeriod(T0, 60, [ev(60 * S - 1, 3), ev(10 * S, 2)]), 5);
});

test('rate limits without policies: Max and Min start from int32 min / max and name no policy', () => {
  assert.deepEqual(scaleUpLimitWithRules(T0, 5, [], [], rules([], 'Max')), { limit: MIN_INT32, policy: undefined });
  assert.deepEqual(scaleUpLimitWithRules(T0, 5, [], [], rules([], 'Min')), { limit: MAX_INT32, policy: undefined });
  assert.deepEqual(scaleDownLimitWithRules(T0, 5, [], [], rules([], 'Max')), { limit: MAX_INT32, policy: undefined });
  assert.deepEqual(scaleDownLimitWithRules(T0, 5, [], [], rules([], 'Min')), { limit: MIN_INT32, policy: undefined });
  // rules read from a hand-written scenario without a policies list act the same
  const bare = { selectPolicy: 'Max' } as HpaScalingRules;
  assert.deepEqual(scaleUpLimitWithRules(T0, 5, [], [], bare), { limit: MIN_INT32, policy: undefined });
  assert.deepEqual(scaleDownLimitWithRules(T0, 5, [], [], bare), { limit: MAX_INT32, policy: undefined });
  // in a decision that still means: no scale-up / scale-down beyond the current count
  const none = beh(rules([], 'Max'), rules([], 'Max'));
  assert.equal(normalizeWithBehavior(T0, [], [], [], none, 5, 9, 1, 20, 0).desired, 5);
  assert.equal(normalizeWithBehavior(T0, [], [], [], none, 5, 2, 1, 20, 0).desired, 5);
});

test('scale-down Min with every proposal below zero answers that negative limit (upstream returns it as is)', () => {
  const l = scaleDownLimitWithRules(T0, 2, [], [], rules([pods_(5), pods_(3)], 'Min'));
  assert.deepEqual(l, { limit: -1, policy: 'scaleDown policy Pods 3/60s' });
});

test('scaleUp Disabled keeps the current count even with generous policies', () => {
  assert.deepEqual(scaleUpLimitWithRules(T0, 5, [], [], rules([pods_(100)], 'Disabled')), { limit: 5, policy: 'scaleUp selectPolicy Disabled' });
  const r = normalizeWithBehavior(T0, [], [], [], beh(rules([pods_(100)], 'Disabled'), rules([pct(100)])), 5, 9, 1, 20, 0);
  assert.equal(r.desired, 5);
  assert.deepEqual(r.limitedBy, ['disabled']);
  assert.equal(r.scalingLimited.reason, 'ScaleUpLimit');
});

test('Percent limits: scale-up rounds up, scale-down truncates (101 replicas, 50 %: 152 and 50)', () => {
  assert.equal(scaleUpLimitWithRules(T0, 101, [], [], rules([pct(50)])).limit, 152);
  assert.equal(scaleUpLimitWithRules(T0, 101, [], [], rules([pct(100)])).limit, 202);
  assert.equal(scaleDownLimitWithRules(T0, 101, [], [], rules([pct(50)])).limit, 50);
  assert.equal(scaleDownLimitWithRules(T0, 101, [], [], rules([pct(100)])).limit, 0);
});

test('equal proposals: the first policy is the one named (Max and Min)', () => {
  // 4 replicas: +4 pods = 8 = +100 %
  assert.equal(scaleUpLimitWithRules(T0, 4, [], [], rules([pods_(4), pct(100)])).policy, 'scaleUp policy Pods 4/60s');
  assert.equal(scaleUpLimitWithRules(T0, 4, [], [], rules([pct(100), pods_(4)], 'Min')).policy, 'scaleUp policy Percent 100%/60s');
  // 10 replicas: −5 pods = 5 = −50 %
  assert.equal(scaleDownLimitWithRules(T0, 10, [], [], rules([pods_(5), pct(50)])).policy, 'scaleDown policy Pods 5/60s');
  assert.equal(scaleDownLimitWithRules(T0, 10, [], [], rules([pct(50), pods_(5)], 'Min')).policy, 'scaleDown policy Percent 50%/60s');
});

test('scale-down policy selection: Max takes the biggest change, Min the smallest, whatever the order', () => {
  const order1 = [pct(50), pods_(3)]; // 10 → 5 or 7
  const order2 = [pods_(3), pct(50)];
  for (const ps of [order1, order2]) {
    assert.deepEqual(scaleDownLimitWithRules(T0, 10, [], [], rules(ps, 'Max')), { limit: 5, policy: 'scaleDown policy Percent 50%/60s' });
    assert.deepEqual(scaleDownLimitWithRules(T0, 10, [], [], rules(ps, 'Min')), { limit: 7, policy: 'scaleDown policy Pods 3/60s' });
  }
  const r = normalizeWithBehavior(T0, [], [], [], beh(rules([pct(100)]), rules(order1, 'Min')), 10, 1, 1, 20, 0);
  assert.equal(r.desired, 7);
});

test('scale-down limit starts from the count at the period start: current − added + deleted', () => {
  // 10 now, +4 added in the period: it started at 6 → −2 pods → 4
  assert.equal(scaleDownLimitWithRules(T0, 10, [ev(10 * S, 4)], [], rules([pods_(2)])).limit, 4);
  // 10 now, −3 deleted in the period: it started at 13 → −2 pods → 11, above current: no further scale-down
  assert.equal(scaleDownLimitWithRules(T0, 10, [], [ev(10 * S, 3)], rules([pods_(2)])).limit, 11);
});

// ---------------------------------------------------------------- behavior normalization: clamps and records

test('behavior: no change needed → no rate limit computed, ScalingLimited False', () => {
  const r = normalizeWithBehavior(T0, [], [], [], wide, 5, 5, 1, 10, 0);
  assert.equal(r.desired, 5);
  assert.equal(r.scaleUpLimit, undefined);
  assert.equal(r.scaleDownLimit, undefined);
  assert.deepEqual([r.scalingLimited.status, r.scalingLimited.reason], ['False', 'DesiredWithinRange']);
  assert.equal(r.ableToScale.reason, 'ReadyForNewScale');
});

test('behavior scale-up: maxReplicas equal to the rate limit gives TooManyReplicas; exactly the limit is within range', () => {
  const b = beh(rules([pods_(3)]), rules([pct(100)]));
  const atMax = normalizeWithBehavior(T0, [], [], [], b, 5, 12, 1, 8, 0);
  assert.equal(atMax.desired, 8);
  assert.equal(atMax.scaleUpLimit, 8);
  assert.deepEqual([atMax.scalingLimited.status, atMax.scalingLimited.reason], ['True', 'TooManyReplicas']);
  assert.deepEqual(atMax.limitedBy, ['max']);
  assert.equal(atMax.limitingPolicy, undefined);
  const edge = normalizeWithBehavior(T0, [], [], [], b, 5, 8, 1, 20, 0);
  assert.deepEqual([edge.desired, edge.scalingLimited.status, edge.scalingLimited.reason], [8, 'False', 'DesiredWithinRange']);
  assert.deepEqual(edge.limitedBy, []);
  const over = normalizeWithBehavior(T0, [], [], [], b, 5, 12, 1, 20, 0);
  assert.deepEqual([over.desired, over.scalingLimited.reason, over.limitingPolicy], [8, 'ScaleUpLimit', 'scaleUp policy Pods 3/60s']);
  assert.deepEqual(over.limitedBy, ['policy']);
});

test('behavior scale-down: a limit above current (deleted earlier in the period) allows no scale-down, never a scale-up', () => {
  const b = beh(rules([pct(100)]), rules([pct(10)]));
  // 5 now, 10 deleted in the period: it started at 15 → −10 % → 13, clamped to current
  const r = normalizeWithBehavior(T0, [], [], [ev(20 * S, 10)], b, 5, 2, 1, 20, 0);
  assert.equal(r.desired, 5);
  assert.equal(r.scaleDownLimit, 5);
  assert.deepEqual([r.scalingLimited.status, r.scalingLimited.reason], ['True', 'ScaleDownLimit']);
});

test('behavior scale-down: minReplicas equal to the rate limit gives TooFewReplicas; exactly the limit is within range', () => {
  const b = beh(rules([pct(100)]), rules([pods_(3)]));
  const atMin = normalizeWithBehavior(T0, [], [], [], b, 10, 2, 7, 20, 0);
  assert.equal(atMin.desired, 7);
  assert.equal(atMin.scaleDownLimit, 7);
  assert.deepEqual([atMin.scalingLimited.status, atMin.scalingLimited.reason], ['True', 'TooFewReplicas']);
  assert.deepEqual(atMin.limitedBy, ['min']);
  assert.equal(atMin.limitingPolicy, undefined);
  const aboveLimit = normalizeWithBehavior(T0, [], [], [], b, 10, 2, 8, 20, 0);
  assert.deepEqual([aboveLimit.desired, aboveLimit.scalingLimited.reason, aboveLimit.limitingPolicy], [8, 'TooFewReplicas', undefined]);
  assert.deepEqual(aboveLimit.limitedBy, ['min']);
  const edge = normalizeWithBehavior(T0, [], [], [], b, 10, 7, 1, 20, 0);
  assert.deepEqual([edge.desired, edge.scalingLimited.status, edge.scalingLimited.reason], [7, 'False', 'DesiredWithinRange']);
  assert.deepEqual(edge.limitedBy, []);
  const under = normalizeWithBehavior(T0, [], [], [], b, 10, 2, 1, 20, 0);
  assert.deepEqual([under.desired, under.scalingLimited.reason, under.limitingPolicy], [7, 'ScaleDownLimit', 'scaleDown policy Pods 3/60s']);
  assert.deepEqual(under.limitedBy, ['policy']);
});

test('behavior without scaleUp or scaleDown rules (hand-written scenario): the autoscaling/v2 defaults apply', () => {
  const onlyDown = { scaleDown: rules([pct(100)]) } as HpaBehavior;
  assert.equal(normalizeWithBehavior(T0, [], [], [], onlyDown, 10, 30, 1, 100, 0).desired, 20); // max(+4, +100 %)
  const onlyUp = { scaleUp: rules([pct(100)]) } as HpaBehavior;
  // the default scaleDown window is the controller's: a 9 recommended 200 s ago holds within 300 s
  assert.equal(normalizeWithBehavior(T0, [rec(200 * S, 9)], [], [], onlyUp, 10, 3, 1, 100, 300).desired, 9);
  assert.equal(normalizeWithBehavior(T0, [rec(200 * S, 9)], [], [], onlyUp, 10, 3, 1, 100, 100).desired, 3);
});

// ---------------------------------------------------------------- scale-event history

test('storeScaleEvent: a recent event is kept and the new one appended; equal counts go to the scale-down history', () => {
  const b = beh(rules([pods_(1, 60)]), rules([pods_(1, 60)]));
  const r = storeScaleEvent(T0, b, [ev(10 * S, 2, false)], [], 5, 7);
  assert.deepEqual(r.scaleUpEvents, [ev(10 * S, 2, false), ev(0, 2, false)]);
  assert.deepEqual(r.scaleDownEvents, []);
  // prev == new (upstream's else branch): a 0 change in the scale-down history
  const same = storeScaleEvent(T0, b, [ev(10 * S, 2, false)], [], 5, 5);
  assert.deepEqual(same.scaleUpEvents, [ev(10 * S, 2, false)]);
  assert.deepEqual(same.scaleDownEvents, [ev(0, 0, false)]);
});

test('storeScaleEvent: a scale-down uses the scale-down rules\' longest period and the scale-down history only', () => {
  const b = beh(rules([pods_(1, 15)]), rules([pods_(1, 15), pods_(1, 60)]));
  // 30 s old: inside the scale-down's 60 s (the scale-up's 15 s would outdate it)
  const r = storeScaleEvent(T0, b, [ev(5 * S, 4, false)], [ev(30 * S, 1, false)], 9, 6);
  assert.deepEqual(r.scaleDownEvents, [ev(30 * S, 1, false), ev(0, 3, false)]);
  assert.deepEqual(r.scaleUpEvents, [ev(5 * S, 4, false)]);
  // the longest period is the longest one, not the last one listed
  const b2 = beh(rules([pods_(1, 60), pods_(1, 15)]), rules([pods_(1, 60)]));
  assert.deepEqual(storeScaleEvent(T0, b2, [ev(30 * S, 1, false)], [], 1, 2).scaleUpEvents, [ev(30 * S, 1, false), ev(0, 1, false)]);
});

test('storeScaleEvent: an event exactly at the period start is not outdated; 1 ms older it is, and its slot is reused', () => {
  const b = beh(rules([pods_(1, 60)]), rules([pods_(1, 60)]));
  assert.deepEqual(storeScaleEvent(T0, b, [ev(60 * S, 1, false)], [], 1, 2).scaleUpEvents, [ev(60 * S, 1, false), ev(0, 1, false)]);
  assert.deepEqual(storeScaleEvent(T0, b, [ev(60 * S + 1, 1, false), ev(5 * S, 1, false)], [], 1, 2).scaleUpEvents, [ev(0, 1, false), ev(5 * S, 1, false)]);
});

test('storeScaleEvent: events outdated by time are marked (even ones stored as outdated: false); only the last is replaced', () => {
  const b = beh(rules([pods_(1, 60)]), rules([pods_(1, 60)]));
  const r = storeScaleEvent(T0, b, [ev(100 * S, 1, false), ev(90 * S, 2, false), ev(10 * S, 3, false)], [], 1, 2);
  assert.deepEqual(r.scaleUpEvents, [ev(100 * S, 1, true), ev(0, 1, false), ev(10 * S, 3, false)]);
});

test('storeScaleEvent: rules without policies have a 0 s longest period (every past event is outdated)', () => {
  const b = beh(rules([]), rules([]));
  assert.deepEqual(storeScaleEvent(T0, b, [ev(500, 1, false)], [], 1, 2).scaleUpEvents, [ev(0, 1, false)]);
  // and without rules for that direction at all (hand-written scenario)
  const onlyUp = { scaleUp: rules([pods_(1)]) } as HpaBehavior;
  assert.deepEqual(storeScaleEvent(T0, onlyUp, [], [ev(500, 1, false)], 3, 2).scaleDownEvents, [ev(0, 1, false)]);
});
