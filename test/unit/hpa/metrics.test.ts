// computeReplicasForMetric per metric source (src/deciders/hpa/metrics.ts), after upstream v1.37
// computeStatusFor*Metric: which target field selects which calculation, what a missing or mistyped
// observation gives, the record of a success, and the rows of metrics that were not evaluated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeReplicasForMetric, type MetricContext, unevaluatedProposal } from '../../../src/deciders/hpa/metrics.ts';
import type { MetricObservation, MetricSpec, MetricTarget, PodInfo } from '../../../src/deciders/hpa/types.ts';
import { S, T0, pods, samples } from './helpers.ts';

const ctx = (podList: PodInfo[], specReplicas = podList.length): MetricContext => ({
  env: { now: T0, pods: podList, cpuInitializationPeriodMs: 300 * S, delayOfInitialReadinessStatusMs: 30 * S, tolerances: { scaleUp: 0.1, scaleDown: 0.1 } },
  specReplicas,
  statusReplicas: specReplicas,
  namespace: 'default',
});
const resource = (target: MetricTarget): MetricSpec => ({ type: 'Resource', resource: { name: 'cpu', target } });
const object = (target: MetricTarget): MetricSpec => ({ type: 'Object', object: { describedObject: { apiVersion: 'v1', kind: 'Service', name: 'frontend' }, metric: { name: 'rps' }, target } });
const external = (target: MetricTarget): MetricSpec => ({ type: 'External', external: { metric: { name: 'queue' }, target } });
const boom: MetricObservation = { kind: 'error', message: 'boom' };

test('Resource AverageValue: the plain per-pod average, its own names and errors', () => {
  const o = computeReplicasForMetric(ctx(pods(4)), resource({ type: 'AverageValue', averageValue: 500 }), samples([600, 700, 800, 900]));
  assert.equal(o.ok, true);
  assert.equal(o.replicas, 6);
  assert.equal(o.metricName, 'cpu resource');
  assert.deepEqual([o.proposal.current, o.proposal.target], ['750m', '500m']);
  const e = computeReplicasForMetric(ctx(pods(4)), resource({ type: 'AverageValue', averageValue: 500 }), boom);
  assert.deepEqual([e.ok, e.replicas, e.error, e.conditionReason], [false, 0, 'failed to get cpu resource metric value: failed to get cpu usage: unable to get metrics for resource cpu: boom', 'FailedGetResourceMetric']);
  const none = computeReplicasForMetric(ctx(pods(2, { phase: 'Pending' })), resource({ type: 'AverageValue', averageValue: 500 }), samples([600, 700]));
  assert.equal(none.error, 'failed to get cpu resource metric value: failed to get cpu usage: did not receive metrics for targeted pods (pods might be unready)');
});

test('Resource without a utilization or value target is an invalid source', () => {
  const o = computeReplicasForMetric(ctx(pods(2)), resource({ type: 'Utilization' }), samples([500, 500]));
  assert.equal(o.ok, false);
  assert.equal(o.error, 'failed to get cpu resource metric value: invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
  assert.equal(o.proposal.target, '<auto>');
});

test('per-pod observations: missing, of another kind, or empty', () => {
  const util = resource({ type: 'Utilization', averageUtilization: 50 });
  const err = (obs: MetricObservation | undefined) => computeReplicasForMetric(ctx(pods(2)), util, obs).error;
  assert.equal(err(undefined), 'failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: no metric observation supplied');
  assert.equal(err({ kind: 'object', value: 5, timestamp: T0 }), 'failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: expected per-pod samples, got a object observation');
  assert.equal(err({ kind: 'pods', samples: [] }), 'failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API');
});

test('Pods metric without an average value target is an invalid source', () => {
  const spec: MetricSpec = { type: 'Pods', pods: { metric: { name: 'q' }, target: { type: 'AverageValue' } } };
  const o = computeReplicasForMetric(ctx(pods(2)), spec, samples([500, 500]));
  assert.equal(o.error, 'failed to get pods metric value: invalid pods metric source: an average value target is required');
  assert.equal(o.proposal.target, '<unknown>');
});

test('Object: the target type selects Value or AverageValue; a type without its field is invalid', () => {
  const invalid = 'failed to get object metric value: invalid object metric source: neither a value target nor an average value target was set';
  assert.equal(computeReplicasForMetric(ctx(pods(2)), object({ type: 'Value' }), { kind: 'object', value: 5000, timestamp: T0 }).error, invalid);
  assert.equal(computeReplicasForMetric(ctx(pods(2)), object({ type: 'AverageValue', value: 1000 }), { kind: 'object', value: 5000, timestamp: T0 }).error, invalid);
  assert.equal(computeReplicasForMetric(ctx(pods(2)), object({ type: 'Value', averageValue: 1000 }), { kind: 'object', value: 5000, timestamp: T0 }).error, invalid);
  const v = computeReplicasForMetric(ctx(pods(2)), object({ type: 'Value', value: 1000, averageValue: 100 }), { kind: 'object', value: 5000, timestamp: T0 });
  assert.equal(v.replicas, 10); // Value: 5 × 2 ready pods (AverageValue would be 50)
  const a = computeReplicasForMetric(ctx(pods(2)), object({ type: 'AverageValue', averageValue: 1000, value: 100 }), { kind: 'object', value: 5000, timestamp: T0 });
  assert.equal(a.replicas, 5);
  assert.equal(a.metricName, 'external metric rps(nil)');
  const fail = (obs: MetricObservation | undefined, target: MetricTarget) => computeReplicasForMetric(ctx(pods(2)), object(target), obs).error;
  assert.equal(fail(undefined, { type: 'Value', value: 1000 }), 'failed to get object metric value: unable to get metric rps on Service default/frontend: no metric observation supplied');
  assert.equal(fail({ kind: 'external', values: [1], timestamp: T0 }, { type: 'Value', value: 1000 }), 'failed to get object metric value: unable to get metric rps on Service default/frontend: expected an object value, got a external observation');
  assert.equal(fail(boom, { type: 'AverageValue', averageValue: 1000 }), 'failed to get object metric value: failed to get rps object metric: unable to get metric rps on Service default/frontend: boom');
});

test('External: AverageValue first, then Value; neither is invalid; missing or mistyped observations', () => {
  const obs: MetricObservation = { kind: 'external', values: [5000], timestamp: T0 };
  assert.equal(computeReplicasForMetric(ctx(pods(2)), external({ type: 'Value' }), obs).error, 'failed to get queue external metric value: invalid external metric source: neither a value target nor an average value target was set');
  assert.equal(computeReplicasForMetric(ctx(pods(2)), external({ type: 'Value', value: 1000, averageValue: 1000 }), obs).replicas, 5); // the average wins
  const fail = (o: MetricObservation | undefined) => computeReplicasForMetric(ctx(pods(2)), external({ type: 'Value', value: 1000 }), o).error;
  assert.equal(fail(undefined), 'failed to get queue external metric value: failed to get external metric queue: unable to get external metric default/queue/nil: no metric observation supplied');
  assert.equal(fail({ kind: 'object', value: 1, timestamp: T0 }), 'failed to get queue external metric value: failed to get external metric queue: unable to get external metric default/queue/nil: expected external values, got a object observation');
});

test('a success records the calculation: pod counts, tolerance, raw usage, utilization, rebalance', () => {
  const o = computeReplicasForMetric(ctx(pods(3)), resource({ type: 'Utilization', averageUtilization: 50 }), samples([1000, 1000, undefined]));
  assert.equal(o.replicas, 4);
  assert.deepEqual(o.proposal.detail, { readyPods: 2, missingPods: 1, unreadyPods: 0, ignoredPods: 0, withinTolerance: false, usageMilli: 1000, utilization: 100, rebalancedUsageRatio: 66 / 50 });
  const plain = computeReplicasForMetric(ctx(pods(2)), { type: 'Pods', pods: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: 1000 } } }, samples([3000, 3000]));
  assert.deepEqual(plain.proposal.detail, { readyPods: 2, missingPods: 0, unreadyPods: 0, ignoredPods: 0, withinTolerance: false, usageMilli: 3000 });
  const flip = computeReplicasForMetric(ctx(pods(3), 2), resource({ type: 'Utilization', averageUtilization: 60 }), samples([200, 200, undefined]));
  assert.equal(flip.proposal.detail?.directionFlipPrevented, true);
});

test('rows of metrics that were not evaluated (selector failures)', () => {
  assert.deepEqual(unevaluatedProposal(resource({ type: 'Utilization', averageUtilization: 50 })), { metric: 'cpu resource utilization (percentage of request)', current: '<unknown>', target: '50%', proposedReplicas: null });
  assert.deepEqual(unevaluatedProposal(resource({ type: 'AverageValue', averageValue: 500 })), { metric: 'cpu resource', current: '<unknown>', target: '500m', proposedReplicas: null });
  assert.deepEqual(unevaluatedProposal(resource({ type: 'Utilization' })), { metric: 'cpu resource utilization (percentage of request)', current: '<unknown>', target: '<auto>', proposedReplicas: null });
  const c = (target: MetricTarget): MetricSpec => ({ type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target } });
  assert.deepEqual(unevaluatedProposal(c({ type: 'Utilization', averageUtilization: 50 })), { metric: 'cpu container resource utilization (percentage of request)', current: '<unknown>', target: '50%', proposedReplicas: null });
  assert.deepEqual(unevaluatedProposal(c({ type: 'AverageValue', averageValue: 500 })), { metric: 'cpu resource', current: '<unknown>', target: '500m', proposedReplicas: null });
  assert.deepEqual(unevaluatedProposal({ type: 'Pods', pods: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: 2000 } } }), { metric: 'pods metric q', current: '<unknown>', target: '2', proposedReplicas: null });
  assert.deepEqual(unevaluatedProposal({ type: 'Pods', pods: { metric: { name: 'q' }, target: { type: 'AverageValue' } } }).target, '<unknown>');
  assert.deepEqual(unevaluatedProposal(object({ type: 'AverageValue', averageValue: 3000 })), { metric: 'external metric rps(nil)', current: '<unknown>', target: '3 (avg)', proposedReplicas: null });
  assert.deepEqual(unevaluatedProposal(object({ type: 'Value', value: 3000, averageValue: 5 })), { metric: 'Service metric rps', current: '<unknown>', target: '3', proposedReplicas: null });
  assert.deepEqual(unevaluatedProposal(object({ type: 'AverageValue' })).target, '<unknown>');
  assert.deepEqual(unevaluatedProposal(external({ type: 'AverageValue', averageValue: 3000 })), { metric: 'external metric queue(nil)', current: '<unknown>', target: '3 (avg)', proposedReplicas: null });
  assert.deepEqual(unevaluatedProposal(external({ type: 'Value', value: 3000 })), { metric: 'external metric queue(nil)', current: '<unknown>', target: '3', proposedReplicas: null });
  assert.deepEqual(unevaluatedProposal(external({ type: 'Value' })).target, '<unknown>');
});
