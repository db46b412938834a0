// The HPA reconcile's edges (issue 16), after upstream v1.37 horizontal.go reconcileAutoscaler /
// computeReplicasForMetrics: controller defaults, an HPA without metrics, the ScaledToZero lookup,
// scaling from zero, the first failing metric, ties and zero proposals, AmbiguousSelector, the
// init-period and readiness-delay settings in milliseconds, the state handed to the next sync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideHpa, defaultHpaControllerConfig, emptyHpaState, resolveHpaFeatureGates } from '../../../src/deciders/hpa/decide.ts';
import type { HpaPolicy, HpaState, MetricObservation } from '../../../src/deciders/hpa/types.ts';
import { S, T0, behavior, cpu, externalValue, objectValue, observation, pod, pods, policy, samples } from './helpers.ts';

const cond = (r: { conditions: { type: string; status: string; reason: string }[] }, type: string) => {
  const c = r.conditions.find((x) => x.type === type);
  return c ? `${c.status}/${c.reason}` : undefined;
};
const condition = (type: string, status: 'True' | 'False') => ({ type, status, reason: 'r', message: 'm', lastTransitionTime: '2026-01-01T11:00:00Z' });
const stateWithConditions = (...c: ReturnType<typeof condition>[]): HpaState => ({ ...emptyHpaState(), conditions: c } as HpaState);
const ext = (v: number): MetricObservation => ({ kind: 'external', values: [v], timestamp: T0 });
const boom: MetricObservation = { kind: 'error', message: 'boom' };

test('controller defaults: --horizontal-pod-autoscaler-* flags of kube-controller-manager', () => {
  assert.deepEqual({ ...defaultHpaControllerConfig }, {
    tolerance: 0.1,
    cpuInitializationPeriodSeconds: 300,
    initialReadinessDelaySeconds: 30,
    downscaleStabilizationSeconds: 300,
    syncPeriodSeconds: 15,
  });
  assert.deepEqual(resolveHpaFeatureGates({}), { HPAScaleToZero: true, HPAConfigurableTolerance: true });
  assert.deepEqual(resolveHpaFeatureGates({ HPAScaleToZero: false }), { HPAScaleToZero: false, HPAConfigurableTolerance: true });
  assert.deepEqual(resolveHpaFeatureGates({ HPAConfigurableTolerance: false }), { HPAScaleToZero: true, HPAConfigurableTolerance: false });
});

test('an HPA without metrics scales on cpu at 80 % of request (the API default)', () => {
  const p = policy([], { behavior: behavior() });
  const at80 = decideHpa(p, observation(2, pods(2), [samples([800, 800])]), emptyHpaState()).record;
  assert.equal(at80.desiredReplicas, 2);
  assert.equal(at80.proposals[0].target, '80%');
  const at160 = decideHpa(p, observation(2, pods(2), [samples([1600, 1600])]), emptyHpaState()).record;
  assert.equal(at160.desiredReplicas, 4);
});

test('minReplicas left out means 1 (hand-written policy)', () => {
  const p = { ...policy([cpu(50)], { behavior: behavior() }), minReplicas: undefined } as unknown as HpaPolicy;
  const r = decideHpa(p, observation(2, pods(2), [samples([0, 0])]), emptyHpaState()).record;
  assert.equal(r.desiredReplicas, 1);
});

test('ScaledToZero is read from its own condition, not from the first one listed', () => {
  const p = policy([cpu(50)], { behavior: behavior() });
  const obs = observation(0, pods(2), [samples([500, 500])]);
  const notByHpa = decideHpa(p, obs, stateWithConditions(condition('AbleToScale', 'True'), condition('ScaledToZero', 'False'))).record;
  assert.equal(notByHpa.desiredReplicas, 0);
  assert.equal(notByHpa.rescale, false);
  assert.equal(cond(notByHpa, 'ScalingActive'), 'False/ScalingDisabled');
  assert.equal(cond(notByHpa, 'ScaledToZero'), 'False/r'); // kept with the gate on
  // the HPA scaled it to zero and minReplicas is 1 now: metrics are computed, and the count goes back to at least 1
  const byHpa = decideHpa(p, obs, stateWithConditions(condition('AbleToScale', 'True'), condition('ScaledToZero', 'True'))).record;
  assert.equal(byHpa.rescale, true);
  assert.ok(byHpa.desiredReplicas >= 1);
  assert.equal(cond(byHpa, 'ScalingActive'), 'True/ValidMetricFound');
});

test('from zero with a raised minReplicas: the metric reason is kept when there is one', () => {
  // behavior: no min clamp on a scale-up, so 1 from the metric is raised to minReplicas 3 afterwards
  const p = policy([externalValue('queue', 1000)], { minReplicas: 3, behavior: behavior({ scaleUp: { policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }] } }) });
  const r = decideHpa(p, observation(0, [], [ext(1000)]), stateWithConditions(condition('ScaledToZero', 'True'))).record;
  assert.equal(r.details.prenormalizedReplicas, 1);
  assert.equal(r.desiredReplicas, 3);
  assert.equal(r.details.rescaleReason, 'external metric queue(nil) above target');
  // and minReplicas 1 from zero is raised too (a 0 proposal)
  const p1 = policy([externalValue('queue', 1000)], { minReplicas: 1, behavior: behavior() });
  const r1 = decideHpa(p1, observation(0, [], [ext(0)]), stateWithConditions(condition('ScaledToZero', 'True'))).record;
  assert.equal(r1.desiredReplicas, 1);
  assert.equal(r1.details.rescaleReason, 'Current number of replicas below Spec.MinReplicas');
});

test('scaling from zero with every metric failing is an invalid-metrics decision', () => {
  const p = policy([externalValue('queue', 1000)], { minReplicas: 0, behavior: behavior() });
  const r = decideHpa(p, observation(0, [], [boom]), stateWithConditions(condition('ScaledToZero', 'True'))).record;
  assert.equal(r.desiredReplicas, 0);
  assert.equal(r.details.path, 'invalid-metrics');
  assert.equal(cond(r, 'ScalingActive'), 'False/FailedGetExternalMetric');
});

test('a failing first metric does not stop the second one from scaling up', () => {
  const p = policy([externalValue('queue', 1000), cpu(50)], { behavior: behavior(), namespace: undefined });
  const r = decideHpa(p, observation(2, pods(2), [boom, samples([1500, 1500])]), emptyHpaState()).record;
  assert.equal(r.desiredReplicas, 6);
  assert.equal(r.drivingMetric, 1);
  assert.equal(r.details.invalidMetrics, 1);
  assert.match(r.proposals[0].error ?? '', /unable to get external metric default\/queue\//); // the namespace defaults to 'default'
  assert.match(r.details.invalidMetricsError ?? '', /^invalid metrics \(1 invalid out of 2\), first error is: /);
});

test('two failing metrics: the first one gives the condition and the error', () => {
  const p = policy([externalValue('queue', 1000), objectValue('rps', 1000)], { behavior: behavior() });
  const r = decideHpa(p, observation(2, pods(2), [boom, { kind: 'error', message: 'bang' }]), emptyHpaState()).record;
  assert.equal(r.desiredReplicas, 2);
  assert.equal(cond(r, 'ScalingActive'), 'False/FailedGetExternalMetric');
  assert.match(r.details.invalidMetricsError ?? '', /^invalid metrics \(2 invalid out of 2\), first error is: .*boom/);
  assert.equal(r.drivingMetric, null);
  assert.match(r.explanation, /^kept 2 replicas: no metric could be computed \(invalid metrics \(2 invalid out of 2\)/);
  // no failure: no error recorded
  const fine = decideHpa(policy([cpu(50)]), observation(2, pods(2), [samples([500, 500])]), emptyHpaState()).record;
  assert.equal('invalidMetricsError' in fine.details, false);
  assert.equal(fine.details.invalidMetrics, 0);
});

test('a scale-down refused for an invalid metric drops the driving metric', () => {
  const p = policy([cpu(50), externalValue('queue', 1000)], { behavior: behavior() });
  const r = decideHpa(p, observation(4, pods(4), [samples([100, 100, 100, 100]), boom]), emptyHpaState()).record;
  assert.equal(r.desiredReplicas, 4);
  assert.equal(r.drivingMetric, null);
  assert.deepEqual(r.limitedBy, ['invalid-metrics']);
  assert.match(r.explanation, /^kept 4 replicas: 1 of 2 metrics failed and the others would scale down, which is refused while metrics are invalid \(/);
});

test('equal proposals: the first metric drives; a 0 proposal never replaces a positive one', () => {
  const p = policy([cpu(50), externalValue('queue', 1000)], { behavior: behavior() });
  const tie = decideHpa(p, observation(2, pods(2), [samples([1000, 1000]), ext(2000)]), emptyHpaState()).record;
  assert.equal(tie.desiredReplicas, 4);
  assert.equal(tie.drivingMetric, 0);
  assert.equal(tie.details.metricName, 'cpu resource utilization (percentage of request)');
  // upstream: `replicas == 0 || proposal > replicas`; 1 (cpu) stays against a later 0 (external)
  const p0 = policy([cpu(50), externalValue('queue', 1000)], { minReplicas: 0, behavior: behavior() });
  const zero = decideHpa(p0, observation(2, pods(2), [samples([100, 100]), ext(0)]), emptyHpaState()).record;
  assert.equal(zero.details.metricDesiredReplicas, 1);
  assert.equal(zero.desiredReplicas, 1);
  assert.equal(zero.drivingMetric, 0);
});

test('AmbiguousSelector: two HPAs selecting the same pods stop this one', () => {
  const p = policy([cpu(50)], { selectingHpas: ['default/web', 'default/other'] });
  const r = decideHpa(p, observation(2, pods(2), [samples([1500, 1500])]), emptyHpaState()).record;
  const msg = 'pods by selector app=web are controlled by more than one HPA (e.g. [default/web default/other])';
  assert.equal(r.desiredReplicas, 2);
  assert.equal(r.rescale, false);
  assert.equal(r.details.path, 'invalid-metrics');
  assert.equal(r.details.invalidMetricsError, msg);
  assert.deepEqual(r.conditions.find((c) => c.type === 'ScalingActive')!.message, msg);
  assert.deepEqual(r.events.map((e) => e.reason), ['AmbiguousSelector', 'FailedComputeMetricsReplicas']);
  assert.equal(r.proposals[0].proposedReplicas, null);
  // three: still named by the first two
  const three = decideHpa(policy([cpu(50)], { selectingHpas: ['default/web', 'default/other', 'default/third'] }), observation(2, pods(2), [samples([1500, 1500])]), emptyHpaState()).record;
  assert.equal(three.details.invalidMetricsError, msg);
  // only itself: scales
  const one = decideHpa(policy([cpu(50)], { selectingHpas: ['default/web'] }), observation(2, pods(2), [samples([1500, 1500])]), emptyHpaState()).record;
  assert.equal(one.desiredReplicas, 4);
});

test('an empty selector is InvalidSelector with "selector is required"', () => {
  const obs = { ...observation(2, pods(2), [samples([1500, 1500])]), target: { specReplicas: 2, statusReplicas: 2, selector: '' } };
  const r = decideHpa(policy([cpu(50)]), obs, emptyHpaState()).record;
  assert.equal(r.details.invalidMetricsError, 'selector is required');
  assert.deepEqual(r.events.map((e) => `${e.reason}: ${e.message}`), ['SelectorRequired: selector is required', 'FailedComputeMetricsReplicas: selector is required']);
});

test('cpuInitializationPeriodSeconds reaches the pod grouping in milliseconds (300.1 s ago is past 300 s)', () => {
  const p = policy([cpu(50)], { behavior: behavior() });
  // p1 Ready 20 s ago, sample 10 s old with a 60 s window: too early inside the period
  const at = (startAgoMs: number) => observation(2, [pod('p0'), pod('p1', { startTime: T0 - startAgoMs, readySince: T0 - 20 * S })], [samples([200, 1000])]);
  assert.equal(decideHpa(p, at(300 * S + 100), emptyHpaState()).record.desiredReplicas, 3); // counted: 60% → 1.2 × 2
  assert.equal(decideHpa(p, at(200 * S), emptyHpaState()).record.desiredReplicas, 1); // inside: left out, 20% × 1
});

test('initialReadinessDelaySeconds reaches the pod grouping in milliseconds (Ready=False 30.01 s after start was ready once)', () => {
  const p = policy([cpu(50)], { behavior: behavior() });
  const start = T0 - 20 * 60 * S;
  const at = (readyAfterStartMs: number) => observation(2, [pod('p0'), pod('p1', { ready: 'False', startTime: start, readySince: start + readyAfterStartMs })], [samples([200, 1000])]);
  assert.equal(decideHpa(p, at(30 * S + 10), emptyHpaState()).record.desiredReplicas, 3);
  assert.equal(decideHpa(p, at(10 * S), emptyHpaState()).record.desiredReplicas, 1);
});

test('legacy downscale stabilization window in milliseconds: 300.1 s old is outside 300 s', () => {
  const p = policy([cpu(50)]);
  const st = (agoMs: number): HpaState => ({ ...emptyHpaState(), recommendations: [{ timestamp: T0 - agoMs, recommendation: 8 }, { timestamp: T0 - 10 * S, recommendation: 4 }] });
  const obs = observation(4, pods(4), [samples([100, 100, 100, 100])]);
  assert.equal(decideHpa(p, obs, st(300 * S + 100)).record.desiredReplicas, 4); // the 4 of 10 s ago holds
  assert.equal(decideHpa(p, obs, st(299 * S)).record.details.stabilizedReplicas, 8);
});

test('a behavior scale-up is remembered for the next sync\'s rate limit', () => {
  const b = behavior({ scaleUp: { policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] } });
  const p = policy([cpu(50)], { behavior: b });
  const first = decideHpa(p, observation(2, pods(2), [samples([5000, 5000])]), emptyHpaState());
  assert.equal(first.record.desiredReplicas, 4);
  assert.deepEqual(first.state.scaleUpEvents.map((e) => [e.timestamp - T0, e.replicaChange]), [[0, 2]]);
  // 15 s later the +2 of the first sync is still in the 60 s period: no further scale-up
  const second = decideHpa(p, observation(4, pods(4), [samples([5000, 5000, 5000, 5000])], { now: T0 + 15 * S }), first.state).record;
  assert.equal(second.desiredReplicas, 4);
  assert.equal(second.details.scaleUpLimit, 4);
});

test('ScaledToZero on a rescale: True only for a scale to zero by the HPA, from 1 replica too; NotScaledToZero otherwise', () => {
  const p = policy([externalValue('queue', 1000)], { minReplicas: 0, behavior: behavior() });
  const down = decideHpa(p, observation(1, pods(1), [ext(0)]), emptyHpaState()).record;
  assert.equal(down.desiredReplicas, 0);
  assert.equal(cond(down, 'ScaledToZero'), 'True/ScaledToZero');
  const up = decideHpa(p, observation(3, pods(3), [ext(5000)]), emptyHpaState()).record;
  assert.equal(up.desiredReplicas, 15); // 5 × 3 ready pods
  assert.equal(cond(up, 'ScaledToZero'), 'False/NotScaledToZero');
  // gate off: a condition left from before is removed on a rescale
  const off = decideHpa(p, observation(3, pods(3), [ext(5000)]), stateWithConditions(condition('ScaledToZero', 'True')), { featureGates: { HPAScaleToZero: false } }).record;
  assert.equal(off.desiredReplicas, 15);
  assert.equal(cond(off, 'ScaledToZero'), undefined);
});

test('records of the fixed paths: above-max and below-min', () => {
  const above = decideHpa(policy([cpu(50)], { maxReplicas: 3 }), observation(5, pods(5), [samples([500, 500, 500, 500, 500])]), emptyHpaState()).record;
  assert.deepEqual([above.desiredReplicas, above.details.path, above.details.invalidMetrics], [3, 'above-max', 0]);
  assert.deepEqual(above.limitedBy, ['max']);
  assert.equal(above.details.rescaleReason, 'Current number of replicas above Spec.MaxReplicas');
  assert.equal(above.explanation, 'scaled 5→3: current replicas above maxReplicas 3');
  const below = decideHpa(policy([cpu(50)], { minReplicas: 3 }), observation(1, pods(1), [samples([500])]), emptyHpaState()).record;
  assert.deepEqual([below.desiredReplicas, below.details.path], [3, 'below-min']);
  assert.deepEqual(below.limitedBy, ['min']);
  assert.equal(below.explanation, 'scaled 1→3: current replicas below minReplicas 3');
  const disabled = decideHpa(policy([cpu(50)]), observation(0, [], [samples([])]), emptyHpaState()).record;
  assert.deepEqual([disabled.desiredReplicas, disabled.details.path, disabled.rescale], [0, 'scaling-disabled', false]);
  assert.equal(disabled.explanation, 'scaling disabled: the target has 0 replicas and the HPA did not scale it to zero');
});

test('records of the metric paths: path, prenormalized count, limits, "none"', () => {
  const legacy = decideHpa(policy([cpu(50)]), observation(2, pods(2), [samples([500, 500])]), emptyHpaState()).record;
  assert.deepEqual([legacy.details.path, legacy.details.prenormalizedReplicas], ['legacy', 2]);
  assert.deepEqual(legacy.limitedBy, ['tolerance']);
  const b = behavior({ scaleDown: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } });
  const down = decideHpa(policy([cpu(50)], { behavior: b }), observation(4, pods(4), [samples([100, 100, 100, 100])]), emptyHpaState()).record;
  assert.deepEqual([down.details.path, down.details.prenormalizedReplicas, down.desiredReplicas, down.details.scaleDownLimit], ['behavior', 1, 3, 3]);
  assert.equal('scaleUpLimit' in down.details, false);
  assert.equal(down.details.limitingPolicy, 'scaleDown policy Pods 1/60s');
  const free = decideHpa(policy([cpu(50)], { behavior: behavior() }), observation(2, pods(2), [samples([1000, 1000])]), emptyHpaState()).record;
  assert.deepEqual(free.limitedBy, ['none']);
  assert.equal('limitingPolicy' in free.details, false);
  assert.equal('scaleDownLimit' in free.details, false);
});

test('the next state is fresh arrays (not the caller\'s), and has no lastScaleTime until a rescale', () => {
  const state: HpaState = { recommendations: [{ timestamp: T0 - 10 * S, recommendation: 5 }], scaleUpEvents: [{ timestamp: T0 - 5 * S, replicaChange: 1 }], scaleDownEvents: [{ timestamp: T0 - 5 * S, replicaChange: 1 }] };
  const kept = decideHpa(policy([cpu(50)], { maxReplicas: 3 }), observation(5, pods(5), [samples([500, 500, 500, 500, 500])]), state).state;
  assert.notEqual(kept.recommendations, state.recommendations);
  assert.deepEqual(kept.recommendations, state.recommendations);
  const hold = decideHpa(policy([cpu(50)], { behavior: behavior() }), observation(2, pods(2), [samples([500, 500])]), state).state;
  assert.notEqual(hold.scaleUpEvents, state.scaleUpEvents);
  assert.notEqual(hold.scaleDownEvents, state.scaleDownEvents);
  assert.deepEqual([hold.scaleUpEvents, hold.scaleDownEvents], [state.scaleUpEvents, state.scaleDownEvents]);
  assert.equal('lastScaleTime' in hold, false);
});
