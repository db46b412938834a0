// Replica calculator situations transcribed from upstream's replica_calculator_test.go (own numbers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type CalcEnv,
  getExternalMetricReplicas,
  getExternalPerPodMetricReplicas,
  getObjectMetricReplicas,
  getObjectPerPodMetricReplicas,
  getPlainMetricReplicas,
  getResourceReplicas,
} from '../../../src/deciders/hpa/replica-calculator.ts';
import type { PodInfo } from '../../../src/deciders/hpa/types.ts';
import { MIN, S, T0, pod, pods, sample, calcEnv, ok, vals } from './helpers.ts';

const env = calcEnv;
/** Ready=False since shortly after start: never became ready. */
const neverReadyOpts = { ready: 'False' as const, startTime: T0 - 61 * MIN, readySince: T0 - 61 * MIN + 5 * S };
const cpuUtil = (podList: PodInfo[], current: number, target: number, v: (number | undefined)[], tol?: { scaleUp: number; scaleDown: number }) =>
  getResourceReplicas(env(podList, tol), current, target, 'cpu', undefined, vals(v));

test('resource utilization: scale up uses ceil(ratio × ready pods)', () => {
  const r = ok(cpuUtil(pods(3), 3, 30, [300, 500, 700]));
  assert.equal(r.replicas, 5); // 50% of request vs 30% → 1.667 × 3
  assert.equal(r.utilization, 50);
  assert.equal(r.usage, 500); // raw average
});

test('resource utilization: scale down', () => {
  const r = ok(cpuUtil(pods(5), 5, 50, [100, 300, 500, 250, 250]));
  assert.equal(r.utilization, 28);
  assert.equal(r.replicas, 3);
});

test('resource utilization: within tolerance keeps the current count', () => {
  const r = ok(cpuUtil(pods(3), 3, 50, [540, 520, 560]));
  assert.equal(r.replicas, 3);
  assert.equal(r.info.withinTolerance, true);
});

test('resource utilization: percentage is truncated to an integer before the ratio (33% not 33.3%)', () => {
  // 1000m of 3000m = 33.33% → 33 → 33/30 = 1.1: at the tolerance edge, no change (exact ratio 1.11 would give 4)
  const r = ok(cpuUtil(pods(3), 3, 30, [333, 333, 334]));
  assert.equal(r.utilization, 33);
  assert.equal(r.replicas, 3);
});

test('resource utilization: unready pods count as 0% on a scale-up', () => {
  const list = [pod('p0', neverReadyOpts), pod('p1'), pod('p2')];
  const r = ok(cpuUtil(list, 3, 30, [300, 500, 700]));
  assert.equal(r.utilization, 60); // ready pods only
  assert.equal(r.replicas, 4); // rebalanced 1200/3000 = 40% → 1.333 × 3
  assert.equal(r.info.unreadyPods, 1);
});

test('resource utilization: unready pods are left out on a scale-down', () => {
  const list = [pod('p0'), pod('p1'), pod('p2'), pod('p3', neverReadyOpts), pod('p4', neverReadyOpts)];
  const r = ok(cpuUtil(list, 5, 50, [100, 300, 500, 250, 250]));
  assert.equal(r.utilization, 30);
  assert.equal(r.replicas, 2); // 0.6 × 3 ready
});

test('resource utilization: pending pods are unready', () => {
  const list = [pod('p0'), ...['p1', 'p2', 'p3', 'p4'].map((n) => pod(n, { phase: 'Pending', ready: 'False' }))];
  const r = ok(cpuUtil(list, 5, 50, [100]));
  assert.equal(r.utilization, 10);
  assert.equal(r.replicas, 1);
});

test('resource utilization: pods within the cpu initialization period without a full window since readiness are ignored', () => {
  const hot = { startTime: T0 - 1 * MIN, readySince: T0 - 30 * S }; // sample at T0-10s, window 60s → too early
  const list = [pod('p0'), pod('p1'), pod('p2'), pod('p3', hot), pod('p4', hot)];
  const r = ok(cpuUtil(list, 5, 50, [100, 300, 500, 1000, 1000]));
  assert.equal(r.utilization, 30);
  assert.equal(r.replicas, 2);
  // once a window has passed since readiness, the same pods count
  const warm = { startTime: T0 - 4 * MIN, readySince: T0 - 3 * MIN };
  const list2 = [pod('p0'), pod('p1'), pod('p2'), pod('p3', warm), pod('p4', warm)];
  const r2 = ok(cpuUtil(list2, 5, 50, [100, 300, 500, 1000, 1000]));
  assert.equal(r2.utilization, 58);
});

test('resource utilization: after the initialization period an unready pod counts unless it never became ready', () => {
  // became unready long after start (it was ready before): its sample is used
  const wasReady = pod('p1', { ready: 'False', startTime: T0 - 20 * MIN, readySince: T0 - 2 * MIN });
  const r = ok(cpuUtil([pod('p0'), wasReady], 2, 50, [500, 1500]));
  assert.equal(r.info.unreadyPods, 0);
  assert.equal(r.utilization, 100);
  assert.equal(r.replicas, 4);
  // turned False within the initial readiness delay of its start: never ready → ignored, 0% on scale-up
  const neverReady = pod('p1', { ready: 'False', startTime: T0 - 20 * MIN, readySince: T0 - 20 * MIN + 10 * S });
  const r2 = ok(cpuUtil([pod('p0'), neverReady], 2, 50, [500, 1500]));
  assert.equal(r2.info.unreadyPods, 1);
  assert.equal(r2.utilization, 50);
  assert.equal(r2.replicas, 2);
});

test('resource utilization: a pod without Ready condition or start time is unready for cpu', () => {
  const r = ok(cpuUtil([pod('p0'), pod('p1', { ready: null }), pod('p2', { startTime: null })], 3, 50, [1000, 1000, 1000]));
  assert.equal(r.info.unreadyPods, 2);
  assert.equal(r.utilization, 100);
  assert.equal(r.replicas, 3); // rebalanced 1000/3000 = 33% → 0.66 flips direction → hold
  assert.equal(r.info.directionFlipPrevented, true);
});

test('resource utilization: failed and deleted pods are ignored', () => {
  const list = [...pods(5), pod('p5', { phase: 'Failed', ready: 'False' }), pod('p6', { deleted: true })];
  const r = ok(cpuUtil(list, 5, 50, [100, 300, 500, 250, 250, 900, 900]));
  assert.equal(r.utilization, 28);
  assert.equal(r.replicas, 3);
  assert.equal(r.info.ignoredPods, 2);
});

test('resource utilization: missing pods count as 100% of request on a scale-down', () => {
  const r = ok(cpuUtil(pods(4), 4, 50, [100, 100, 100, undefined]));
  assert.equal(r.utilization, 10);
  assert.equal(r.replicas, 3); // (300 + 1000) / 4000 = 32% → 0.64 × 4 = 2.56
  assert.equal(r.info.missingPods, 1);
});

test('resource utilization: missing pods count as 0% on a scale-up', () => {
  // 70% vs 50%: 1.4. The missing pod at 0%: 2100/4000 = 52% → 1.04, within tolerance → 4.
  // Left out it would be ceil(1.4 × 3) = 5; at 100% of request 77% → ceil(1.54 × 4) = 7.
  const r = ok(cpuUtil(pods(4), 4, 50, [700, 700, 700, undefined]));
  assert.equal(r.info.rebalancedUsageRatio, 52 / 50);
  assert.equal(r.replicas, 4);
});

test('resource utilization: a rebalance that would flip the direction keeps the current count', () => {
  // 40% vs 50% says down; counting the missing pod at 100% says 70%: up → hold
  const r = ok(cpuUtil(pods(2), 2, 50, [400, undefined]));
  assert.equal(r.replicas, 2);
  assert.equal(r.info.directionFlipPrevented, true);
});

test('resource utilization: a rebalance landing within tolerance keeps the current count', () => {
  const list = [pod('p0'), pod('p1'), pod('p2', { phase: 'Pending', ready: 'False' })];
  const r = ok(cpuUtil(list, 3, 50, [800, 800]));
  assert.equal(r.utilization, 80);
  assert.equal(r.replicas, 3); // 1600/3000 = 53% → 1.06
  assert.equal(r.info.withinTolerance, true);
});

test('per-direction tolerances (behavior.scaleUp/scaleDown.tolerance)', () => {
  assert.equal(ok(cpuUtil(pods(10), 10, 50, Array(10).fill(540))).replicas, 10);
  assert.equal(ok(cpuUtil(pods(10), 10, 50, Array(10).fill(540), { scaleUp: 0.05, scaleDown: 0.1 })).replicas, 11);
  assert.equal(ok(cpuUtil(pods(20), 20, 50, Array(20).fill(470))).replicas, 20);
  assert.equal(ok(cpuUtil(pods(20), 20, 50, Array(20).fill(470), { scaleUp: 0.1, scaleDown: 0.05 })).replicas, 19);
  // a zero tolerance reacts to any deviation
  assert.equal(ok(cpuUtil(pods(10), 10, 50, Array(10).fill(510), { scaleUp: 0, scaleDown: 0 })).replicas, 11);
});

test('container resource: requests of the named container only', () => {
  const list = pods(2, { containers: 2, requests: { cpu: 500 } });
  const r = ok(getResourceReplicas(env(list), 2, 50, 'cpu', 'c2', vals([400, 400])));
  assert.equal(r.utilization, 80); // 800 of 2×500
  assert.equal(r.replicas, 4);
  const e = getResourceReplicas(env(list), 2, 50, 'cpu', 'sidecar', vals([400, 400]));
  assert.deepEqual(e, { ok: false, error: 'container sidecar not found in Pod p0' });
});

test('resource errors: no pods, missing requests, no usable samples', () => {
  assert.deepEqual(cpuUtil([], 1, 50, [100]), { ok: false, error: 'no pods returned by selector while calculating replica count' });
  const noReq = [pod('p0', { requests: { memory: 1000 } })];
  assert.deepEqual(cpuUtil(noReq, 1, 50, [100]), { ok: false, error: 'missing request for cpu in container c1 of Pod p0' });
  const unready = pods(2, { ready: 'False', startTime: T0 - MIN, readySince: T0 - MIN });
  assert.deepEqual(cpuUtil(unready, 2, 50, [100, 100]), { ok: false, error: 'did not receive metrics for targeted pods (pods might be unready)' });
});

test('resource average value: plain average with cpu readiness rules', () => {
  const r = ok(getPlainMetricReplicas(env(pods(4)), 4, 500, 'cpu', vals([600, 700, 800, 900])));
  assert.equal(r.usage, 750);
  assert.equal(r.replicas, 6);
});

test('pods metric: truncated average, ceil of ratio × ready pods', () => {
  const r = ok(getPlainMetricReplicas(env(pods(3)), 3, 10000, '', vals([12000, 13000, 17002])));
  assert.equal(r.usage, 14000); // 42002 / 3 = 14000.67, truncated
  assert.equal(r.replicas, 5);
});

test('pods metric: readiness is not checked for non-cpu metrics, missing pods count as the target on a scale-down', () => {
  const list = [pod('p0', { ready: 'False' }), pod('p1'), pod('p2')];
  const r = ok(getPlainMetricReplicas(env(list), 3, 10000, '', vals([2000, 2000, undefined])));
  assert.equal(r.info.unreadyPods, 0); // Ready=False but Running with a sample: counted
  assert.equal(r.usage, 2000);
  assert.equal(r.replicas, 2); // (2000+2000+10000)/3 = 4666 → 0.4666 × 3 = 1.4 → 2
});

test('pods metric: unready (pending) pods count as 0 on a scale-up', () => {
  const list = [pod('p0'), pod('p1'), pod('p2', { phase: 'Pending' }), pod('p3', { phase: 'Pending' })];
  const r = ok(getPlainMetricReplicas(env(list), 4, 1000, '', vals([3000, 3000])));
  assert.equal(r.replicas, 6); // 6000/4 = 1500 → 1.5 × 4
  assert.equal(r.info.rebalancedUsageRatio, 1.5);
});

test('object value: ratio × ready pods; from zero replicas: ceil(ratio)', () => {
  const list = [pod('p0'), pod('p1'), pod('p2'), pod('p3', { phase: 'Pending', ready: 'False' })];
  assert.equal(ok(getObjectMetricReplicas(env(list), 4, 2000, 5000)).replicas, 8); // 2.5 × 3 ready
  assert.equal(ok(getObjectMetricReplicas(env(list), 4, 5000, 5200)).replicas, 4); // 1.04 within tolerance
  assert.equal(ok(getObjectMetricReplicas(env([]), 0, 2000, 5000)).replicas, 3); // scale from zero
  assert.equal(ok(getObjectMetricReplicas(env([]), 0, 2000, 0)).replicas, 0); // to zero
});

test('object average value: total / target, usage reported per status replica', () => {
  const r = ok(getObjectPerPodMetricReplicas(env([]), 4, 3000, 20000));
  assert.equal(r.replicas, 7);
  assert.equal(r.usage, 5000);
  assert.equal(ok(getObjectPerPodMetricReplicas(env([]), 4, 5000, 21000)).replicas, 4); // 1.05: tolerance
});

test('external value: sum of all series', () => {
  const r = ok(getExternalMetricReplicas(env(pods(2)), 2, 2000, [3000, 4000]));
  assert.equal(r.usage, 7000);
  assert.equal(r.replicas, 7);
});

test('external average value: ceil(total / target per pod), tolerance against status replicas', () => {
  const r = ok(getExternalPerPodMetricReplicas(env([]), 5, 1000, [9500]));
  assert.equal(r.replicas, 10);
  assert.equal(r.usage, 1900);
  assert.equal(ok(getExternalPerPodMetricReplicas(env([]), 10, 1000, [10400])).replicas, 10);
});

// ---- situations whose numbers tell the rules apart (each fails if the rule it names changes)

test('missing pods at a usage ratio of exactly 1.0 count neither as 100% nor as 0%', () => {
  const r = ok(cpuUtil(pods(3), 3, 50, [500, 500, undefined]));
  assert.equal(r.info.usageRatio, 1);
  assert.equal(r.info.rebalancedUsageRatio, 1); // left out: still exactly at target
  assert.equal(r.replicas, 3); // as 100% (scale-down rule): 2000/3000 = 66% → 4; as 0%: 33% → 2
});

test('missing pods count as 0% on a scale-up above 2× (not left out)', () => {
  // 2 pods at 40.9% of request, target 10%: ratio 4; the missing third counted as 0: 27% → 2.7 × 3 → 9
  const r = ok(cpuUtil(pods(3), 3, 10, [409, 409, undefined]));
  assert.equal(r.info.usageRatio, 4);
  assert.equal(r.replicas, 9); // leaving it out would give ceil(4 × 2) = 8
});

test('pods metric: a scale-down drops the samples of pending pods (they do not count as 0)', () => {
  const list = [pod('p0'), pod('p1'), pod('p2', { phase: 'Pending' })];
  const r = ok(getPlainMetricReplicas(env(list), 3, 1000, '', [sample('p0', 973), sample('p1', 973), sample('p2', 0)]));
  assert.equal(r.info.unreadyPods, 1);
  assert.equal(r.replicas, 3); // 0.973: within tolerance; with the pending pod at 0: 0.649 × 3 → 2
});

test('pods metric: the direction-flip guard holds when the rebalanced count moves the wrong way', () => {
  // 2 of 3 pods report 0.8× target; the missing pod at the target: (800+800+1000)/3 = 866 → 0.866 × 3 = 2.6 → 3
  const r = ok(getPlainMetricReplicas(env(pods(3)), 2, 1000, '', vals([800, 800, undefined])));
  assert.equal(r.replicas, 2); // 3 > current 2 on a ratio below 1: refused, stays at 2
  assert.equal(r.info.directionFlipPrevented, true);
});

test('object and external Value targets: within tolerance keeps the count, all pods ready', () => {
  // 1.04 × 4 ready pods would be 5 without the tolerance check
  assert.equal(ok(getObjectMetricReplicas(env(pods(4)), 4, 5000, 5200)).replicas, 4);
  assert.equal(ok(getExternalMetricReplicas(env(pods(4)), 4, 5000, [2600, 2600])).replicas, 4);
  assert.equal(ok(getObjectMetricReplicas(env(pods(4)), 4, 5000, 5600)).replicas, 5); // 1.12: outside
});

test('object Value target: only Running and Ready pods multiply the ratio', () => {
  const list = [pod('p0'), pod('p1'), pod('p2', { ready: 'False' }), pod('p3', { phase: 'Pending', ready: 'True' }), pod('p4', { ready: 'Unknown' })];
  assert.equal(ok(getObjectMetricReplicas(env(list), 5, 2000, 5000)).replicas, 5); // 2.5 × 2 ready
  assert.equal(ok(getExternalMetricReplicas(env(list), 5, 2000, [5000])).replicas, 5);
});

test('external totals: int64 overflow is capped (Value) or turns into int64 max (AverageValue), as upstream', () => {
  const big = 2 ** 62;
  const capped = ok(getExternalMetricReplicas(env(pods(1)), 0, 1000, [big, big, 5]));
  assert.equal(capped.usage, 9223372036854775807);
  const wrapped = ok(getExternalPerPodMetricReplicas(env([]), 2, 1000, [big, big]));
  assert.equal(wrapped.usage, 9223372036854775807); // at int64 max upstream reports the total, undivided
  // upstream's AverageValue sum also answers int64 max for a negative running sum
  assert.equal(ok(getExternalPerPodMetricReplicas(env([]), 2, 1000, [-5000])).replicas, 2147483647);
});

test('resource utilization beyond int32 wraps around as upstream\'s int32(...) conversion does (no error)', () => {
  // 1m requested, 42949673m used: 4294967300% → int32 → 4%
  const list = [pod('p0', { requests: { cpu: 1 } }), pod('p1', { requests: { cpu: 1 } })];
  const r = ok(getResourceReplicas(env(list), 2, 50, 'cpu', undefined, vals([42949673, 42949673])));
  assert.equal(r.utilization, 4);
  assert.equal(r.replicas, 1); // 4% of a 50% target: ceil(0.08 × 2)
  // totals beyond 2^53 take the int64 path: (total × 100) wraps in int64 before the division
  const big = [pod('p0', { requests: { cpu: 2 ** 40 } }), pod('p1', { requests: { cpu: 2 ** 40 } })];
  const b = ok(getResourceReplicas(env(big), 2, 50, 'cpu', undefined, vals([2 ** 56, 2 ** 56])));
  // 2^57 × 100 mod 2^64 (signed) / 2^41
  assert.equal(b.utilization, Number(BigInt.asIntN(32, BigInt.asIntN(64, 2n ** 57n * 100n) / 2n ** 41n)));
});
