// Replica calculator edges (issue 16): each test's numbers tell upstream's rule from its near
// neighbours (v1.37 pkg/controller/podautoscaler/replica_calculator.go, metrics/utilization.go):
// exact time boundaries of the pod grouping, the rebalance at ratio exactly 1.0 and inside (1, 2],
// the direction-flip guards, samples of pods the lister does not know, zero requests, the int64
// sums and the int32 conversion. The int64 expectations were computed with Go's own int64
// arithmetic (the same expressions as upstream, run once), not with this code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type CalcEnv,
  externalTotal,
  getExternalMetricReplicas,
  getExternalPerPodMetricReplicas,
  getObjectMetricReplicas,
  getObjectPerPodMetricReplicas,
  getPlainMetricReplicas,
  getResourceReplicas,
} from '../../../src/deciders/hpa/replica-calculator.ts';
import type { PodInfo, PodMetricSample } from '../../../src/deciders/hpa/types.ts';
import { S, T0, pod, pods, sample, calcEnv, ok, vals } from './helpers.ts';

const TOL = { scaleUp: 0.1, scaleDown: 0.1 };
const env = (podList: PodInfo[], tol = TOL): CalcEnv => calcEnv(podList, tol);
const cpuUtil = (podList: PodInfo[], current: number, target: number, s: PodMetricSample[]) =>
  getResourceReplicas(env(podList), current, target, 'cpu', undefined, s);
const plain = (podList: PodInfo[], current: number, target: number, s: PodMetricSample[], resource = '') =>
  getPlainMetricReplicas(env(podList), current, target, resource, s);
const P62 = 2 ** 62;
const P60 = 2 ** 60;

// ---------------------------------------------------------------- tolerance

test('tolerance: both edges are inside (1 − 0.1 ≤ ratio ≤ 1 + 0.1), just outside them the count moves', () => {
  // 45% and 55% of a 50% target: exactly 0.9 and 1.1
  const lo = ok(cpuUtil(pods(10), 10, 50, vals(Array(10).fill(450))));
  assert.deepEqual([lo.info.usageRatio, lo.replicas, lo.info.withinTolerance], [0.9, 10, true]);
  const hi = ok(cpuUtil(pods(10), 10, 50, vals(Array(10).fill(550))));
  assert.deepEqual([hi.info.usageRatio, hi.replicas, hi.info.withinTolerance], [1.1, 10, true]);
  assert.equal(ok(cpuUtil(pods(10), 10, 50, vals(Array(10).fill(440)))).replicas, 9); // 0.88
  assert.equal(ok(cpuUtil(pods(10), 10, 50, vals(Array(10).fill(560)))).replicas, 12); // 1.12
});

// ---------------------------------------------------------------- pod grouping: exact boundaries

test('cpu: a pod started exactly cpuInitializationPeriod ago is past it (After is strict); 1 ms later it is inside', () => {
  // p1 became Ready 20 s ago: inside the period its sample (10 s old, 60 s window) would be too early
  const at = (startTime: number) => [pod('p0'), pod('p1', { startTime, readySince: T0 - 20 * S })];
  const past = ok(cpuUtil(at(T0 - 300 * S), 2, 50, vals([200, 1000])));
  assert.equal(past.info.unreadyPods, 0);
  assert.equal(past.utilization, 60);
  assert.equal(past.replicas, 3); // 1.2 × 2 ready
  const inside = ok(cpuUtil(at(T0 - 300 * S + 1), 2, 50, vals([200, 1000])));
  assert.equal(inside.info.unreadyPods, 1);
  assert.equal(inside.replicas, 1); // 20% / 50% × 1 ready (scale-down: the unready pod is left out)
});

test('cpu: inside the initialization period a sample taken exactly one window after Ready counts; 1 ms earlier it does not', () => {
  // sample at T0 − 10 s with a 60 s window: Ready since T0 − 70 s is exactly one window before it
  const at = (readySince: number) => [pod('p0'), pod('p1', { startTime: T0 - 100 * S, readySince })];
  const counted = ok(cpuUtil(at(T0 - 70 * S), 2, 50, vals([200, 1000])));
  assert.equal(counted.info.unreadyPods, 0);
  assert.equal(counted.replicas, 3);
  const early = ok(cpuUtil(at(T0 - 70 * S + 1), 2, 50, vals([200, 1000])));
  assert.equal(early.info.unreadyPods, 1);
  assert.equal(early.replicas, 1);
});

test('cpu: after the period, Ready=False exactly initialReadinessDelay after start means it was ready once (counts)', () => {
  const start = T0 - 20 * 60 * S;
  const at = (readySince: number) => [pod('p0'), pod('p1', { ready: 'False', startTime: start, readySince })];
  const once = ok(cpuUtil(at(start + 30 * S), 2, 50, vals([200, 1000])));
  assert.equal(once.info.unreadyPods, 0);
  assert.equal(once.replicas, 3);
  const never = ok(cpuUtil(at(start + 30 * S - 1), 2, 50, vals([200, 1000])));
  assert.equal(never.info.unreadyPods, 1);
  assert.equal(never.replicas, 1);
});

test('cpu: a pod without a sample is missing even inside its initialization period (missing is decided before readiness)', () => {
  const list = [pod('p0'), pod('p1'), pod('p2', { startTime: T0 - 60 * S, readySince: T0 - 50 * S })];
  const r = ok(cpuUtil(list, 3, 50, vals([900, 900])));
  assert.deepEqual([r.info.readyPods, r.info.missingPods, r.info.unreadyPods], [2, 1, 0]);
  assert.equal(r.replicas, 4); // 1800/3000 = 60% → 1.2 × 3 entries = 3.6
});

test('non-cpu metrics skip the readiness rules: a pod without Ready condition or start time counts', () => {
  const list = [pod('p0'), pod('p1', { ready: null, startTime: null })];
  const r = ok(plain(list, 2, 1000, vals([2000, 2000])));
  assert.equal(r.info.unreadyPods, 0);
  assert.equal(r.replicas, 4); // as unready it would be 0 on the scale-up: 1.0 → 2
  // a memory AverageValue target takes the same plain path: no readiness rules either
  const mem = ok(plain(list, 2, 1000, vals([2000, 2000]), 'memory'));
  assert.equal(mem.replicas, 4);
});

// ---------------------------------------------------------------- requests and the utilization sums

test('resource: a sample of a pod the lister does not know is skipped in the ratio, and counted in len(metrics) on a rebalance', () => {
  const ghost = sample('ghost', 5000);
  const r = ok(cpuUtil(pods(2), 2, 50, [...vals([800, 800]), ghost]));
  assert.equal(r.utilization, 80);
  assert.equal(r.usage, 800);
  assert.equal(r.replicas, 4); // 1.6 × 2 ready pods (not × 3 samples)
  // with a missing pod the rebalanced count is ceil(ratio × len(metrics)), the unknown pod included
  const m = ok(cpuUtil(pods(3), 3, 50, [...vals([1000, 1000, undefined]), ghost]));
  assert.equal(m.info.rebalancedUsageRatio, 66 / 50);
  assert.equal(m.replicas, 6); // 1.32 × 4 entries = 5.28 → 6 (× 3 would be 4)
});

test('resource: requests summing to 0 are an error; a 1m total is not', () => {
  const zero = [pod('p0', { requests: { cpu: 0 } }), pod('p1', { requests: { cpu: 0 } })];
  assert.deepEqual(cpuUtil(zero, 2, 50, vals([100, 100])), { ok: false, error: 'no metrics returned matched known pods' });
  const one = ok(cpuUtil([pod('p0', { requests: { cpu: 1 } })], 1, 100, vals([1])));
  assert.equal(one.utilization, 100);
  assert.equal(one.replicas, 1);
});

test('resource: int64 sums wrap as upstream\'s do (metrics and requests), the raw average included', () => {
  // 3 × 2^62 milli-cores wraps to −2^62: (−2^62 × 100) wraps to 0, raw average −2^62 / 3
  const r = ok(cpuUtil(pods(3, { requests: { cpu: 2 ** 40 } }), 3, 50, vals([P62, P62, P62])));
  assert.equal(r.utilization, 0);
  assert.equal(r.usage, -1537228672809129301);
  // 3 × 2^62 requested wraps to −2^62 as well
  const q = ok(cpuUtil(pods(3, { requests: { cpu: P62 } }), 3, 1, vals([2 ** 61, 2 ** 61, 2 ** 61])));
  assert.equal(q.utilization, 2);
  assert.equal(q.usage, 2 ** 61);
  // on the int64 path a sample of an unknown pod is skipped as well
  const g = ok(cpuUtil(pods(2, { requests: { cpu: 2 ** 40 } }), 2, 50, [...vals([2 ** 56, 2 ** 56]), sample('ghost', 2 ** 56)]));
  assert.equal(g.utilization, -1835008);
  assert.equal(g.usage, 2 ** 56);
});

test('resource: a request total that wraps to 0 in int64 is upstream\'s "no metrics returned matched known pods"', () => {
  // 4 × 2^62 m requested is 2^64: 0 as an int64 (the samples themselves are small)
  const huge = pods(4, { requests: { cpu: P62 } });
  assert.deepEqual(cpuUtil(huge, 4, 50, vals([100, 100, 100, 100])), { ok: false, error: 'no metrics returned matched known pods' });
  // the same in the rebalance: 3 × 2^62 is −2^62 (utilization 0: down), the missing 4th pod at 100 %
  // of its 2^62 m request brings the total to 2^64 → the second sum fails
  assert.deepEqual(cpuUtil(huge, 4, 50, vals([100, 100, 100, undefined])), { ok: false, error: 'no metrics returned matched known pods' });
});

test('resource: int32(...) of a negative utilization wraps too (custom quantities can be negative)', () => {
  // −2147483649 % is one below int32 min: it wraps to int32 max
  const a = ok(cpuUtil([pod('p0', { requests: { cpu: 100 } })], 1, 50, vals([-2147483649])));
  assert.equal(a.utilization, 2147483647);
  assert.equal(a.replicas, Math.ceil(2147483647 / 50));
  // −4294967300 % wraps to −4 %
  const b = ok(cpuUtil([pod('p0', { requests: { cpu: 1 } }), pod('p1', { requests: { cpu: 1 } })], 2, 50, vals([-42949673, -42949673])));
  assert.equal(b.utilization, -4);
});

// ---------------------------------------------------------------- plain averages

test('plain: no pods, or no ready pod with a sample, are errors (as on the resource path)', () => {
  assert.deepEqual(plain([], 1, 1000, vals([100])), { ok: false, error: 'no pods returned by selector while calculating replica count' });
  const pending = pods(2, { phase: 'Pending' });
  assert.deepEqual(plain(pending, 2, 1000, vals([100, 100])), { ok: false, error: 'did not receive metrics for targeted pods (pods might be unready)' });
  assert.deepEqual(plain(pods(2), 2, 1000, [sample('ghost', 100)]).ok, true); // an unknown pod's sample still counts here
});

test('plain average: truncated, on data that does not divide exactly (1000.5 → 1000 changes the count)', () => {
  const r = ok(plain(pods(2), 2, 500, vals([1000, 1001])));
  assert.equal(r.usage, 1000);
  assert.equal(r.replicas, 4); // 2.0 × 2; the exact 1000.5 would give ceil(4.002) = 5
});

test('plain average beyond 2^53 is exact (int64), not a float sum', () => {
  const r = ok(plain(pods(3), 3, 2 ** 51, vals([2 ** 53, 1, 1])));
  assert.equal(r.usage, 3002399751580331); // (2^53 + 2) / 3; a float sum gives …330
  assert.equal(r.replicas, Math.ceil((3002399751580331 / 2 ** 51) * 3));
});

// ---------------------------------------------------------------- rebalance, resource utilization

test('resource: missing pods on a scale-up count as exactly 0 m (1 m more would cross a whole percent)', () => {
  // 2999/2000 = 149% vs 33%: up. Rebalanced 2999/3000 = 99% → 3.0 × 3 = 9; at 3000 m it would be 100% → 10
  const r = ok(cpuUtil(pods(3), 3, 33, vals([1500, 1499, undefined])));
  assert.equal(r.info.rebalancedUsageRatio, 3);
  assert.equal(r.replicas, 9);
});

test('resource: missing pods on a scale-down count as max(100 %, target) of their request, truncated to the milli', () => {
  // 2 pods at 50 m of 1000 m, target 55%: the missing pod at 100% (1000 m): 1100/3000 = 36% → 0.65 × 3 → 2
  // (at 101% it would be 1010 m: 37% → 0.67 × 3 → 3)
  const a = ok(cpuUtil(pods(3), 3, 55, vals([50, 50, undefined])));
  assert.equal(a.info.rebalancedUsageRatio, 36 / 55);
  assert.equal(a.replicas, 2);
  // requests of 100 m, 2 pods at 1 m, target 50%: the missing pod at exactly 100 m: 102/300 = 34% → 0.68 × 3 → 3
  // (99 m would give 33% → 0.66 × 3 → 2)
  const b = ok(cpuUtil(pods(3, { requests: { cpu: 100 } }), 3, 50, vals([1, 1, undefined])));
  assert.equal(b.info.rebalancedUsageRatio, 34 / 50);
  assert.equal(b.replicas, 3);
  // above 100% the target is the fallback: 150% target, the missing pod at 150% of 1000 m
  const c = ok(cpuUtil(pods(4), 4, 150, vals([100, 100, 100, undefined])));
  assert.equal(c.info.rebalancedUsageRatio, 45 / 150); // (300 + 1500)/4000 = 45% (at 100%: 32% → 1)
  assert.equal(c.replicas, 2); // 0.3 × 4 = 1.2
});

test('resource: unready pods are not set to 0 on a scale-down that rebalances missing pods', () => {
  const list = [pod('p0'), pod('p1'), pod('p2'), pod('p3', { phase: 'Pending' })];
  // 10% vs 40%: down; the missing p2 at 100%: 1200/3000 = 40% → 1.0 within tolerance → 4
  // (with the pending p3 at 0 as well: 1200/4000 = 30% → 0.75 × 4 = 3)
  const r = ok(cpuUtil(list, 4, 40, vals([100, 100])));
  assert.equal(r.info.rebalancedUsageRatio, 1);
  assert.equal(r.replicas, 4);
});

test('resource: at a ratio of exactly 1.0 unready pods are not rebalanced (tolerance keeps the count)', () => {
  const list = [pod('p0'), pod('p1'), pod('p2', { phase: 'Pending' }), pod('p3', { phase: 'Pending' })];
  const r = ok(cpuUtil(list, 4, 50, vals([500, 500])));
  assert.equal(r.info.usageRatio, 1);
  assert.equal(r.info.rebalancedUsageRatio, undefined);
  assert.equal(r.replicas, 4); // rebalanced (pending at 0) it would be 25% → 2
});

test('resource: the rebalanced count may not move against the ratio (both guards)', () => {
  // scale-down ratio, but ceil(0.7667 × 3 entries) = 3 > current 2: hold
  const down = ok(cpuUtil(pods(3), 2, 60, vals([200, 200, undefined])));
  assert.equal(down.info.rebalancedUsageRatio, 46 / 60);
  assert.equal(down.replicas, 2);
  assert.equal(down.info.directionFlipPrevented, true);
  // scale-up ratio, but ceil(1.32 × 3 entries) = 4 < current 6: hold
  const up = ok(cpuUtil(pods(3), 6, 50, vals([1000, 1000, undefined])));
  assert.equal(up.info.rebalancedUsageRatio, 66 / 50);
  assert.equal(up.replicas, 6);
  assert.equal(up.info.directionFlipPrevented, true);
  // and without either, the rebalanced count is taken and nothing is marked
  const free = ok(cpuUtil(pods(3), 3, 50, vals([1000, 1000, undefined])));
  assert.equal(free.replicas, 4);
  assert.equal(free.info.directionFlipPrevented, false);
  assert.equal(free.info.withinTolerance, false);
});

// ---------------------------------------------------------------- rebalance, plain values

test('plain: missing pods at a ratio of exactly 1.0 are left out (not 0, not the target)', () => {
  const r = ok(plain(pods(3), 3, 1000, vals([1000, 1000, undefined])));
  assert.equal(r.info.rebalancedUsageRatio, 1);
  assert.equal(r.replicas, 3); // as 0: 666 → ceil(0.666 × 3) = 2
  assert.equal(r.info.withinTolerance, true);
});

test('plain: missing pods count as 0 on a scale-up inside (1, 2] (not left out, not the target)', () => {
  // 1.6: as 0 → 3200/3 = 1066 → within tolerance → 3; left out → ceil(3.2) = 4; as the target → 1400 → 5
  const r = ok(plain(pods(3), 3, 1000, vals([1600, 1600, undefined])));
  assert.equal(r.info.rebalancedUsageRatio, 1.066);
  assert.equal(r.replicas, 3);
  assert.equal(r.info.withinTolerance, true);
});

test('plain: missing pods count as the target on a scale-down; pending pods stay out there', () => {
  const list = [pod('p0'), pod('p1'), pod('p2'), pod('p3', { phase: 'Pending' })];
  // 0.95 down; p2 at the target: 2900/3 = 966 → within tolerance → 4 (with p3 at 0: 725 → 3)
  const r = ok(plain(list, 4, 1000, vals([950, 950])));
  assert.equal(r.info.rebalancedUsageRatio, 0.966);
  assert.equal(r.replicas, 4);
  // far down: the target value, not 0: (200 + 1000)/2 = 600 → ceil(0.6 × 2) = 2 (as 0: 100 → 1)
  const far = ok(plain(pods(2), 2, 1000, vals([200, undefined])));
  assert.equal(far.info.rebalancedUsageRatio, 0.6);
  assert.equal(far.replicas, 2);
});

test('plain: one unready pod on a scale-up is rebalanced at 0 (ratio in (1, 2), scale-up kept)', () => {
  const list = [pod('p0'), pod('p1'), pod('p2', { phase: 'Pending' })];
  // 1.6 with 2 ready: the pending pod at 0 → 3200/3 = 1066 → within tolerance → current 3
  const r = ok(plain(list, 3, 1000, vals([1600, 1600])));
  assert.equal(r.info.rebalancedUsageRatio, 1.066);
  assert.equal(r.replicas, 3);
  // 1.8: 3600/3 = 1200 → 1.2 → ceil(3.6) = 4, a scale-up with an old ratio below 2
  const r2 = ok(plain(list, 3, 1000, vals([1800, 1800])));
  assert.equal(r2.info.rebalancedUsageRatio, 1.2);
  assert.equal(r2.replicas, 4);
  assert.equal(r2.info.directionFlipPrevented, false);
});

test('plain: at a ratio of exactly 1.0 unready pods are not rebalanced', () => {
  const list = [pod('p0'), pod('p1'), pod('p2', { phase: 'Pending' }), pod('p3', { phase: 'Pending' })];
  const r = ok(plain(list, 4, 1000, vals([1000, 1000])));
  assert.equal(r.info.rebalancedUsageRatio, undefined);
  assert.equal(r.replicas, 4);
});

test('plain: samples of unknown pods count in the average but not in the ready count', () => {
  const r = ok(plain(pods(2), 2, 1000, [...vals([2000, 2000]), sample('ghost', 2000)]));
  assert.equal(r.usage, 2000);
  assert.equal(r.replicas, 4); // 2.0 × 2 ready pods (× 3 samples would be 6)
});

test('plain: a rebalance that flips a scale-up into a scale-down holds the count', () => {
  // 1.5 up; the two missing pods at 0: 500 → 0.5 → hold at 3
  const r = ok(plain(pods(3), 3, 1000, vals([1500, undefined, undefined])));
  assert.equal(r.info.rebalancedUsageRatio, 0.5);
  assert.equal(r.replicas, 3);
  assert.equal(r.info.directionFlipPrevented, true);
});

test('plain: the rebalanced count may not fall below current on a scale-up', () => {
  // 2.0 up; missing at 0: 1333 → ceil(1.333 × 3) = 4 < current 6: hold
  const r = ok(plain(pods(3), 6, 1000, vals([2000, 2000, undefined])));
  assert.equal(r.info.rebalancedUsageRatio, 1.333);
  assert.equal(r.replicas, 6);
  assert.equal(r.info.directionFlipPrevented, true);
  const free = ok(plain(pods(3), 3, 1000, vals([2000, 2000, undefined])));
  assert.equal(free.replicas, 4);
  assert.equal(free.info.directionFlipPrevented, false);
});

test('plain: the first within-tolerance answer is marked in the record', () => {
  const r = ok(plain(pods(2), 2, 1000, vals([1050, 1050])));
  assert.equal(r.replicas, 2);
  assert.equal(r.info.withinTolerance, true);
  assert.equal(r.info.directionFlipPrevented, false);
});

// ---------------------------------------------------------------- Object / External

test('object Value: the record of a plain ratio × ready answer', () => {
  const list = [pod('p0'), pod('p1'), pod('p2', { phase: 'Pending' })];
  const r = ok(getObjectMetricReplicas(env(list), 3, 1000, 3000));
  assert.equal(r.replicas, 6);
  assert.equal(r.usage, 3000);
  assert.deepEqual(r.info, { readyPods: 2, missingPods: 0, unreadyPods: 0, ignoredPods: 0, usageRatio: 3, withinTolerance: false, directionFlipPrevented: false });
  const w = ok(getObjectMetricReplicas(env(list), 3, 1000, 1050));
  assert.deepEqual(w.info, { readyPods: 2, missingPods: 0, unreadyPods: 0, ignoredPods: 0, usageRatio: 1.05, withinTolerance: true, directionFlipPrevented: false });
  const z = ok(getObjectMetricReplicas(env(list), 0, 1000, 2500));
  assert.equal(z.replicas, 3);
  assert.deepEqual(z.info, { readyPods: 2, missingPods: 0, unreadyPods: 0, ignoredPods: 0, usageRatio: 2.5, withinTolerance: false, directionFlipPrevented: false });
});

test('object/external Value: no pods outside tolerance is an error; one pod is enough', () => {
  const err = { ok: false, error: 'unable to calculate ready pods: no pods returned by selector while calculating replica count' };
  assert.deepEqual(getObjectMetricReplicas(env([]), 2, 1000, 5000), err);
  assert.deepEqual(getExternalMetricReplicas(env([]), 2, 1000, [5000]), err);
  assert.equal(ok(getObjectMetricReplicas(env(pods(1)), 2, 1000, 5000)).replicas, 5);
  assert.equal(ok(getExternalMetricReplicas(env(pods(1)), 2, 1000, [5000])).replicas, 5);
});

test('per-pod averages: usage is ceil(total / status replicas); the tolerance answer is marked', () => {
  const r = ok(getObjectPerPodMetricReplicas(env([]), 3, 3000, 20000));
  assert.equal(r.usage, 6667); // 6666.67 rounded up
  assert.equal(r.replicas, 7);
  assert.equal(r.info.withinTolerance, false);
  const w = ok(getObjectPerPodMetricReplicas(env([]), 4, 5000, 21000));
  assert.equal(w.replicas, 4);
  assert.equal(w.info.withinTolerance, true);
  const e = ok(getExternalPerPodMetricReplicas(env([]), 3, 1000, [10001]));
  assert.equal(e.usage, 3334);
  assert.equal(e.replicas, 11);
});

test('per-pod averages at 0 status replicas: the proposal is ceil(total / target); usage reports the total', () => {
  // (upstream converts ceil(total / 0) = +Inf to int64, which Go leaves to the CPU; Tide reports the total)
  const r = ok(getObjectPerPodMetricReplicas(env([]), 0, 1000, 2500));
  assert.equal(r.replicas, 3);
  assert.equal(r.usage, 2500);
});

test('external totals on the int64 path: capped (Value) before a positive overflow, exact otherwise', () => {
  // upstream: usage + 2^62 would pass int64 max → usage = int64 max, the −2^62 after it is never added
  assert.equal(externalTotal([P62, P62, -P62], 'cap'), 9223372036854775807);
  assert.equal(externalTotal([P60, -(2 ** 61)], 'cap'), -1152921504606846976);
  // only a positive overflow is capped: a negative one wraps around as int64 addition does
  assert.equal(externalTotal([-(2 ** 63), -1], 'cap'), 9223372036854775807);
  assert.equal(externalTotal([-P62, -P62, -P62, P62], 'cap'), 9223372036854775807); // −3·2^62 wraps to 2^62, then capped
  assert.equal(externalTotal([-(2 ** 63), P62], 'cap'), -P62);
  assert.equal(externalTotal([P60, P60], 'cap'), 2 ** 61);
  // reaching exactly int64 max is not an overflow: 2^62 + 2^61 + … + 1, then −2^62 → 2^62 − 1
  const powers = Array.from({ length: 63 }, (_, i) => 2 ** (62 - i));
  assert.equal(externalTotal([...powers, -P62], 'cap'), 4611686018427387903);
  assert.equal(ok(getExternalMetricReplicas(env(pods(1)), 0, 1000, [P60, P60])).usage, 2 ** 61);
});

test('external totals on the int64 path: AverageValue adds with wrap-around and answers int64 max once negative', () => {
  assert.equal(externalTotal([P62, P62, -P62], 'wrap'), 9223372036854775807); // 2^63 wraps negative
  assert.equal(externalTotal([P60, -(2 ** 61)], 'wrap'), 9223372036854775807); // negative without overflow
  assert.equal(externalTotal([P60, -P60], 'wrap'), 0); // 0 is not negative
  assert.equal(externalTotal([P60, P60], 'wrap'), 2 ** 61);
  assert.equal(externalTotal([-(2 ** 63), -P62], 'wrap'), 9223372036854775807); // int64 min is negative at once
  // exactly int64 max is not an overflow: 2^62 + 2^61 + … + 1, then −2^62 → 2^62 − 1
  const powers = Array.from({ length: 63 }, (_, i) => 2 ** (62 - i));
  assert.equal(externalTotal(powers, 'wrap'), 9223372036854775807);
  assert.equal(externalTotal([...powers, -P62], 'wrap'), 4611686018427387903);
  assert.equal(ok(getExternalPerPodMetricReplicas(env([]), 2, 1000, [P60, P60])).usage, 2 ** 60);
  // a total at int64 max is reported undivided (upstream: float64(usage) >= float64(MaxInt64)); an
  // Object AverageValue total has no such check and is divided
  const top = ok(getExternalPerPodMetricReplicas(env([]), 4, 1000, [P62, P62]));
  assert.equal(top.usage, 9223372036854775807);
  assert.equal(top.replicas, 2147483647);
  assert.equal(ok(getExternalPerPodMetricReplicas(env([]), 4, 1000, [P62, P62 / 2])).usage, (P62 + P62 / 2) / 4);
  assert.equal(ok(getObjectPerPodMetricReplicas(env([]), 4, 1000, 2 ** 63)).usage, 2 ** 61);
});

test('external totals on the plain path: a running sum of exactly 0 is not an overflow', () => {
  assert.equal(externalTotal([0], 'wrap'), 0);
  assert.equal(externalTotal([5, -5], 'wrap'), 0);
  assert.equal(ok(getExternalPerPodMetricReplicas(env([]), 2, 1000, [5, -5])).replicas, 0);
  assert.equal(externalTotal([-5000], 'cap'), -5000);
});
