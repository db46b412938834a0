// The controller's reconcile as a pure decision: branches, invalid metrics, conditions, events,
// record shape, replay. Situations after upstream's horizontal_test.go (own numbers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideHpa, defaultHpaControllerConfig, emptyHpaState, formatHpaTargets } from '../../../src/deciders/hpa/decide.ts';
import type { HpaState } from '../../../src/deciders/hpa/types.ts';
import {
  MIN,
  S,
  T0,
  behavior,
  cpu,
  externalAvg,
  externalValue,
  objectAvg,
  objectValue,
  observation,
  pods,
  podsMetric,
  policy,
  samples,
} from './helpers.ts';

const cond = (r: { conditions: { type: string; status: string; reason: string }[] }, type: string) => {
  const c = r.conditions.find((x) => x.type === type);
  return c ? `${c.status}/${c.reason}` : undefined;
};

test('spec replicas 0 disables scaling', () => {
  const { record } = decideHpa(policy([cpu(50)]), observation(0, [], [samples([])]), emptyHpaState());
  assert.equal(record.rescale, false);
  assert.equal(record.desiredReplicas, 0);
  assert.deepEqual(record.limitedBy, ['disabled']);
  assert.equal(cond(record, 'ScalingActive'), 'False/ScalingDisabled');
  assert.equal(record.conditions.find((c) => c.type === 'ScalingActive')!.message, 'scaling is disabled since the replica count of the target is zero');
  assert.deepEqual(record.events, []);
});

test('current above maxReplicas goes straight to max without reading metrics', () => {
  const { record, state } = decideHpa(policy([cpu(50)], { maxReplicas: 10 }), observation(14, pods(14), [{ kind: 'error', message: 'down' }]), emptyHpaState());
  assert.equal(record.desiredReplicas, 10);
  assert.equal(record.rescale, true);
  assert.deepEqual(record.events, [{ type: 'Normal', reason: 'SuccessfulRescale', message: 'New size: 10; reason: Current number of replicas above Spec.MaxReplicas' }]);
  assert.equal(record.proposals[0].current, '<unknown>');
  assert.equal(cond(record, 'AbleToScale'), 'True/SucceededRescale');
  assert.equal(cond(record, 'ScalingActive'), undefined);
  assert.equal(state.lastScaleTime, T0);
});

test('current below minReplicas goes straight to min', () => {
  const { record } = decideHpa(policy([cpu(50)], { minReplicas: 3 }), observation(1, pods(1), [samples([10])]), emptyHpaState());
  assert.equal(record.desiredReplicas, 3);
  assert.equal(record.events[0].message, 'New size: 3; reason: Current number of replicas below Spec.MinReplicas');
  assert.deepEqual(record.limitedBy, ['min']);
});

test('several metrics: the highest proposal wins and drives the result', () => {
  const p = policy([cpu(50), podsMetric('queue', 4000)], { behavior: behavior() });
  const obs = observation(2, pods(2), [samples([600, 600]), samples([10000, 14000])]);
  const { record } = decideHpa(p, obs, emptyHpaState());
  assert.deepEqual(record.proposals.map((x) => x.proposedReplicas), [3, 6]);
  assert.equal(record.drivingMetric, 1);
  assert.equal(record.desiredReplicas, 6);
  assert.equal(record.events[0].message, 'New size: 6; reason: pods metric queue above target');
  assert.equal(formatHpaTargets(record), '60%/50%, 12/4');
});

test('invalid metric: a scale-up from the other metrics still happens', () => {
  const p = policy([cpu(50), podsMetric('queue', 4000)], { behavior: behavior() });
  const obs = observation(2, pods(2), [samples([1500, 1500]), { kind: 'error', message: 'adapter unavailable' }]);
  const { record } = decideHpa(p, obs, emptyHpaState());
  assert.equal(record.desiredReplicas, 6);
  assert.equal(cond(record, 'ScalingActive'), 'True/ValidMetricFound');
  assert.deepEqual(record.events[0], { type: 'Warning', reason: 'FailedGetPodsMetric', message: 'unable to get metric queue: adapter unavailable' });
  assert.equal(record.events[1].reason, 'SuccessfulRescale');
  assert.equal(record.details.invalidMetrics, 1);
  assert.equal(formatHpaTargets(record), '150%/50%, <unknown>/4');
});

test('invalid metric: a scale-down is refused, ScalingActive=False from the first failure', () => {
  const p = policy([cpu(50), podsMetric('queue', 4000)], { behavior: behavior() });
  const obs = observation(4, pods(4), [samples([100, 100, 100, 100]), { kind: 'error', message: 'adapter unavailable' }]);
  const { record, state } = decideHpa(p, obs, emptyHpaState());
  assert.equal(record.rescale, false);
  assert.equal(record.desiredReplicas, 4);
  assert.deepEqual(record.limitedBy, ['invalid-metrics']);
  const sa = record.conditions.find((c) => c.type === 'ScalingActive')!;
  assert.equal(sa.status, 'False');
  assert.equal(sa.reason, 'FailedGetPodsMetric');
  assert.equal(sa.message, 'the HPA was unable to compute the replica count: unable to get metric queue: adapter unavailable');
  assert.deepEqual(record.events[1], {
    type: 'Warning',
    reason: 'FailedComputeMetricsReplicas',
    message: 'invalid metrics (1 invalid out of 2), first error is: failed to get pods metric value: unable to get metric queue: adapter unavailable',
  });
  // no recommendation recorded beyond the first-sync seed (taken just before the metric fetch)
  assert.deepEqual(state.recommendations, [{ timestamp: T0, recommendation: 4, beforeFetch: true }]);
});

test('invalid metric: a proposal equal to the current count proceeds', () => {
  const p = policy([cpu(50), podsMetric('queue', 4000)], { behavior: behavior() });
  const obs = observation(4, pods(4), [samples([500, 500, 500, 500]), { kind: 'error', message: 'x' }]);
  const { record } = decideHpa(p, obs, emptyHpaState());
  assert.equal(cond(record, 'ScalingActive'), 'True/ValidMetricFound');
  assert.deepEqual(record.limitedBy, ['tolerance']);
});

test('all metrics invalid: resource metric failure wording', () => {
  const { record } = decideHpa(policy([cpu(50)]), observation(3, pods(3), [{ kind: 'error', message: 'metrics-server down' }]), emptyHpaState());
  assert.equal(record.rescale, false);
  assert.equal(cond(record, 'ScalingActive'), 'False/FailedGetResourceMetric');
  assert.deepEqual(record.events, [
    { type: 'Warning', reason: 'FailedGetResourceMetric', message: 'failed to get cpu utilization: unable to get metrics for resource cpu: metrics-server down' },
    {
      type: 'Warning',
      reason: 'FailedComputeMetricsReplicas',
      message: 'invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: metrics-server down',
    },
  ]);
  assert.equal(formatHpaTargets(record), '<unknown>/50%');
});

test('empty scale selector: InvalidSelector', () => {
  const obs = observation(3, pods(3), [samples([900, 900, 900])]);
  obs.target.selector = '';
  const { record } = decideHpa(policy([cpu(50)]), obs, emptyHpaState());
  assert.equal(record.rescale, false);
  assert.equal(cond(record, 'ScalingActive'), 'False/InvalidSelector');
  assert.deepEqual(record.events.map((e) => e.reason), ['SelectorRequired', 'FailedComputeMetricsReplicas']);
});

test('object and external metrics: values, targets and proposals', () => {
  const p = policy([objectValue('rps', 2000), objectAvg('rps_avg', 3000), externalValue('lag', 2000), externalAvg('queue', 1000)], { behavior: behavior() });
  const obs = observation(4, pods(4), [
    { kind: 'object', value: 5000, timestamp: T0 },
    { kind: 'object', value: 20000, timestamp: T0 },
    { kind: 'external', values: [3000, 4000], timestamp: T0 },
    { kind: 'external', values: [9500], timestamp: T0 },
  ]);
  const { record } = decideHpa(p, obs, emptyHpaState());
  assert.deepEqual(record.proposals.map((x) => x.proposedReplicas), [10, 7, 14, 10]);
  assert.deepEqual(record.proposals.map((x) => `${x.current}/${x.target}`), ['5/2', '5/3 (avg)', '7/2', '2375m/1 (avg)']);
  assert.equal(record.desiredReplicas, 14);
  assert.equal(record.proposals[2].metric, 'external metric lag(nil)');
  assert.equal(formatHpaTargets(record), '5/2, 5/3 (avg) + 2 more...');
});

test('external metric failure wording', () => {
  const p = policy([externalAvg('queue', 1000)], { behavior: behavior() });
  const { record } = decideHpa(p, observation(2, pods(2), [{ kind: 'external', values: [], timestamp: T0 }]), emptyHpaState());
  assert.equal(record.events[0].reason, 'FailedGetExternalMetric');
  assert.equal(record.events[0].message, 'unable to get external metric default/queue/nil: no metrics returned from external metrics API');
  assert.match(record.events[1].message, /first error is: failed to get queue external metric value: failed to get queue external metric: unable/);
});

test('conditions keep lastTransitionTime while their status is unchanged', () => {
  const p = policy([cpu(50)], { behavior: behavior() });
  const first = decideHpa(p, observation(2, pods(2), [samples([500, 500])]), emptyHpaState());
  assert.equal(first.record.conditions.length, 3);
  const t1 = new Date(T0).toISOString();
  assert.ok(first.record.conditions.every((c) => c.lastTransitionTime === t1));
  const second = decideHpa(p, observation(2, pods(2), [samples([500, 500])], { now: T0 + 15 * S }), first.state);
  assert.ok(second.record.conditions.every((c) => c.lastTransitionTime === t1));
  // the metric fails: ScalingActive flips to False and gets a new transition time, others stay
  const third = decideHpa(p, observation(2, pods(2), [{ kind: 'error', message: 'x' }], { now: T0 + 30 * S }), second.state);
  const t3 = new Date(T0 + 30 * S).toISOString();
  assert.equal(third.record.conditions.find((c) => c.type === 'ScalingActive')!.lastTransitionTime, t3);
  assert.equal(third.record.conditions.find((c) => c.type === 'AbleToScale')!.lastTransitionTime, t1);
  assert.deepEqual(third.record.conditions.map((c) => c.type), ['AbleToScale', 'ScalingActive', 'ScalingLimited']);
});

test('explanation names the metric and the limiting rule', () => {
  const p = policy([cpu(50)], {
    behavior: behavior({ scaleUp: { policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }] } }),
  });
  const { record } = decideHpa(p, observation(2, pods(2), [samples([1600, 1600])]), emptyHpaState());
  assert.equal(record.details.metricDesiredReplicas, 7);
  assert.equal(record.desiredReplicas, 6);
  assert.equal(record.explanation, 'scaled 2→6: cpu at 160% of 50% target; limited by scaleUp policy Pods 4/15s');
  assert.deepEqual(record.limitedBy, ['policy']);
  const held = decideHpa(p, observation(2, pods(2), [samples([520, 520])]), emptyHpaState()).record;
  assert.equal(held.explanation, 'kept 2 replicas: cpu at 52% of 50% target is within tolerance (-10%/+10%)');
  assert.deepEqual(held.limitedBy, ['tolerance']);
});

test('replay: decideHpa(record.inputs) reproduces the record, inputs are not modified', () => {
  const p = policy([cpu(50), podsMetric('queue', 4000)], { behavior: behavior({ scaleDown: { stabilizationWindowSeconds: 60 } }) });
  let state: HpaState = emptyHpaState();
  for (let k = 0; k < 6; k++) {
    const obs = observation(3, pods(3), [samples([200 + k * 300, 400, 500]), samples([1000 * k, 2000, 3000])], { now: T0 + k * 15 * S });
    const frozen = JSON.stringify({ p, obs, state });
    const { record, state: next } = decideHpa(p, obs, state);
    assert.equal(JSON.stringify({ p, obs, state }), frozen);
    const again = decideHpa(record.inputs.policy, record.inputs.observation, record.inputs.state, record.inputs.config);
    assert.deepEqual(again.record, record);
    assert.deepEqual(again.state, next);
    // and through JSON, as a recorded record would be
    const rec2 = JSON.parse(JSON.stringify(record));
    const again2 = decideHpa(rec2.inputs.policy, rec2.inputs.observation, rec2.inputs.state, rec2.inputs.config);
    assert.deepEqual(JSON.parse(JSON.stringify(again2.record)), rec2);
    state = next;
  }
});

test('config: partial overrides merge over the defaults', () => {
  const { record } = decideHpa(policy([cpu(50)]), observation(10, pods(10), [samples(Array(10).fill(540))]), emptyHpaState(), { tolerance: 0.05 });
  assert.deepEqual(record.inputs.config, { ...defaultHpaControllerConfig, tolerance: 0.05 });
  assert.equal(record.details.metricDesiredReplicas, 11);
  assert.equal(record.desiredReplicas, 11);
});

test('scale to zero (minReplicas 0) with an object metric', () => {
  const b = behavior({ scaleUp: { policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] } });
  const p = policy([objectValue('queue', 1000)], { minReplicas: 0, behavior: b });
  const down = decideHpa(p, observation(2, pods(2), [{ kind: 'object', value: 0, timestamp: T0 }]), emptyHpaState());
  assert.equal(down.record.desiredReplicas, 0);
  const z = down.record.conditions.find((c) => c.type === 'ScaledToZero')!;
  assert.deepEqual([z.status, z.reason, z.message], ['True', 'ScaledToZero', 'the HPA controller scaled the workload to zero']);
  // the next sync starts from zero and remembers that the HPA put it there
  const later = { now: T0 + 15 * S };
  const up = decideHpa(p, observation(0, [], [{ kind: 'object', value: 2500, timestamp: T0 }], later), down.state).record;
  assert.equal(up.desiredReplicas, 3);
  assert.equal(up.conditions.find((c) => c.type === 'ScaledToZero')!.reason, 'NotScaledToZero');
  // a target at zero that the HPA did not scale to zero (no ScaledToZero=True) stays disabled
  const manual = decideHpa(p, observation(0, [], [{ kind: 'object', value: 2500, timestamp: T0 }]), emptyHpaState()).record;
  assert.equal(manual.desiredReplicas, 0);
  assert.deepEqual(manual.limitedBy, ['disabled']);
  assert.equal(manual.conditions.find((c) => c.type === 'ScalingActive')!.reason, 'ScalingDisabled');
  // with only Percent policies a scale-up from zero is stuck at zero (0 × anything), as upstream
  const percentOnly = policy([objectValue('queue', 1000)], { minReplicas: 0, behavior: behavior() });
  const stuck = decideHpa(percentOnly, observation(0, [], [{ kind: 'object', value: 2500, timestamp: T0 }], later), down.state).record;
  assert.equal(stuck.desiredReplicas, 0);
  assert.equal(stuck.conditions.find((c) => c.type === 'ScalingLimited')!.reason, 'ScaleUpLimit');
  void MIN;
});

test('scale to zero: minReplicas raised while at zero scales back to minReplicas; gate off disables and drops the condition', () => {
  const p0 = policy([objectValue('queue', 1000)], { minReplicas: 0 });
  const down = decideHpa(p0, observation(2, pods(2), [{ kind: 'object', value: 0, timestamp: T0 }]), emptyHpaState(), { downscaleStabilizationSeconds: 0 });
  assert.equal(down.record.desiredReplicas, 0);
  const p2 = policy([objectValue('queue', 1000)], { minReplicas: 2, behavior: behavior() });
  const back = decideHpa(p2, observation(0, [], [{ kind: 'object', value: 0, timestamp: T0 }], { now: T0 + 15 * S }), down.state).record;
  assert.equal(back.desiredReplicas, 2);
  assert.equal(back.events[0].message, 'New size: 2; reason: Current number of replicas below Spec.MinReplicas');
  assert.ok(back.limitedBy.includes('min'));
  // without behavior the legacy clamp already gives 2, and upstream's event then has an empty reason
  const legacy = decideHpa(policy([objectValue('queue', 1000)], { minReplicas: 2 }), observation(0, [], [{ kind: 'object', value: 0, timestamp: T0 }], { now: T0 + 15 * S }), down.state).record;
  assert.equal(legacy.desiredReplicas, 2);
  assert.equal(legacy.events[0].message, 'New size: 2; reason: ');
  const off = decideHpa(p0, observation(0, [], [{ kind: 'object', value: 2500, timestamp: T0 }], { now: T0 + 15 * S }), down.state, { featureGates: { HPAScaleToZero: false } }).record;
  assert.equal(off.desiredReplicas, 0);
  assert.equal(off.conditions.find((c) => c.type === 'ScalingActive')!.reason, 'ScalingDisabled');
  assert.equal(off.conditions.find((c) => c.type === 'ScaledToZero'), undefined);
  // and a rescale with the gate off never writes the condition
  const offDown = decideHpa(p0, observation(2, pods(2), [{ kind: 'object', value: 0, timestamp: T0 }]), emptyHpaState(), { downscaleStabilizationSeconds: 0, featureGates: { HPAScaleToZero: false } }).record;
  assert.equal(offDown.desiredReplicas, 0);
  assert.equal(offDown.conditions.find((c) => c.type === 'ScaledToZero'), undefined);
});

test('HPAConfigurableTolerance off: behavior tolerances are ignored (v1.33/v1.34 default)', () => {
  const b = behavior({ scaleUp: { tolerance: 0.5 } });
  const p = policy([cpu(50)], { behavior: b });
  const obs = observation(4, pods(4), [samples([650, 650, 650, 650])]); // 130% of target
  const on = decideHpa(p, obs, emptyHpaState()).record;
  assert.equal(on.desiredReplicas, 4);
  assert.deepEqual(on.details.tolerances, { scaleUp: 0.5, scaleDown: 0.1 });
  const off = decideHpa(p, obs, emptyHpaState(), { featureGates: { HPAConfigurableTolerance: false } }).record;
  assert.equal(off.desiredReplicas, 6);
  assert.deepEqual(off.details.tolerances, { scaleUp: 0.1, scaleDown: 0.1 });
});

test('behavior without a scaleDown window uses the controller\'s --downscale-stabilization (upstream 4→2)', () => {
  const b = behavior();
  delete (b.scaleDown as { stabilizationWindowSeconds?: number }).stabilizationWindowSeconds;
  const p = policy([podsMetric('rps', 1000)], { behavior: b });
  const st = { ...emptyHpaState(), recommendations: [{ timestamp: T0 - 100 * S, recommendation: 4 }] };
  const obs = observation(4, pods(4), [samples([500, 500, 500, 500])]);
  assert.equal(decideHpa(p, obs, st, { downscaleStabilizationSeconds: 60 }).record.desiredReplicas, 2);
  const held = decideHpa(p, obs, st).record; // 300 s: the 4 from 100 s ago still counts
  assert.equal(held.desiredReplicas, 4);
  assert.match(held.explanation, /scaleDown stabilization window 300s/);
});

test('container resource metric: naming and failure reason', () => {
  const spec = { type: 'ContainerResource' as const, containerResource: { name: 'cpu', container: 'c1', target: { type: 'Utilization' as const, averageUtilization: 50 } } };
  const ok = decideHpa(policy([spec], { behavior: behavior() }), observation(2, pods(2), [samples([1000, 1000])]), emptyHpaState()).record;
  assert.equal(ok.proposals[0].metric, 'cpu container resource utilization (percentage of request)');
  assert.equal(ok.desiredReplicas, 4);
  assert.equal(ok.explanation, 'scaled 2→4: cpu of container c1 at 100% of 50% target');
  const bad = decideHpa(policy([spec]), observation(2, pods(2), [{ kind: 'error', message: 'gone' }]), emptyHpaState()).record;
  assert.equal(bad.conditions.find((c) => c.type === 'ScalingActive')!.reason, 'FailedGetContainerResourceMetric');
  assert.match(bad.events[1].message, /first error is: failed to get c1 container metric value: failed to get cpu utilization: unable to get metrics for resource cpu: gone$/);
});

test('object metric failure keeps upstream message layout', () => {
  const { record } = decideHpa(policy([objectValue('rps', 2000)]), observation(2, pods(2), [{ kind: 'error', message: 'not found' }]), emptyHpaState());
  assert.deepEqual(record.events[0], { type: 'Warning', reason: 'FailedGetObjectMetric', message: 'unable to get metric rps on Service default/frontend: not found' });
});

test('a run over time: default behavior scales up at once and down only after 300 s of lower recommendations', () => {
  const b = { scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max' as const, policies: [{ type: 'Pods' as const, value: 4, periodSeconds: 15 }, { type: 'Percent' as const, value: 100, periodSeconds: 15 }] }, scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max' as const, policies: [{ type: 'Percent' as const, value: 100, periodSeconds: 15 }] } };
  const p = policy([cpu(50)], { maxReplicas: 20, behavior: b });
  let state: HpaState = emptyHpaState();
  let replicas = 2;
  const trace: number[] = [];
  for (let k = 0; k <= 40; k++) {
    const util = k < 10 ? 150 : 20; // high for 150 s, then low
    const obs = observation(replicas, pods(replicas), [samples(Array(replicas).fill(util * 10))], { now: T0 + k * 15 * S });
    const r = decideHpa(p, obs, state);
    state = r.state;
    replicas = r.record.desiredReplicas;
    trace.push(replicas);
  }
  assert.deepEqual(trace.slice(0, 4), [6, 12, 20, 20]); // 2→6 (+4 pods beats ×2), 6→12 (×2), then capped at max
  const lowStart = 10; // first low sample at k = 10 (t = 150 s); the last high recommendation was at k = 9
  const firstDown = trace.findIndex((r, i) => i >= lowStart && r < 20);
  assert.equal(firstDown, 9 + 20); // the last high recommendation leaves the window when it is exactly 300 s old
  assert.equal(trace[firstDown], 8);
});

test('a state read from JSON without history lists works like an empty state', () => {
  const p = policy([cpu(50)]);
  const obs = observation(2, pods(2), [samples([1000, 1000])]);
  const a = decideHpa(p, obs, {} as HpaState);
  const b = decideHpa(p, obs, emptyHpaState());
  assert.deepEqual(a.state, b.state);
  assert.equal(a.record.desiredReplicas, 4);
});

test('explanations for a direction flip, a clamp and invalid metrics', () => {
  const flip = decideHpa(policy([cpu(50)], { behavior: behavior() }), observation(2, pods(2), [samples([400])]), emptyHpaState()).record;
  assert.equal(flip.desiredReplicas, 2);
  assert.equal(flip.explanation, 'kept 2 replicas: cpu at 40% of 50% target, but counting pods without usable metrics conservatively would reverse the direction');
  const clamp = decideHpa(policy([cpu(50)], { maxReplicas: 3, behavior: behavior() }), observation(3, pods(3), [samples([1500, 1500, 1500])]), emptyHpaState()).record;
  assert.equal(clamp.explanation, 'kept 3 replicas: cpu at 150% of 50% target proposes 9; held by maxReplicas 3');
  assert.deepEqual(clamp.limitedBy, ['max']);
  const bad = decideHpa(policy([cpu(50)]), observation(3, pods(3), [{ kind: 'error', message: 'down' }]), emptyHpaState()).record;
  assert.match(bad.explanation, /^kept 3 replicas: no metric could be computed \(invalid metrics \(1 invalid out of 1\)/);
});
